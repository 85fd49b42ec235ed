package server

import (
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// codecState is what the test reads from a loop's codec.
type codecState struct {
	inCap, outCap int
	flags         connFlags
	inbound       bool
}

func inspectCodec(t *testing.T, srv *Server, c *Conn) codecState {
	t.Helper()
	ch := make(chan codecState, 1)
	if err := srv.Execute(c, func() {
		z := &c.loop.z
		ch <- codecState{inCap: cap(z.in), outCap: cap(z.out.b), flags: c.flags, inbound: c.in != nil}
	}); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	select {
	case s := <-ch:
		return s
	case <-time.After(ioTimeout):
		t.Fatal("Execute did not run")
	}
	return codecState{}
}

// TestCompressedIdleConnectionsHoldNoState has connections exchange large
// fragmented compressed messages and go quiet: none keeps inbound state,
// the only trace of the extension in a Conn is its flag bit, and the
// loop's shared buffers shrink back to what a loop may keep.
func TestCompressedIdleConnectionsHoldNoState(t *testing.T) {
	const n = 20
	h := recordingEcho{opened: make(chan *Conn, n)}
	srv := startServer(t, Config{Routes: map[string]Handler{"/echo": h}, Compression: true, Loops: 2})
	for i := range n {
		c := upgradeConf(t, srv, true)
		conn := <-h.opened
		// Sixteen symbols: deflate halves it, so both the inflated and
		// the deflated message are larger than a loop keeps.
		msg := binaryPayload(200<<10+i, uint64(i))
		for j := range msg {
			msg[j] &= 0x0f
		}
		z := deflated(msg)
		cut := len(z) / 3
		c.write(mfz(false, ws.OpBinary, z[:cut]))
		c.write(mf(true, ws.OpContinuation, z[cut:]))
		hdr, p := readConfFrame(t, c, true)
		if hdr.OpCode != ws.OpBinary || !hdr.Rsv1() || string(p) != string(msg) {
			t.Fatalf("connection %d: echo op %v compressed %v, %d bytes", i, hdr.OpCode, hdr.Rsv1(), len(p))
		}
		_ = c.conn.SetDeadline(time.Time{})
		s := inspectCodec(t, srv, conn)
		if s.inbound || s.flags != flagDeflate {
			t.Fatalf("connection %d: inbound %v, flags %b; want none and only the deflate flag", i, s.inbound, s.flags)
		}
		if s.inCap > maxKeptBuffer || s.outCap > maxKeptBuffer {
			t.Fatalf("loop keeps %d bytes of inflate and %d of deflate buffer; bound %d", s.inCap, s.outCap, maxKeptBuffer)
		}
	}
}
