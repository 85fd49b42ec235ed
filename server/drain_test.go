package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
)

// drainResult is what Drain returned.
type drainResult struct {
	DrainReport
	err error
}

func startDrain(srv *Server) <-chan drainResult {
	ch := make(chan drainResult, 1)
	go func() {
		rep, err := srv.Drain(context.Background())
		ch <- drainResult{rep, err}
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
	t.Logf("Drain left %d connections; stats %+v", r.Left, srv.Stats())
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
// client stays connected (it never answers its close frame),
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
	if r := awaitDrain(t, srv, done); r.Left != 0 {
		t.Fatalf("Drain left %d connections, want 0", r.Left)
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

// TestDrainFewConnectionsFinishesAtOnce drains one connection under a long
// DrainTimeout: its Close 1001 goes out at once instead of at the end of
// the spread, and the drain ends because the connection closed, not
// because the timeout ran out.
func TestDrainFewConnectionsFinishesAtOnce(t *testing.T) {
	tests := []struct {
		name    string
		clients int
	}{
		{"one connection", 1},
		{"a full burst", drainBurst},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, Config{DrainTimeout: 10 * time.Second, CloseTimeout: 10 * time.Second})
			codes := make(chan int, tc.clients)
			for range tc.clients {
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
			waitFor(t, "all connections to be accepted", ioTimeout, func() bool { return srv.Stats().Open == int64(tc.clients) })
			r := awaitDrain(t, srv, startDrain(srv))
			for range tc.clients {
				if code := <-codes; code != gorilla.CloseGoingAway {
					t.Fatalf("client closed with %d, want %d", code, gorilla.CloseGoingAway)
				}
			}
			want := DrainReport{Connections: int64(tc.clients), Left: 0, TimedOut: false}
			if r.Connections != want.Connections || r.Left != want.Left || r.TimedOut != want.TimedOut {
				t.Fatalf("drain report %+v, want %+v", r.DrainReport, want)
			}
		})
	}
}

// TestDrainTarget checks the drain schedule: a burst at once, then the
// rest in proportion to the time elapsed, rounded up, all by the end.
func TestDrainTarget(t *testing.T) {
	tests := []struct {
		name            string
		n               int
		elapsed, spread int64
		want            int
	}{
		{"one connection at the start", 1, 0, 15000, 1},
		{"a burst at the start", drainBurst, 0, 15000, drainBurst},
		{"many at the start", 1000, 0, 15000, drainBurst},
		{"many one ms in", 1000, 1, 15000, drainBurst + 1},
		{"many half way", 1064, 7500, 15000, drainBurst + 500},
		{"many at the end", 1000, 15000, 15000, 1000},
		{"many past the end", 1000, 20000, 15000, 1000},
		{"no spread", 1000, 0, 0, 1000},
		{"clock went back", 1000, -5, 15000, drainBurst},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := drainTarget(tc.n, tc.elapsed, tc.spread); got != tc.want {
				t.Fatalf("drainTarget(%d, %d, %d) = %d, want %d", tc.n, tc.elapsed, tc.spread, got, tc.want)
			}
		})
	}
}

// TestDrainWaitsForLateReader drains a connection with a backlog that its
// client starts reading only after CloseTimeout has passed since the
// close frame was queued behind it. The client still gets every message
// and then Close 1001: a drain delivers what was sent before it, bounded
// by DrainTimeout, not by CloseTimeout counted from a close frame the
// peer could not have seen yet.
func TestDrainWaitsForLateReader(t *testing.T) {
	h := pushHandler{opened: make(chan *Conn, 1), closed: make(chan *Conn, 1)}
	cfg := slowConfig()
	cfg.MaxOutbound = 1 << 20
	cfg.DrainTimeout = 10 * time.Second
	cfg.Routes = map[string]Handler{"/push": h}
	srv := startServer(t, cfg)
	c := upgradeRaw(t, srv, "/push")
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	conn := <-h.opened
	const messages = 40
	msg := binaryPayload(8<<10, 7)
	sent := make(chan error, messages)
	for range messages {
		if err := srv.Execute(conn, func() { sent <- conn.Send(ws.OpBinary, msg) }); err != nil {
			t.Fatalf("Execute: %v", err)
		}
	}
	for range messages {
		if err := <-sent; err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	done := startDrain(srv)
	// The scenario, not a bound: the client is late past CloseTimeout.
	time.Sleep(3 * cfg.CloseTimeout)
	for i := range messages {
		h, _ := c.readFrame()
		if h.OpCode != ws.OpBinary {
			t.Fatalf("frame %d: opcode %v, want every message before the close", i, h.OpCode)
		}
	}
	c.expectClose(ws.StatusGoingAway)
	awaitDrain(t, srv, done)
}
