package server

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
)

// recorder is a Handler that records what the reactor hands it: the
// Authorizer's value as OnOpen sees it, whether it is gone afterwards,
// and each close.
type recorder struct {
	mu      sync.Mutex
	opened  []any
	later   []any // Conn.Open seen in OnMessage
	closes  []CloseInfo
	conns   chan *Conn
	refuse  bool
	authVal string
}

func (r *recorder) Authorize(c *Conn, req *UpgradeRequest) (any, error) {
	if r.refuse {
		return "never seen", &StatusError{Status: 403, Reason: "no"}
	}
	return r.authVal + req.RawQuery(), nil
}

func (r *recorder) OnOpen(c *Conn) {
	r.mu.Lock()
	r.opened = append(r.opened, c.Open())
	r.mu.Unlock()
	if r.conns != nil {
		r.conns <- c
	}
}

func (r *recorder) OnMessage(c *Conn, op ws.OpCode, data []byte) {
	r.mu.Lock()
	r.later = append(r.later, c.Open())
	r.mu.Unlock()
	_ = c.Send(op, data)
}

func (r *recorder) OnClose(c *Conn, info CloseInfo) {
	r.mu.Lock()
	r.closes = append(r.closes, info)
	r.mu.Unlock()
}

func (r *recorder) snapshot() (opened, later []any, closes []CloseInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.opened...), append([]any(nil), r.later...), append([]CloseInfo(nil), r.closes...)
}

// TestOpenValue checks that the Authorizer's value reaches OnOpen through
// Conn.Open, is gone afterwards, and that a refused upgrade opens nothing.
func TestOpenValue(t *testing.T) {
	rec := &recorder{authVal: "user:"}
	srv := startServer(t, Config{Routes: map[string]Handler{"/r": rec}})
	c := dialRaw(t, srv)
	key := newKey(t)
	c.write([]byte(upgradeRequest("/r?alice", key)))
	c.expectSwitching(key)
	c.send(true, ws.OpText, []byte("hi"))
	c.expectMessage(ws.OpText, []byte("hi"))

	opened, later, _ := rec.snapshot()
	if len(opened) != 1 || opened[0] != "user:alice" {
		t.Fatalf("OnOpen saw %v, want [user:alice]", opened)
	}
	if len(later) != 1 || later[0] != nil {
		t.Fatalf("OnMessage saw Open() = %v, want nil", later)
	}

	refusing := &recorder{refuse: true}
	srv2 := startServer(t, Config{Routes: map[string]Handler{"/r": refusing}})
	c2 := dialRaw(t, srv2)
	c2.write([]byte(upgradeRequest("/r", newKey(t))))
	c2.expectStatus(403)
	if opened, _, closes := refusing.snapshot(); len(opened) != 0 || len(closes) != 0 {
		t.Fatalf("refused upgrade: OnOpen %v OnClose %v, want neither", opened, closes)
	}
}

// TestCloseInfo checks the reason and code OnClose receives for the ways
// an upgraded connection ends.
func TestCloseInfo(t *testing.T) {
	cases := []struct {
		name   string
		end    func(c *rawClient)
		reason CloseReason
		code   ws.StatusCode
	}{
		{"peer close frame", func(c *rawClient) {
			c.send(true, ws.OpClose, []byte{0x03, 0xe8}) // 1000
			c.expectClose(ws.StatusNormalClosure)
		}, ReasonPeerClose, ws.StatusNormalClosure},
		{"peer vanishes", func(c *rawClient) { _ = c.conn.Close() }, ReasonPeerGone, 0},
		{"protocol error", func(c *rawClient) {
			c.write([]byte{0x81, 0x02, 'h', 'i'}) // unmasked client frame
			c.expectClose(ws.StatusProtocolError)
		}, ReasonProtocol, ws.StatusProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			srv := startServer(t, Config{Routes: map[string]Handler{"/r": rec}})
			tc.end(upgradeRaw(t, srv, "/r"))
			waitFor(t, "OnClose", ioTimeout, func() bool { _, _, cl := rec.snapshot(); return len(cl) == 1 })
			_, _, closes := rec.snapshot()
			if got := closes[0]; got.Reason != tc.reason || got.Code != tc.code {
				t.Fatalf("CloseInfo %v/%d (%v), want %v/%d", got.Reason, got.Code, got.Err, tc.reason, tc.code)
			}
		})
	}
}

// TestPostOrderAndBounds posts from several goroutines and checks that
// each goroutine's functions run in order on the loop, that a full queue
// refuses with ErrBusy (counted), and that a loop that has served no
// connection refuses with ErrUnbound.
func TestPostOrderAndBounds(t *testing.T) {
	rec := &recorder{conns: make(chan *Conn, 1)}
	srv := startServer(t, Config{Loops: 2, MaxPosted: 64, Routes: map[string]Handler{"/r": rec}})
	if n := len(srv.Loops()); n != 2 {
		t.Fatalf("Loops() has %d loops, want 2", n)
	}
	for i, lp := range srv.Loops() {
		if lp.Index() != i {
			t.Fatalf("Loops()[%d].Index() = %d", i, lp.Index())
		}
	}
	for _, lp := range srv.Loops() {
		if err := lp.Post(func() {}); !errors.Is(err, ErrUnbound) {
			t.Fatalf("Post on a loop with no connection: %v, want ErrUnbound", err)
		}
	}
	upgradeRaw(t, srv, "/r")
	lp := (<-rec.conns).Loop()

	// Order: 4 goroutines post 500 functions each, retrying on ErrBusy.
	var mu sync.Mutex
	last := make([]int, 4)
	bad := 0
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= 500; i++ {
				fn := func() {
					mu.Lock()
					if last[g] != i-1 {
						bad++
					}
					last[g] = i
					mu.Unlock()
				}
				for errors.Is(lp.Post(fn), ErrBusy) {
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, "every posted function to run", ioTimeout, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return last[0] == 500 && last[1] == 500 && last[2] == 500 && last[3] == 500
	})
	if bad != 0 {
		t.Fatalf("%d functions ran out of order", bad)
	}

	// Bound: with the loop held, MaxPosted functions queue and the next
	// is refused.
	hold, held := make(chan struct{}), make(chan struct{})
	if err := lp.Post(func() { close(held); <-hold }); err != nil {
		t.Fatal(err)
	}
	<-held
	busyBefore := srv.Stats().PostBusy
	for i := range 64 {
		if err := lp.Post(func() {}); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if err := lp.Post(func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("post past MaxPosted: %v, want ErrBusy", err)
	}
	close(hold)
	if st := srv.Stats(); st.PostBusy != busyBefore+1 {
		t.Fatalf("PostBusy %d, want %d", st.PostBusy, busyBefore+1)
	}
	waitFor(t, "the queue to drain", ioTimeout, func() bool { return lp.Stats().Queued == 0 })
}

// TestSendPrepared writes one prepared frame to plain and deflate
// clients: each reads the same message, the deflate client's compressed.
func TestSendPrepared(t *testing.T) {
	rec := &recorder{conns: make(chan *Conn, 2)}
	srv := startServer(t, Config{Compression: true, Routes: map[string]Handler{"/r": rec}})
	msg := []byte(strings.Repeat("prepared once, written many times; ", 40))
	p := Prepare(ws.OpText, msg)
	var clients []*gorilla.Conn
	for _, compress := range []bool{false, true} {
		d := gorilla.Dialer{HandshakeTimeout: ioTimeout, EnableCompression: compress}
		c, _, err := d.Dial(wsURL(srv, "/r"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		clients = append(clients, c)
		conn := <-rec.conns
		done := make(chan error, 1)
		if err := conn.Loop().Post(func() { done <- conn.SendPrepared(p, SlowClose) }); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("SendPrepared: %v", err)
		}
	}
	for i, c := range clients {
		op, got, err := c.ReadMessage()
		if err != nil || op != gorilla.TextMessage || string(got) != string(msg) {
			t.Fatalf("client %d: op %d err %v, %d bytes", i, op, err, len(got))
		}
	}
	if st := srv.Stats(); st.CompressedOut != 1 || st.MessagesOut != 2 {
		t.Fatalf("CompressedOut %d MessagesOut %d, want 1 and 2", st.CompressedOut, st.MessagesOut)
	}
}

// TestPostAfterClose checks that a stopped server refuses posts with
// ErrStopped instead of queueing work that would never run.
func TestPostAfterClose(t *testing.T) {
	rec := &recorder{conns: make(chan *Conn, 1)}
	srv := startServer(t, Config{Loops: 1, Routes: map[string]Handler{"/r": rec}})
	upgradeRaw(t, srv, "/r")
	lp := (<-rec.conns).Loop()
	ran := make(chan struct{})
	if err := lp.Post(func() { close(ran) }); err != nil {
		t.Fatalf("Post: %v", err)
	}
	<-ran
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lp.Post(func() {}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Post after Close: %v, want ErrStopped", err)
	}
}
