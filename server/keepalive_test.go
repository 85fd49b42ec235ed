package server

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
)

func keepaliveConfig() Config {
	return Config{PingInterval: 100 * time.Millisecond, IdleTimeout: 400 * time.Millisecond}
}

// TestKeepaliveAnsweredPingsKeepConnectionOpen has a gorilla client that
// sends nothing but answers the server's pings. It receives pings until
// well past IdleTimeout (each ping follows at least PingInterval of
// silence, so six of them span more than 500 ms) and is still connected.
func TestKeepaliveAnsweredPingsKeepConnectionOpen(t *testing.T) {
	srv := startServer(t, keepaliveConfig())
	c := dialGorilla(t, srv, nil)
	_ = c.SetReadDeadline(time.Time{})
	var pings atomic.Int64
	c.SetPingHandler(func(appData string) error {
		pings.Add(1)
		return c.WriteControl(gorilla.PongMessage, []byte(appData), time.Now().Add(ioTimeout))
	})
	msgs := make(chan []byte, 1)
	readErr := make(chan error, 1)
	go func() {
		for {
			_, p, err := c.ReadMessage()
			if err != nil {
				readErr <- err
				return
			}
			msgs <- p
		}
	}()

	const wantPings = 6
	waitFor(t, "pings", ioTimeout, func() bool {
		select {
		case err := <-readErr:
			t.Fatalf("connection ended after %d pings: %v", pings.Load(), err)
		default:
		}
		return pings.Load() >= wantPings
	})
	if err := c.WriteMessage(gorilla.TextMessage, []byte("still here")); err != nil {
		t.Fatalf("write: %v", err)
	}
	select {
	case p := <-msgs:
		if !bytes.Equal(p, []byte("still here")) {
			t.Fatalf("echo %q", p)
		}
	case err := <-readErr:
		t.Fatalf("read: %v", err)
	case <-time.After(ioTimeout):
		t.Fatal("no echo")
	}
	st := srv.Stats()
	if st.IdleTimeouts != 0 || st.Open != 1 {
		t.Fatalf("IdleTimeouts = %d, Open = %d; want 0, 1", st.IdleTimeouts, st.Open)
	}
	if st.PingsSent < wantPings {
		t.Fatalf("PingsSent = %d, want at least %d", st.PingsSent, wantPings)
	}
}

// TestKeepaliveSilentPeerClosed has a raw client that reads but never
// answers: it is pinged, then closed with 1001 after IdleTimeout.
func TestKeepaliveSilentPeerClosed(t *testing.T) {
	srv := startServer(t, keepaliveConfig())
	c := upgradeRaw(t, srv, "/echo")
	h, p := c.readFrame()
	if h.OpCode != ws.OpPing || len(p) != 0 {
		t.Fatalf("first frame op=%v payload %q, want an empty ping", h.OpCode, p)
	}
	c.expectClose(ws.StatusGoingAway)
	waitFor(t, "the idle timeout to be counted", ioTimeout, func() bool {
		st := srv.Stats()
		return st.IdleTimeouts == 1 && st.Open == 0
	})
}

// TestKeepalivePingsFollowPingInterval has a client answer every ping
// while IdleTimeout is an hour: the server must go on pinging after each
// PingInterval of silence, not wait for the idle deadline before the next
// ping.
func TestKeepalivePingsFollowPingInterval(t *testing.T) {
	srv := startServer(t, Config{PingInterval: 50 * time.Millisecond, IdleTimeout: time.Hour})
	c := upgradeRaw(t, srv, "/echo")
	const pings = 10
	for i := range pings {
		h, p := c.readFrame()
		if h.OpCode != ws.OpPing {
			t.Fatalf("frame %d: op=%v %q, want a ping", i, h.OpCode, p)
		}
		c.send(true, ws.OpPong, p)
	}
	waitFor(t, "the ping count", ioTimeout, func() bool { return srv.Stats().PingsSent >= pings })
	if st := srv.Stats(); st.IdleTimeouts != 0 || st.Open != 1 {
		t.Fatalf("IdleTimeouts = %d, Open = %d; want 0, 1", st.IdleTimeouts, st.Open)
	}
}

// TestKeepalivePingsWithoutIdleTimeout: with IdleTimeout disabled a peer
// that never answers goes on being pinged and is never closed for it.
func TestKeepalivePingsWithoutIdleTimeout(t *testing.T) {
	srv := startServer(t, Config{PingInterval: 50 * time.Millisecond, IdleTimeout: -1})
	c := upgradeRaw(t, srv, "/echo")
	for i := range 4 {
		if h, p := c.readFrame(); h.OpCode != ws.OpPing {
			t.Fatalf("frame %d: op=%v %q, want a ping", i, h.OpCode, p)
		}
	}
	c.send(true, ws.OpText, []byte("still open"))
	for {
		h, p := c.readFrame()
		if h.OpCode == ws.OpPing {
			continue
		}
		if h.OpCode != ws.OpText || string(p) != "still open" {
			t.Fatalf("frame op=%v %q, want the echo", h.OpCode, p)
		}
		break
	}
	if st := srv.Stats(); st.IdleTimeouts != 0 || st.Open != 1 {
		t.Fatalf("IdleTimeouts = %d, Open = %d; want 0, 1", st.IdleTimeouts, st.Open)
	}
}
