// Command peer-nbio is the nbio benchmark peer: nbhttp's event-loop HTTP
// engine and its websocket upgrader, messages handled in callbacks, and a
// publish written to each /ws connection in turn with Conn.WriteMessage,
// which queues in nbio's per-connection write buffer rather than block.
// See package bench/peer for what every peer serves.
//
//	peer-nbio --addr 127.0.0.1:18402 --api-addr 127.0.0.1:18403
package main

import (
	"net/http"
	"os"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"

	"github.com/myriadws/myriad/bench/peer"
)

func main() {
	os.Exit(peer.Main("peer-nbio", os.Args[1:], os.Stdout, os.Stderr, serve))
}

func serve(a peer.Addrs) (peer.Fanout, error) {
	var subs peer.Set[*websocket.Conn]

	echo := websocket.NewUpgrader()
	echo.OnMessage(func(c *websocket.Conn, t websocket.MessageType, m []byte) {
		_ = c.WriteMessage(t, m)
	})
	sub := websocket.NewUpgrader()
	sub.OnOpen(subs.Add)
	sub.OnClose(func(c *websocket.Conn, _ error) { subs.Remove(c) })

	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		_, _ = echo.Upgrade(w, r, nil)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		_, _ = sub.Upgrade(w, r, nil)
	})
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network:                 "tcp",
		Addrs:                   []string{a.WS},
		Handler:                 mux,
		ReleaseWebsocketPayload: true,
	})
	if err := engine.Start(); err != nil {
		return nil, err
	}
	return func(payload []byte) int {
		n := 0
		for _, c := range subs.Snapshot(nil) {
			if c.WriteMessage(websocket.TextMessage, payload) == nil {
				n++
			}
		}
		return n
	}, nil
}
