package server

import (
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// pushUntil posts a SlowDrop send of fr to each conn, over and over,
// until cond holds (it fails the test if cond never does).
func pushUntil(t *testing.T, srv *Server, conns []*Conn, fr *PreparedFrame, what string, cond func() bool) {
	t.Helper()
	waitFor(t, what, ioTimeout, func() bool {
		for _, c := range conns {
			_ = c.Loop().Post(func() { _ = c.SendPrepared(fr, SlowDrop) })
		}
		return cond()
	})
}

// nonReader upgrades a client that never reads, with a small receive
// buffer so that its queue on the server fills quickly.
func nonReader(t *testing.T, srv *Server, h pushHandler) (*rawClient, *Conn) {
	t.Helper()
	c := upgradeRaw(t, srv, "/push")
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	select {
	case sc := <-h.opened:
		return c, sc
	case <-time.After(ioTimeout):
		t.Fatal("OnOpen did not run")
	}
	return nil, nil
}

// TestSlowTimeoutUnderDrop has a client that never reads receive sends
// under SlowDrop: they are dropped once its queue is full, and after
// SlowTimeout at the limit it is closed with 1008, where before it held
// MaxOutbound bytes for as long as it stayed connected.
func TestSlowTimeoutUnderDrop(t *testing.T) {
	h := pushHandler{opened: make(chan *Conn, 4), closed: make(chan *Conn, 4)}
	cfg := slowConfig()
	cfg.SlowTimeout = 300 * time.Millisecond
	cfg.PingInterval, cfg.IdleTimeout = -1, -1
	cfg.Routes = map[string]Handler{"/push": h}
	srv := startServer(t, cfg)
	c, sc := nonReader(t, srv, h)
	fr := Prepare(ws.OpBinary, binaryPayload(8<<10, 1))
	pushUntil(t, srv, []*Conn{sc}, fr, "the stuck consumer to be closed", func() bool { return srv.Stats().SlowTimeouts == 1 })
	waitFor(t, "the connection to close", ioTimeout, func() bool { return srv.Stats().Open == 0 })
	if st := srv.Stats(); st.Dropped == 0 || st.SlowConsumers != 0 {
		t.Fatalf("Dropped = %d, SlowConsumers = %d: want drops and no SlowClose", st.Dropped, st.SlowConsumers)
	}
	c.expectEOFAfterData()
}

// TestMaxBufferedShedsLargest fills the queues of clients that never read
// past a small process-wide budget: the largest holders are closed with
// 1013 until the total is back under it, while a client that reads keeps
// its connection.
func TestMaxBufferedShedsLargest(t *testing.T) {
	const budget = 256 << 10
	h := pushHandler{opened: make(chan *Conn, 8), closed: make(chan *Conn, 8)}
	cfg := slowConfig()
	cfg.MaxOutbound = 128 << 10
	cfg.MaxBuffered = budget
	cfg.SlowTimeout = -1
	cfg.PingInterval, cfg.IdleTimeout = -1, -1
	cfg.HandshakeTimeout = 100 * time.Millisecond // ticks every 12 ms
	cfg.Routes = map[string]Handler{"/push": h}
	srv := startServer(t, cfg)
	var conns []*Conn
	for range 4 {
		_, sc := nonReader(t, srv, h)
		conns = append(conns, sc)
	}
	reader := upgradeRaw(t, srv, "/push")
	readerConn := <-h.opened
	fr := Prepare(ws.OpBinary, binaryPayload(8<<10, 2))
	pushUntil(t, srv, conns, fr, "the largest holders to be shed", func() bool { return srv.Stats().OverBudget > 0 })
	// A write that would pass the budget is refused, so the total never
	// goes over it; wait for the shed connections to be gone.
	waitFor(t, "the shed connections to close and the total to be under the budget", ioTimeout, func() bool {
		st := srv.Stats()
		return st.Open < 5 && st.Buffered <= budget
	})
	if st := srv.Stats(); st.MaxBuffered != budget || st.Open == 0 || st.Open == 5 {
		t.Fatalf("MaxBuffered = %d, Open = %d: want %d and some, not all, connections left", st.MaxBuffered, st.Open, budget)
	}
	// The reader held nothing, so it was not shed and is still served.
	if err := readerConn.Loop().Post(func() { _ = readerConn.SendPrepared(Prepare(ws.OpText, []byte("still here")), SlowClose) }); err != nil {
		t.Fatal(err)
	}
	reader.expectMessage(ws.OpText, []byte("still here"))
}
