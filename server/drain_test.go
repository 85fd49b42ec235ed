package server

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
)

// drainResult is what Drain returned.
type drainResult struct {
	left int64
	err  error
}

func startDrain(srv *Server) <-chan drainResult {
	ch := make(chan drainResult, 1)
	go func() {
		left, err := srv.Drain(context.Background())
		ch <- drainResult{left, err}
	}()
	return ch
}

func awaitDrain(t *testing.T, srv *Server, ch <-chan drainResult) drainResult {
	t.Helper()
	var r drainResult
	select {
	case r = <-ch:
	case <-time.After(ioTimeout):
		t.Fatal("Drain did not return")
	}
	if r.err != nil {
		t.Fatalf("Drain: %v", r.err)
	}
	select {
	case <-srv.Done():
	case <-time.After(ioTimeout):
		t.Fatal("Serve did not return after Drain")
	}
	return r
}

// TestDrain connects gorilla clients and one client that has not sent its
// request yet, then drains: each WebSocket client is sent Close 1001, the
// handshaking one gets 503, and Serve returns.
func TestDrain(t *testing.T) {
	const clients = 5
	srv := startServer(t, Config{DrainTimeout: time.Second, CloseTimeout: 200 * time.Millisecond})
	codes := make(chan int, clients)
	for range clients {
		c := dialGorilla(t, srv, nil)
		go func() {
			_, _, err := c.ReadMessage()
			var ce *gorilla.CloseError
			if errors.As(err, &ce) {
				codes <- ce.Code
			} else {
				codes <- -1
			}
		}()
	}
	pending := dialRaw(t, srv)
	waitFor(t, "all connections to be accepted", ioTimeout, func() bool { return srv.Stats().Open == clients+1 })

	done := startDrain(srv)
	for range clients {
		select {
		case code := <-codes:
			if code != gorilla.CloseGoingAway {
				t.Fatalf("client closed with %d, want %d", code, gorilla.CloseGoingAway)
			}
		case <-time.After(ioTimeout):
			t.Fatal("a client got no close frame")
		}
	}
	pending.expectStatus(http.StatusServiceUnavailable)
	r := awaitDrain(t, srv, done)
	t.Logf("Drain left %d connections; stats %+v", r.left, srv.Stats())
}

// TestDrainSilentClients drains clients that never answer the close frame:
// each gets Close 1001 and then the server closes the TCP connection.
func TestDrainSilentClients(t *testing.T) {
	const clients = 3
	srv := startServer(t, Config{DrainTimeout: time.Second, CloseTimeout: 200 * time.Millisecond})
	var cs []*rawClient
	for range clients {
		cs = append(cs, upgradeRaw(t, srv, "/echo"))
	}
	done := startDrain(srv)
	for _, c := range cs {
		c.expectClose(ws.StatusGoingAway)
	}
	awaitDrain(t, srv, done)
}

// TestDrainRefusesUpgrades starts a drain that cannot finish while a
// client stays connected (its close frame is not due for many seconds),
// checks that a new upgrade is refused with 503, and lets the drain finish
// by disconnecting the client.
func TestDrainRefusesUpgrades(t *testing.T) {
	srv := startServer(t, Config{DrainTimeout: time.Minute, CloseTimeout: time.Minute})
	held := upgradeRaw(t, srv, "/echo")
	done := startDrain(srv)
	waitFor(t, "the drain to start", ioTimeout, func() bool { return srv.Stats().Draining })

	c := dialRaw(t, srv)
	c.write([]byte(upgradeRequest("/echo", sampleKey)))
	resp := c.expectStatus(http.StatusServiceUnavailable)
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}

	_ = held.conn.Close()
	if r := awaitDrain(t, srv, done); r.left != 0 {
		t.Fatalf("Drain left %d connections, want 0", r.left)
	}
}

// TestDrainWithoutKeepalive drains connections while pings and idle
// timeouts are disabled: they are still found and sent Close 1001.
func TestDrainWithoutKeepalive(t *testing.T) {
	srv := startServer(t, Config{PingInterval: -1, IdleTimeout: -1, DrainTimeout: time.Second, CloseTimeout: 200 * time.Millisecond})
	var cs []*rawClient
	for range 3 {
		cs = append(cs, upgradeRaw(t, srv, "/echo"))
	}
	done := startDrain(srv)
	for _, c := range cs {
		c.expectClose(ws.StatusGoingAway)
	}
	awaitDrain(t, srv, done)
}
