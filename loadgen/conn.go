package loadgen

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/myriadws/myriad/frame"
)

// Connection phases. A Conn moves forward only.
const (
	phaseHandshake uint8 = iota // enrolled, request written, waiting for 101
	phaseOpen                   // upgraded
	phaseClosing                // our close frame sent, waiting for the reply
	phaseClosed                 // OnClose has run
)

// Conn is one client connection: the only per-connection state the load
// generator keeps, stored in the gnet connection's context. It belongs to
// its event loop: every field and method may be used only from that loop,
// inside a ConnHandler callback or a function given to Session.Each.
//
// Seq, Expect, Next and Flags are for scenarios (the engine never touches
// them): for example a sequence number to send, the sequence number
// expected next from the server, the time of the next scheduled action, and
// a few bits of state.
type Conn struct {
	gc   gnet.Conn
	loop *loop

	// Intrusive lists: all connections of the loop, and the timing-wheel
	// slot the connection waits in, if any.
	prev, next   *Conn
	wprev, wnext *Conn
	wdue         int64
	wslot        uint16 // wheel.NoSlot when not in the wheel

	target  uint16
	source  uint16
	attempt uint8
	phase   uint8
	cause   uint8  // why the connection ended, when the engine knows better than the socket error
	status  uint16 // HTTP status of a refused upgrade, or the server's close code
	// Flags is scenario-owned like Seq, Expect and Next; it sits here to
	// use padding, keeping Conn within 128 bytes.
	Flags uint8

	id    uint64
	start int64 // dial start, ns on the Session clock

	frag *fragment // a fragmented message being assembled; nil almost always

	// Scenario-owned fields.
	Seq    uint64
	Expect uint64
	Next   int64
}

// fragment holds a message the server split over several frames.
type fragment struct {
	msg  frame.Message // the message's opcode, size so far and UTF-8 state
	data []byte
}

// ID is the connection's number within the run (unique across worker
// processes).
func (c *Conn) ID() uint64 { return c.id }

// Target is the index of the connection's URL in Plan.Targets.
func (c *Conn) Target() int { return int(c.target) }

// Open reports whether the connection is upgraded and not closing.
func (c *Conn) Open() bool { return c.phase == phaseOpen }

// OutboundBuffered is the number of bytes written but not yet accepted by
// the kernel: a sender should hold back while it is large.
func (c *Conn) OutboundBuffered() int { return c.gc.OutboundBuffered() }

// Buffer returns a scratch slice of length n owned by the connection's
// event loop, for building a payload for Send. It is valid until the next
// call to Buffer on any connection of the same loop.
func (c *Conn) Buffer(n int) []byte {
	l := c.loop
	if cap(l.payload) < n {
		l.payload = make([]byte, n)
	}
	return l.payload[:n]
}

// Send writes one masked data message (op is ws.OpText or ws.OpBinary).
// payload is copied; it may be reused at once. It reports false if the
// connection is not open or the write failed (the connection is then
// closed and OnClose has run).
func (c *Conn) Send(op ws.OpCode, payload []byte) bool {
	if c.phase != phaseOpen {
		return false
	}
	if !c.writeFrame(op, payload) {
		return false
	}
	m := c.loop.s.m
	m.msgsOut.Add(1)
	m.bytesOut.Add(int64(len(payload)))
	return true
}

// Schedule asks for ConnHandler.Tick at or after at (Session clock, ns). A
// connection has at most one pending tick: a new call replaces the old one.
// It does nothing unless the connection is open.
func (c *Conn) Schedule(at int64) {
	if c.phase != phaseOpen {
		return
	}
	c.loop.schedule(c, at)
}

// Close starts the closing handshake with code (0 sends no code): our close
// frame is written, and the socket is closed when the server answers or
// after Plan.CloseTimeout. An SSE stream, which has no closing handshake,
// is aborted instead. It does nothing unless the connection is open.
func (c *Conn) Close(code ws.StatusCode) {
	if c.phase != phaseOpen {
		return
	}
	if c.loop.s.targets[c.target].sse {
		c.Abort() // a stream has no closing handshake
		return
	}
	c.phase = phaseClosing
	if !c.writeClose(code) {
		return
	}
	s := c.loop.s
	c.loop.schedule(c, s.Now()+int64(s.plan.CloseTimeout))
}

// writeFrame masks and writes one frame from the loop's output buffer.
func (c *Conn) writeFrame(op ws.OpCode, payload []byte) bool {
	l := c.loop
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], rand.Uint32())
	l.out = frame.AppendMaskedFrame(l.out[:0], true, op, mask, payload)
	if _, err := c.gc.Write(l.out); err != nil {
		// gnet has closed the connection and run OnClose.
		return false
	}
	return c.phase != phaseClosed
}

// writeClose writes a masked close frame carrying code.
func (c *Conn) writeClose(code ws.StatusCode) bool {
	var p [2]byte
	payload := p[:0]
	if code != 0 && code != ws.StatusNoStatusRcvd {
		binary.BigEndian.PutUint16(p[:], uint16(code))
		payload = p[:2]
	}
	return c.writeFrame(ws.OpClose, payload)
}

// Abort closes the TCP connection at once, with no closing handshake, as a
// client whose network went away would (the server sees the socket end).
// It is counted as a close we asked for, not a drop. It does nothing
// unless the connection is open.
func (c *Conn) Abort() {
	if c.phase != phaseOpen {
		return
	}
	c.phase = phaseClosing
	_ = c.loop.el.Close(c.gc)
}
