package server

import (
	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/myriadws/myriad/frame"
)

// readFrames consumes every complete frame buffered for an upgraded
// connection, and the available part of a data frame whose payload is still
// arriving. Input is parsed in place from gnet's buffer; only what has been
// processed is discarded, so a frame split across reads simply waits.
func (l *loop) readFrames(c *Conn) gnet.Action {
	gc := c.gc
	maxMsg := l.srv.cfg.MaxMessage
	maxDeflated := compressedLimit(maxMsg)
	for c.flags&flagKill == 0 && (c.state == stateOpen || c.state == stateClosing) {
		buf, _ := gc.Peek(-1)
		if len(buf) == 0 {
			break
		}

		// The rest of a data frame's payload.
		if in := c.in; in != nil && in.remain > 0 {
			n := len(buf)
			if int64(n) > in.remain {
				n = int(in.remain)
			}
			if err := l.payloadPiece(c, buf[:n]); err != nil {
				return l.fail(c, err)
			}
			_, _ = gc.Discard(n)
			if in.remain == 0 {
				if err := l.frameDone(c); err != nil {
					return l.fail(c, err)
				}
			}
			continue
		}

		h, hn, err := frame.ParseHeader(buf)
		if err == frame.ErrShortBuffer {
			break
		}
		if err != nil {
			return l.fail(c, err)
		}
		if err := frame.CheckClient(h, allowedRsv(c)); err != nil {
			return l.fail(c, err)
		}

		if h.OpCode.IsControl() {
			total := hn + int(h.Length)
			if len(buf) < total {
				break // at most 139 bytes wait in gnet's buffer
			}
			p := buf[hn:total]
			frame.Unmask(p, h.Mask, 0)
			act := l.control(c, h.OpCode, p)
			_, _ = gc.Discard(total)
			if act != gnet.None {
				return act
			}
			continue
		}

		// Fast path: a whole single-frame message already in the buffer is
		// unmasked and delivered in place, with no copy.
		if c.in == nil && h.Fin && h.OpCode != ws.OpContinuation && int64(len(buf)-hn) >= h.Length {
			if h.Length > maxMsg && (!h.Rsv1() || h.Length > maxDeflated) {
				return l.fail(c, frame.ErrMessageTooBig)
			}
			p := buf[hn : hn+int(h.Length)]
			frame.Unmask(p, h.Mask, 0)
			if h.Rsv1() {
				if c.state == stateOpen {
					if err := l.deliverCompressed(c, h.OpCode, p); err != nil {
						return l.fail(c, err)
					}
				}
			} else {
				if h.OpCode == ws.OpText && !frame.ValidUTF8(p) {
					return l.fail(c, frame.ErrInvalidUTF8)
				}
				if c.state == stateOpen {
					l.deliver(c, h.OpCode, p)
				}
			}
			_, _ = gc.Discard(hn + int(h.Length))
			continue
		}

		// Slow path: a fragment, or a frame whose payload is still
		// arriving. Its payload is consumed as it comes.
		in := l.getInbound(c)
		limit := maxMsg
		if h.Rsv1() || (h.OpCode == ws.OpContinuation && in.msg.Compressed()) {
			limit = maxDeflated
		}
		if _, err := in.msg.Frame(h, limit); err != nil {
			return l.fail(c, err)
		}
		in.hdr, in.off, in.remain = h, 0, h.Length
		_, _ = gc.Discard(hn)
		if h.Length == 0 {
			if err := l.frameDone(c); err != nil {
				return l.fail(c, err)
			}
		}
	}
	if c.flags&flagKill != 0 {
		return gnet.Close
	}
	return gnet.None
}

// payloadPiece unmasks, validates and buffers the next piece of the
// current data frame's payload.
func (l *loop) payloadPiece(c *Conn, p []byte) error {
	in := c.in
	frame.Unmask(p, in.hdr.Mask, int(in.off))
	in.off += int64(len(p))
	in.remain -= int64(len(p))
	if !in.msg.Compressed() {
		// Compressed text is checked once inflated, in deliverCompressed.
		if err := in.msg.Text(p, false); err != nil {
			return err // fails at the first invalid byte, not at the message's end
		}
	}
	if c.state == stateOpen {
		in.buf = append(in.buf, p...)
	}
	return nil
}

// frameDone completes the current data frame; after the final frame the
// message is delivered and the inbound state released.
func (l *loop) frameDone(c *Conn) error {
	in := c.in
	if !in.hdr.Fin {
		return nil
	}
	if in.msg.Compressed() {
		if c.state == stateOpen {
			if err := l.deliverCompressed(c, in.msg.OpCode(), in.buf); err != nil {
				return err
			}
		}
	} else {
		if err := in.msg.Text(nil, true); err != nil {
			return err
		}
		if c.state == stateOpen {
			l.deliver(c, in.msg.OpCode(), in.buf)
		}
	}
	l.putInbound(c)
	return nil
}

// compressedLimit is the wire size allowed for a compressed message whose
// inflated size may be up to limit: DEFLATE can make incompressible data
// slightly larger (5 bytes per stored block of up to 64 KiB, a few bytes
// more per Huffman block), and a client must not be refused a message the
// limit allows just because it compressed it. The inflated size is still
// held to limit.
func compressedLimit(limit int64) int64 {
	return limit + limit>>10 + 64
}

// allowedRsv returns the reserved bits c's frames may set: RSV1, on the
// first frame of a message, once permessage-deflate is negotiated.
func allowedRsv(c *Conn) byte {
	if c.flags&flagDeflate != 0 {
		return ws.Rsv(true, false, false)
	}
	return 0
}

// deliverCompressed inflates a permessage-deflate message (the unmasked
// payloads of its frames, joined) and hands it to the application. The
// inflated size is bounded by MaxMessage and text is validated as it is
// inflated (see codec.inflate). A message can only be inflated once all of
// it has arrived: compress/flate cannot resume after running out of
// input, and keeping an inflater per connection between reads would cost
// tens of kilobytes each.
func (l *loop) deliverCompressed(c *Conn, op ws.OpCode, p []byte) error {
	data, err := l.z.inflate(p, l.srv.cfg.MaxMessage, op == ws.OpText)
	if err != nil {
		return err
	}
	l.stats.compressedIn.Add(1)
	l.deliver(c, op, data)
	return nil
}

// control handles a ping, pong or close frame whose payload is unmasked.
func (l *loop) control(c *Conn, op ws.OpCode, p []byte) gnet.Action {
	switch op {
	case ws.OpPing:
		if c.state == stateOpen {
			if err := l.writeFrame(c, ws.OpPong, p); err != nil {
				return gnet.Close
			}
		}
	case ws.OpPong:
		// Activity was recorded on entry; an unsolicited pong needs nothing.
	case ws.OpClose:
		code, _, err := frame.ParseClose(p)
		if err != nil {
			return l.fail(c, err)
		}
		if c.state == stateOpen {
			// Echo the peer's code (none if it sent none), then close the
			// TCP connection: the server closes first (RFC 6455 §7.1.1).
			c.reason = ReasonPeerClose
			if code == ws.StatusNoStatusRcvd {
				code = 0
			}
			c.code = uint16(code)
			l.out = frame.AppendClose(l.out[:0], code, "")
			l.writeRaw(c, l.out)
			c.state = stateClosing
		}
		l.kill(c)
		return gnet.Close
	}
	return gnet.None
}

// deliver hands a complete message to the connection's application.
func (l *loop) deliver(c *Conn, op ws.OpCode, p []byte) {
	l.stats.messagesIn.Add(1)
	l.stats.bytesIn.Add(uint64(len(p)))
	l.srv.routes[c.route].h.OnMessage(c, op, p)
}
