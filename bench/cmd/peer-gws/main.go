// Command peer-gws is the gws benchmark peer: gws's upgrader on net/http
// with one ReadLoop goroutine per connection, and a publish sent through a
// gws.Broadcaster, which encodes the frame once and queues it on each
// connection's asynchronous writer. See package bench/peer for what every
// peer serves.
//
//	peer-gws --addr 127.0.0.1:18402 --api-addr 127.0.0.1:18403
package main

import (
	"net"
	"net/http"
	"os"
	"time"

	"github.com/lxzan/gws"

	"github.com/myriadws/myriad/bench/peer"
)

func main() {
	os.Exit(peer.Main("peer-gws", os.Args[1:], os.Stdout, os.Stderr, serve))
}

// echoHandler writes every message back with its opcode.
type echoHandler struct{ gws.BuiltinEventHandler }

// OnMessage is called on the connection's ReadLoop goroutine.
func (echoHandler) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	_ = c.WriteMessage(m.Opcode, m.Bytes())
}

// subHandler keeps every open /ws connection in subs; messages from
// subscribers are read and dropped.
type subHandler struct {
	gws.BuiltinEventHandler
	subs *peer.Set[*gws.Conn]
}

// OnOpen is called on the upgrading goroutine.
func (h subHandler) OnOpen(c *gws.Conn) { h.subs.Add(c) }

// OnClose is called on the connection's ReadLoop goroutine.
func (h subHandler) OnClose(c *gws.Conn, _ error) { h.subs.Remove(c) }

// OnMessage is called on the connection's ReadLoop goroutine.
func (subHandler) OnMessage(_ *gws.Conn, m *gws.Message) { _ = m.Close() }

func serve(a peer.Addrs) (peer.Fanout, error) {
	ln, err := net.Listen("tcp", a.WS)
	if err != nil {
		return nil, err
	}
	subs := &peer.Set[*gws.Conn]{}
	echo := gws.NewUpgrader(echoHandler{}, nil)
	sub := gws.NewUpgrader(subHandler{subs: subs}, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if c, err := echo.Upgrade(w, r); err == nil {
			go c.ReadLoop() // as gws documents: the handler returns, the read loop owns the connection
		}
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if c, err := sub.Upgrade(w, r); err == nil {
			go c.ReadLoop() // as gws documents: the handler returns, the read loop owns the connection
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func(payload []byte) int {
		b := gws.NewBroadcaster(gws.OpcodeText, payload)
		defer b.Close()
		n := 0
		for _, c := range subs.Snapshot(nil) {
			if b.Broadcast(c) == nil {
				n++
			}
		}
		return n
	}, nil
}
