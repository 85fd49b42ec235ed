package server

import (
	"errors"
	"sync"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// PreparedFrame is one message encoded once as a complete server frame,
// to be written to many connections, on any number of loops, with
// Conn.SendPrepared. It is immutable once made, so any goroutine may hold
// and share it. For connections that negotiated permessage-deflate a
// compressed encoding is made the first time one of them needs it, once
// per frame, and shared the same way.
type PreparedFrame struct {
	op    ws.OpCode
	plain []byte // header + payload
	hdrN  int    // header bytes in plain

	zOnce sync.Once
	z     []byte // header with RSV1 + deflated payload; nil when deflate does not help
}

// Prepare encodes data as one unfragmented frame with opcode op (usually
// ws.OpText or ws.OpBinary). data is copied. Any goroutine may call it.
func Prepare(op ws.OpCode, data []byte) *PreparedFrame {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(data))}
	b := make([]byte, 0, frame.MaxHeaderSize+len(data))
	b = frame.AppendHeader(b, h)
	n := len(b)
	return &PreparedFrame{op: op, plain: append(b, data...), hdrN: n}
}

// OpCode returns the frame's opcode. Any goroutine may call it.
func (p *PreparedFrame) OpCode() ws.OpCode { return p.op }

// Payload returns the frame's payload, uncompressed. The caller must not
// modify it. Any goroutine may call it.
func (p *PreparedFrame) Payload() []byte { return p.plain[p.hdrN:] }

// deflatedFor returns the compressed encoding, making it with z (the
// calling loop's codec) the first time. Another loop asking meanwhile
// waits for that one compression, which is the price of doing it once.
func (p *PreparedFrame) deflatedFor(z *codec) []byte {
	p.zOnce.Do(func() {
		payload := p.Payload()
		c := z.deflate(payload)
		defer z.deflated()
		if len(c) >= len(payload) {
			return
		}
		h := ws.Header{Fin: true, Rsv: ws.Rsv(true, false, false), OpCode: p.op, Length: int64(len(c))}
		b := make([]byte, 0, frame.MaxHeaderSize+len(c))
		b = frame.AppendHeader(b, h)
		p.z = append(b, c...)
	})
	return p.z
}

// SlowPolicy is what SendPrepared does when a message would take a
// connection's outbound queue past Config.MaxOutbound.
type SlowPolicy uint8

const (
	// SlowClose closes the connection as a slow consumer (close 1008),
	// counted in Stats.SlowConsumers: a peer that stays connected has
	// seen every message.
	SlowClose SlowPolicy = iota
	// SlowDrop skips this message for this connection, counted in
	// Stats.Dropped, and returns ErrDropped: the peer stays connected
	// and misses messages while it lags.
	SlowDrop
)

// ErrDropped is returned by SendPrepared under SlowDrop when the message
// was skipped for a connection whose queue is full.
var ErrDropped = errors.New("message dropped: outbound queue limit reached")

// SendPrepared writes p to c under the MaxOutbound bound, applying policy
// when the queue is full: SlowClose closes c and returns ErrSlowConsumer,
// SlowDrop returns ErrDropped. A connection that negotiated
// permessage-deflate gets the compressed encoding when p's payload is at
// least Config.CompressionMinSize bytes and compression makes it smaller.
// Loop-only: call it from a Handler callback or a function posted to c's
// Loop.
func (c *Conn) SendPrepared(p *PreparedFrame, policy SlowPolicy) error {
	if c.state != stateOpen || c.flags&flagKill != 0 {
		return ErrClosed
	}
	l := c.loop
	b, compressed := p.plain, false
	if c.flags&flagDeflate != 0 && p.op.IsData() && len(p.plain)-p.hdrN >= l.srv.cfg.CompressionMinSize {
		if z := p.deflatedFor(&l.z); z != nil {
			b, compressed = z, true
		}
	}
	if queued, ok := l.fits(c, len(b), queueCost(len(b))); !ok {
		if policy == SlowDrop {
			l.stats.dropped.Add(1)
			l.atLimit(c, l.srv.nowMs())
			return ErrDropped
		}
		l.closeSlow(c, queued)
		return ErrSlowConsumer
	}
	// gnet copies whatever the kernel does not take at once, so the
	// shared bytes are never retained.
	if err := l.put(c, b); err != nil {
		return ErrClosed
	}
	if c.gc.OutboundBuffered() > 0 {
		l.hold(c)
	}
	l.stats.messagesOut.Add(1)
	l.stats.bytesOut.Add(uint64(len(p.plain) - p.hdrN))
	if compressed {
		l.stats.compressedOut.Add(1)
	}
	return nil
}
