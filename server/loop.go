package server

import (
	"sync/atomic"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"

	"github.com/myriadws/myriad/frame"
)

// loop is the reactor's state for one gnet event loop. Everything but the
// counters, the el field and the mailbox is touched only by that loop's
// goroutine.
type loop struct {
	srv   *Server
	pub   Loop         // the handle applications see; points back here
	idx   int          // position in Server.loops
	el    atomic.Value // gnet.EventLoop, set by the first connection it owns
	wheel wheel

	box     mailbox       // functions posted to the loop (see Loop.Post)
	runBox  gnet.Runnable // the mailbox task, allocated once
	batch   []func()      // scratch: the batch of posted functions being run
	opening opening       // the Authorizer's value, until OnOpen returns

	out     []byte    // scratch for encoding frames and responses
	iov     [2][]byte // scratch for header+payload writes
	free    []*inbound
	current *Conn // the Conn whose OnTraffic is running, if any

	z    codec      // permessage-deflate coders shared by the loop's connections
	neg  negotiator // scratch for parsing extension offers
	vals [][]byte   // scratch for header values during an upgrade

	drain drainState
	jobs  slicedJobs // PostSliced jobs between steps
	held  holders    // connections holding buffered bytes (MaxBuffered, SlowTimeout)

	sweeping atomic.Bool // a sweep is queued or running
	stats    loopStats
}

// maxFreeInbound bounds each loop's free list of inbound states, and
// maxKeptBuffer the message buffer capacity one may keep: enough to make
// fragmented traffic allocation-free without holding memory after a burst.
const (
	maxFreeInbound = 256
	maxKeptBuffer  = 64 << 10
)

// loopStats are one loop's counters. Each loop writes only its own, so the
// atomics never contend across cores; Server.Stats sums them.
type loopStats struct {
	accepted          atomic.Uint64
	upgrades          atomic.Uint64
	rejected          atomic.Uint64
	pages             atomic.Uint64
	streams           atomic.Uint64
	shed              atomic.Uint64 // connections closed in OnOpen over MaxConns
	messagesIn        atomic.Uint64
	messageTimeouts   atomic.Uint64
	slowTimeouts      atomic.Uint64
	overBudget        atomic.Uint64
	messagesOut       atomic.Uint64
	compressedIn      atomic.Uint64
	compressedOut     atomic.Uint64
	pingsSent         atomic.Uint64
	protocolErrors    atomic.Uint64
	tooBig            atomic.Uint64
	slowConsumers     atomic.Uint64
	idleTimeouts      atomic.Uint64
	handshakeTimeouts atomic.Uint64
	closeTimeouts     atomic.Uint64
	dropped           atomic.Uint64 // prepared sends skipped under SlowDrop
	posted            atomic.Uint64 // functions accepted by Post
	postBusy          atomic.Uint64 // Post refusals with ErrBusy
	open              atomic.Int64  // TCP connections this loop holds
	bytesIn           atomic.Uint64 // payload bytes of messages received
	bytesOut          atomic.Uint64 // payload bytes of messages sent (before compression)
	detail            breakdownStats
	_                 [64]byte // keep the next loop's counters off this cache line
}

func (l *loop) eventLoop() gnet.EventLoop {
	el, _ := l.el.Load().(gnet.EventLoop)
	return el
}

// writeFrame writes one unfragmented, unmasked frame, enforcing the
// outbound bound. A data frame to a connection that negotiated
// permessage-deflate is compressed (RSV1 set) when it is at least
// CompressionMinSize bytes and compression makes it smaller.
// On ErrSlowConsumer the connection is being closed. A
// connection already marked for closing takes no more frames: its close
// may still be queued behind other work on the loop, and each write would
// otherwise find the queue over the bound again and count, log and close
// the same slow consumer once more.
func (l *loop) writeFrame(c *Conn, op ws.OpCode, payload []byte) error {
	if c.flags&flagKill != 0 {
		return ErrClosed
	}
	var rsv byte
	if c.flags&flagDeflate != 0 && op.IsData() && len(payload) >= l.srv.cfg.CompressionMinSize {
		// The compressed bytes are loop scratch, released once written.
		defer l.z.deflated()
		if z := l.z.deflate(payload); len(z) < len(payload) {
			payload, rsv = z, ws.Rsv(true, false, false)
		}
	}
	hdr := frame.AppendHeader(l.out[:0], ws.Header{Fin: true, Rsv: rsv, OpCode: op, Length: int64(len(payload))})
	if queued, ok := l.fits(c, len(hdr)+len(payload), writeCost(len(hdr), len(payload))); !ok {
		l.closeSlow(c, queued)
		return ErrSlowConsumer
	}
	var err error
	if len(payload) <= inlinePayload {
		l.out = append(hdr, payload...)
		err = l.put(c, l.out)
	} else {
		l.out = hdr
		l.iov[0], l.iov[1] = hdr, payload
		_, err = c.gc.Writev(l.iov[:])
		l.iov[0], l.iov[1] = nil, nil
	}
	if err != nil {
		// gnet has closed the connection already.
		return ErrClosed
	}
	if c.gc.OutboundBuffered() > 0 {
		l.hold(c)
	}
	if rsv != 0 {
		l.stats.compressedOut.Add(1)
	}
	return nil
}

// fits reports whether a write of n bytes, costing cost bytes of memory
// once queued (writeCost), keeps c's outbound queue within MaxOutbound,
// and how many bytes are queued already. The bound is in real bytes: the
// queue is taken to cost what this write costs per byte, as the frames
// sent to one connection are mostly alike, so 4 MiB of small frames is
// about 2 MiB of them. A connection whose queue is empty always takes
// one message, however large (MaxMessage bounds what an application is
// likely to send): otherwise a message between MaxOutbound and
// MaxMessage could never be sent at all, and the peer would be closed as
// slow with nothing queued. A connection that is behind takes nothing
// more while the process is over MaxBuffered, or when this write would
// take it over: each accepted write is added to the loop's total at once,
// so the budget holds between two sweeps too.
func (l *loop) fits(c *Conn, n, cost int) (queued int, ok bool) {
	queued = c.gc.OutboundBuffered()
	if queued == 0 {
		return 0, true
	}
	s := l.srv
	perByte := int64(cost) * costUnit / int64(n)
	if realQueued(queued, perByte)+int64(cost) > int64(s.cfg.MaxOutbound) || s.overBudget.Load() {
		return queued, false
	}
	if s.maxBuffered > 0 {
		if s.bufferedTotal()+int64(cost) > s.maxBuffered {
			s.overBudget.Store(true)
			return queued, false
		}
		l.held.total.Add(int64(cost))
	}
	l.noteCost(n, cost)
	return queued, true
}

// closeSlow closes c as a slow consumer: counted and logged here, once,
// since c then takes no more messages. The peer is told why with close
// 1008 queued behind what it has not read yet (bypassing the bound: it is
// a few bytes), and gets CloseTimeout to read its backlog and answer, as
// in any closing handshake, before the TCP connection is closed. So a
// peer that was only slow learns why it was dropped and loses nothing it
// was sent, while one that never reads holds at most MaxOutbound for
// CloseTimeout.
func (l *loop) closeSlow(c *Conn, queued int) {
	l.stats.slowConsumers.Add(1)
	if n := l.srv.slowLog.note(l.srv.nowMs()); n > 0 {
		l.srv.logSlow(n)
	}
	if ce := l.srv.log.Check(zap.DebugLevel, "closing slow consumer"); ce != nil {
		ce.Write(connField(c), zap.Int("queued_bytes", queued), zap.Int("limit_bytes", l.srv.cfg.MaxOutbound))
	}
	if c.state != stateOpen {
		c.reason = ReasonSlowConsumer
		l.kill(c)
		return
	}
	l.startClose(c, ws.StatusPolicyViolation, "slow consumer", ReasonSlowConsumer)
}

// logSlow writes the rate-limited line about slow consumers: n closed
// since the last line (each one is also logged at debug level).
func (s *Server) logSlow(n int64) {
	s.log.Warn("closed slow consumers", zap.Int64("count", n), zap.Int("limit_bytes", s.cfg.MaxOutbound))
}

// writeRaw writes bytes that bypass the outbound bound: close frames and
// HTTP responses, which are small and end the connection.
func (l *loop) writeRaw(c *Conn, b []byte) {
	_ = l.put(c, b)
}

// kill closes the TCP connection: when c's own OnTraffic is running, by
// flag (the callback returns gnet.Close), otherwise through gnet's queue.
func (l *loop) kill(c *Conn) {
	if c.state == stateClosed || c.flags&flagKill != 0 {
		return
	}
	c.flags |= flagKill
	if l.current != c {
		_ = c.gc.Close()
	}
}

// fail answers a protocol violation: the close frame with the error's
// code, then the TCP connection is closed at once (RFC 6455 §7.1.7).
func (l *loop) fail(c *Conn, err error) gnet.Action {
	pe, ok := err.(*frame.ProtocolError)
	if !ok {
		pe = &frame.ProtocolError{Code: ws.StatusInternalServerError, Reason: err.Error()}
	}
	if pe.Code == ws.StatusMessageTooBig {
		l.stats.tooBig.Add(1)
		c.reason = ReasonTooBig
	} else {
		l.stats.protocolErrors.Add(1)
		c.reason = ReasonProtocol
	}
	c.code = uint16(pe.Code)
	if c.state == stateOpen {
		l.out = frame.AppendClose(l.out[:0], pe.Code, pe.Reason)
		l.writeRaw(c, l.out)
		c.state = stateClosing
	}
	l.kill(c)
	return gnet.Close
}

// startClose sends a close frame and waits for the peer's (up to
// CloseTimeout, enforced by the wheel).
func (l *loop) startClose(c *Conn, code ws.StatusCode, reason string, why CloseReason) {
	if c.state != stateOpen {
		return
	}
	c.reason = why
	c.code = uint16(code)
	l.out = frame.AppendClose(l.out[:0], code, reason)
	l.writeRaw(c, l.out)
	c.state = stateClosing
	now := l.srv.nowMs()
	c.last = uint32(now)
	l.wheel.remove(c)
	l.wheel.add(c, now+l.srv.closeMs)
}

// reject answers a failed upgrade with an HTTP error and closes.
func (l *loop) reject(c *Conn, e *httpError) gnet.Action {
	l.stats.rejected.Add(1)
	l.stats.detail.countRefusal(e.status)
	if c.reason == ReasonNone {
		c.reason = ReasonRejected
	}
	c.code = uint16(e.status)
	l.out = appendHTTPError(l.out[:0], e)
	l.writeRaw(c, l.out)
	l.kill(c)
	return gnet.Close
}

// getInbound gives c an inbound state from the free list. A new one
// starts a message, whose MessageTimeout deadline the wheel must see: an
// open Conn waiting for a later keepalive deadline is rescheduled.
func (l *loop) getInbound(c *Conn) *inbound {
	if c.in != nil {
		return c.in
	}
	defer l.messageStarted(c)
	var in *inbound
	if n := len(l.free); n > 0 {
		in = l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
	} else {
		in = new(inbound)
	}
	c.in = in
	return in
}

// putInbound returns c's inbound state to the free list.
func (l *loop) putInbound(c *Conn) {
	in := c.in
	if in == nil {
		return
	}
	c.in = nil
	buf := in.buf[:0]
	if cap(buf) > maxKeptBuffer {
		buf = nil
	}
	*in = inbound{buf: buf}
	if len(l.free) < maxFreeInbound {
		l.free = append(l.free, in)
	}
}
