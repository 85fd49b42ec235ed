// Command peer-gorilla is the gorilla/websocket benchmark peer: one
// goroutine per connection reading, and on /ws a second one writing from a
// buffered channel, the shape of gorilla's own hub example. See package
// bench/peer for what every peer serves.
//
//	peer-gorilla --addr 127.0.0.1:18402 --api-addr 127.0.0.1:18403
package main

import (
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gorilla/websocket"

	"github.com/myriadws/myriad/bench/peer"
)

// sendQueue is how many messages a /ws subscriber may have waiting for its
// writer; a publish finding it full closes the subscriber, as a hub must
// not wait for one slow reader.
const sendQueue = 64

func main() {
	os.Exit(peer.Main("peer-gorilla", os.Args[1:], os.Stdout, os.Stderr, serve))
}

// subscriber is one /ws connection and its outbound queue. done is closed
// when the reader sees the connection end, which stops the writer; send is
// never closed, so a publish racing with the end cannot panic.
type subscriber struct {
	c    *websocket.Conn
	send chan []byte
	done chan struct{}
}

func serve(a peer.Addrs) (peer.Fanout, error) {
	ln, err := net.Listen("tcp", a.WS)
	if err != nil {
		return nil, err
	}
	var subs peer.Set[*subscriber]
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			t, m, err := c.ReadMessage()
			if err != nil || c.WriteMessage(t, m) != nil {
				return
			}
		}
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s := &subscriber{c: c, send: make(chan []byte, sendQueue), done: make(chan struct{})}
		subs.Add(s)
		go s.write()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				break
			}
		}
		subs.Remove(s)
		close(s.done)
		_ = c.Close()
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func(payload []byte) int {
		n := 0
		for _, s := range subs.Snapshot(nil) {
			if s.offer(payload) {
				n++
			}
		}
		return n
	}, nil
}

// offer queues payload for s without waiting and reports whether it was
// handed over; a full queue closes s.
func (s *subscriber) offer(payload []byte) bool {
	select {
	case s.send <- payload:
		return true
	case <-s.done:
		return false
	default:
		_ = s.c.Close()
		return false
	}
}

// write sends queued messages until the connection ends or a write fails
// (which closes it, ending the reader too).
func (s *subscriber) write() {
	for {
		select {
		case m := <-s.send:
			if s.c.WriteMessage(websocket.TextMessage, m) != nil {
				_ = s.c.Close()
				return
			}
		case <-s.done:
			return
		}
	}
}
