package loadgen

import (
	"errors"
	"io"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/myriadws/myriad/frame"
)

// handler is the gnet.EventHandler of a Session's client reactor. Its
// callbacks run on the event loops and never block.
type handler struct {
	gnet.BuiltinEventEngine
	s *Session
}

// OnOpen links the connection into its loop and writes the upgrade request.
func (h *handler) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	s := h.s
	c, _ := gc.Context().(*Conn)
	if c == nil {
		return nil, gnet.Close
	}
	l := s.loops.get(s, gc.EventLoop())
	c.gc = gc
	l.link(c)
	s.m.handshaking.Add(1)
	if s.stopping.Load() {
		return nil, gnet.Close
	}
	key := handshakeKey(s.seed, c.id)
	l.out = s.request(c).appendRequest(l.out[:0], &key)
	l.schedule(c, c.start+int64(s.plan.HandshakeTimeout))
	return l.out, gnet.None
}

// OnClose accounts for the end of a connection according to its phase: a
// failed attempt (maybe retried), a drop, or a close we asked for.
func (h *handler) OnClose(gc gnet.Conn, err error) gnet.Action {
	s := h.s
	c, _ := gc.Context().(*Conn)
	if c == nil || c.loop == nil {
		return gnet.None
	}
	c.loop.unlink(c)
	phase := c.phase
	c.phase = phaseClosed
	c.frag = nil
	stopping := s.stopping.Load()
	switch phase {
	case phaseHandshake:
		s.m.handshaking.Add(-1)
		if stopping {
			return gnet.None
		}
		cause := classify(err)
		switch c.cause {
		case codeTimeout:
			cause = CauseTimeout
		case codeHTTP:
			cause = HTTPCause(int(c.status))
		case codeProtocol:
			cause = CauseProtocol
		}
		s.attemptFailed(job{id: c.id, target: c.target, source: c.source, attempt: c.attempt}, cause)
	case phaseOpen:
		s.m.closedOpen(c.target)
		if stopping {
			return gnet.None
		}
		cause := classifyDrop(err)
		switch c.cause {
		case codeClose:
			cause = CloseCause(int(c.status))
		case codeProtocol:
			cause = CauseProtocol
		}
		s.m.dropped.Add(1)
		s.m.drop(cause)
		if s.hooks != nil {
			s.hooks.Dropped(c, cause)
		}
	case phaseClosing:
		s.m.closedOpen(c.target)
		s.m.closed.Add(1)
	}
	return gnet.None
}

// OnTraffic finishes the handshake, then reads frames.
func (h *handler) OnTraffic(gc gnet.Conn) gnet.Action {
	s := h.s
	c, _ := gc.Context().(*Conn)
	if c == nil {
		return gnet.Close
	}
	now := s.Now()
	sse := s.targets[c.target].sse
	if c.phase == phaseHandshake {
		hs := h.handshake
		if sse {
			hs = h.streamHandshake
		}
		if act, done := hs(c, now); !done {
			return act
		}
	}
	if sse {
		return h.events(c, now)
	}
	return h.frames(c, now)
}

// handshake parses the 101 response. done reports that the connection is
// upgraded and any bytes after the response are frames.
func (h *handler) handshake(c *Conn, now int64) (act gnet.Action, done bool) {
	s := h.s
	buf, _ := c.gc.Peek(-1)
	key := handshakeKey(s.seed, c.id)
	accept := acceptFor(&key)
	n, status, err := parseResponse(buf, &accept)
	return h.answered(c, n, status, 101, err, now)
}

// answered judges the parsed response head of c, n bytes with status, for
// either kind of target: "need more" waits, a malformed head or a status
// other than want closes c with its cause, and the awaited one opens it.
func (h *handler) answered(c *Conn, n, status, want int, err error, now int64) (act gnet.Action, done bool) {
	switch {
	case errors.Is(err, io.ErrShortBuffer):
		return gnet.None, false
	case err != nil:
		c.cause = codeProtocol
		return gnet.Close, false
	case status != want:
		c.cause = codeHTTP
		c.status = uint16(status)
		return gnet.Close, false
	}
	_, _ = c.gc.Discard(n)
	return h.opened(c, now)
}

// opened marks c upgraded (or, for an SSE stream, answered with its head).
func (h *handler) opened(c *Conn, now int64) (act gnet.Action, done bool) {
	s := h.s
	c.loop.wheel.remove(c)
	c.loop.waiting.Store(int64(c.loop.wheel.len()))
	c.phase = phaseOpen
	s.m.handshaking.Add(-1)
	s.upgraded(c, now)
	if c.phase != phaseOpen && c.phase != phaseClosing {
		return gnet.None, false
	}
	return gnet.None, true
}

// frames parses every complete frame buffered for c, then discards what it
// consumed in one step: a single Peek avoids gnet copying the buffer again
// for each frame.
func (h *handler) frames(c *Conn, now int64) gnet.Action {
	buf, _ := c.gc.Peek(-1)
	off := 0
	act := gnet.None
	for off < len(buf) {
		hd, n, err := frame.ParseHeader(buf[off:])
		if errors.Is(err, frame.ErrShortBuffer) {
			break
		}
		if err == nil {
			err = frame.CheckServer(hd, 0)
		}
		if err == nil && hd.Length > int64(h.s.plan.MaxMessage) {
			err = frame.ErrMessageTooBig
		}
		if err != nil {
			act = h.protocolError(c, err)
			break
		}
		end := off + n + int(hd.Length)
		if end > len(buf) {
			break
		}
		payload := buf[off+n : end]
		off = end
		if act = h.frame(c, hd, payload, now); act != gnet.None || c.phase == phaseClosed {
			break
		}
	}
	if c.phase == phaseClosed {
		// A write failed and gnet already closed the connection.
		return gnet.None
	}
	if off > 0 {
		// Discard(0) would discard everything, so only call it with a count.
		_, _ = c.gc.Discard(off)
	}
	return act
}

// frame handles one frame.
func (h *handler) frame(c *Conn, hd ws.Header, payload []byte, now int64) gnet.Action {
	s := h.s
	switch hd.OpCode {
	case ws.OpPing:
		s.m.pings.Add(1)
		c.writeFrame(ws.OpPong, payload)
		return gnet.None
	case ws.OpPong:
		return gnet.None
	case ws.OpClose:
		code, _, err := frame.ParseClose(payload)
		if err != nil {
			return h.protocolError(c, err)
		}
		if c.phase == phaseOpen {
			// The server is closing: answer, and count a drop in OnClose.
			c.cause = codeClose
			c.status = uint16(code)
			c.writeClose(code)
		}
		return gnet.Close
	}

	if c.phase != phaseOpen {
		return gnet.None // closing: the server may still send data; ignore it
	}
	return h.data(c, hd, payload, now)
}

// data handles a data frame with package frame's message rules, as the
// server does for its side: fragments in order, the size limit across them,
// and UTF-8 of text checked piece by piece, so a server that breaks them is
// counted as a protocol error. A message in one frame is checked with a
// Message on the stack; only a fragmented one keeps state, in c.frag.
func (h *handler) data(c *Conn, hd ws.Header, payload []byte, now int64) gnet.Action {
	var one frame.Message
	m := &one
	if c.frag != nil {
		m = &c.frag.msg
	}
	if _, err := m.Frame(hd, int64(h.s.plan.MaxMessage)); err != nil {
		return h.protocolError(c, err)
	}
	if err := m.Text(payload, hd.Fin); err != nil {
		return h.protocolError(c, err)
	}
	switch {
	case c.frag == nil && hd.Fin:
		h.message(c, hd.OpCode, payload, now)
	case c.frag == nil:
		c.frag = &fragment{msg: one, data: append([]byte(nil), payload...)}
	case !hd.Fin:
		c.frag.data = append(c.frag.data, payload...)
	default:
		f := c.frag
		c.frag = nil
		h.message(c, f.msg.OpCode(), append(f.data, payload...), now)
	}
	return gnet.None
}

func (h *handler) message(c *Conn, op ws.OpCode, payload []byte, now int64) {
	s := h.s
	s.m.msgsIn.Add(1)
	s.m.bytesIn.Add(int64(len(payload)))
	if s.hooks != nil {
		s.hooks.Message(c, op, payload, now)
	}
}

// protocolError closes c with the close code the error carries.
func (h *handler) protocolError(c *Conn, err error) gnet.Action {
	code := ws.StatusProtocolError
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		code = pe.Code
	}
	if c.phase == phaseOpen {
		c.cause = codeProtocol
		c.writeClose(code)
	}
	return gnet.Close
}
