package server_test

import (
	"encoding/binary"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// burst answers any message with n binary messages of size bytes, each
// carrying its sequence number and a pattern made from it, alternately
// through Send and SendPrepared, and records how much was left queued
// after the last one and whether any send failed.
type burst struct {
	n, size int
	queued  atomic.Int64
	failed  atomic.Int64
	done    atomic.Bool
}

func burstPayload(b []byte, i int) {
	binary.BigEndian.PutUint32(b, uint32(i))
	for k := 4; k < len(b); k++ {
		b[k] = byte(i + k)
	}
}

func (h *burst) OnOpen(*server.Conn)                    {}
func (h *burst) OnClose(*server.Conn, server.CloseInfo) {}
func (h *burst) OnMessage(c *server.Conn, _ ws.OpCode, _ []byte) {
	b := make([]byte, h.size)
	for i := range h.n {
		burstPayload(b, i)
		var err error
		if i%2 == 0 {
			err = c.Send(ws.OpBinary, b)
		} else {
			err = c.SendPrepared(server.Prepare(ws.OpBinary, b), server.SlowClose)
		}
		if err != nil {
			h.failed.Add(1)
		}
	}
	h.queued.Store(int64(c.Buffered()))
	h.done.Store(true)
}

// TestSendQueuesWhatTheKernelRefuses writes far more to a client that is
// not reading than its socket buffers take: the writes that go straight
// to the kernel and the rest, which the loop queues once the socket is
// full (some of them cut in the middle of a frame), must reach the
// client complete and in order.
func TestSendQueuesWhatTheKernelRefuses(t *testing.T) {
	h := &burst{n: 24000, size: 1000}
	_, addr := servertest.Start(t, server.Config{
		Loops:       1,
		MaxOutbound: 256 << 20,
		MaxBuffered: 512 << 20,
		Routes:      map[string]server.Handler{"/burst": h},
	})
	cl := servertest.Dial(t, addr, "/burst")
	cl.Send(true, ws.OpText, []byte("go"))
	servertest.Eventually(t, h.done.Load, "the burst was sent")
	if f := h.failed.Load(); f != 0 {
		t.Fatalf("%d sends failed", f)
	}
	if h.queued.Load() == 0 {
		t.Fatal("nothing was queued: the burst did not outgrow the socket buffers, so the queueing path went untested")
	}
	want := make([]byte, h.size)
	for i := range h.n {
		hd, got := cl.ReadFrame()
		if hd.OpCode != ws.OpBinary || len(got) != h.size {
			t.Fatalf("message %d: opcode %v, %d bytes", i, hd.OpCode, len(got))
		}
		burstPayload(want, i)
		if string(got) != string(want) {
			t.Fatalf("message %d: got sequence %d, content differs", i, binary.BigEndian.Uint32(got))
		}
	}
}
