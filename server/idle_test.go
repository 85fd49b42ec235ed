package server

import (
	"testing"
	"time"
	"unsafe"

	"github.com/gobwas/ws"
)

// recordingEcho is Echo that hands each opened Conn to the test.
type recordingEcho struct {
	Echo
	opened chan *Conn
}

func (h recordingEcho) OnOpen(c *Conn) { h.opened <- c }

// idleState is what the test reads from a Conn on its own loop.
type idleState struct {
	open      bool
	inbound   bool
	scheduled bool
	freeList  int
}

// inspect reads c's state on c's loop.
func inspect(t *testing.T, srv *Server, c *Conn) idleState {
	t.Helper()
	ch := make(chan idleState, 1)
	err := srv.Execute(c, func() {
		ch <- idleState{
			open:      c.state == stateOpen,
			inbound:   c.in != nil,
			scheduled: c.slot != noSlot,
			freeList:  len(c.loop.free),
		}
	})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	select {
	case s := <-ch:
		return s
	case <-time.After(ioTimeout):
		t.Fatal("Execute did not run")
	}
	return idleState{}
}

// TestIdleConnectionsHoldNoInboundState has 200 connections each exchange
// a fragmented message, which needs inbound state while it is assembled,
// and then go quiet: none may keep that state, and each must stay in its
// loop's timing wheel. A connection left in the middle of a frame is the
// control that shows the check can see inbound state.
func TestIdleConnectionsHoldNoInboundState(t *testing.T) {
	const n = 200
	h := recordingEcho{opened: make(chan *Conn, n+1)}
	srv := startServer(t, Config{Routes: map[string]Handler{"/echo": h}})
	var conns []*Conn
	for i := range n {
		c := upgradeRaw(t, srv, "/echo")
		conns = append(conns, <-h.opened)
		msg := textPayload(100 + i)
		// Two fragments in two writes, the second split inside its
		// payload, so the message is assembled across reads.
		c.write(c.frameBytes(false, ws.OpText, msg[:50]))
		second := c.frameBytes(true, ws.OpContinuation, msg[50:])
		c.write(second[:len(second)/2])
		c.write(second[len(second)/2:])
		c.expectMessage(ws.OpText, msg)
		_ = c.conn.SetDeadline(time.Time{}) // stays open, idle, until the test ends
	}

	partial := upgradeRaw(t, srv, "/echo")
	partialConn := <-h.opened
	partial.write(partial.frameBytes(true, ws.OpBinary, make([]byte, 100))[:20])
	waitFor(t, "the partial frame to arrive", ioTimeout, func() bool { return inspect(t, srv, partialConn).inbound })

	for i, c := range conns {
		s := inspect(t, srv, c)
		if !s.open || s.inbound || !s.scheduled {
			t.Fatalf("connection %d: %+v; want open, no inbound state, scheduled", i, s)
		}
		if s.freeList > maxFreeInbound {
			t.Fatalf("loop keeps %d free inbound states, bound %d", s.freeList, maxFreeInbound)
		}
	}
	if st := srv.Stats(); st.Upgraded != n+1 || st.MessagesIn != n {
		t.Fatalf("Upgraded = %d, MessagesIn = %d; want %d, %d", st.Upgraded, st.MessagesIn, n+1, n)
	}
}

// TestConnSize pins the per-connection session at the 64 bytes its
// documentation promises: a million of them stay resident.
func TestConnSize(t *testing.T) {
	if size := unsafe.Sizeof(Conn{}); size > 64 {
		t.Fatalf("Conn is %d bytes, want at most 64", size)
	}
}
