package server

import (
	"context"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// sweepTask runs on the loop (queued by OnTick): it advances the timing
// wheel and, during a drain, sends the next batch of close frames.
func (l *loop) sweepTask(context.Context) error {
	defer l.sweeping.Store(false)
	now := l.srv.nowMs()
	l.wheel.advance(now, func(c *Conn) { l.expire(c, now) })
	l.budgetStep(now)
	if l.srv.draining.Load() {
		l.drainStep(now)
	}
	return nil
}

// elapsed returns the ms since c.last; the ms clock is kept modulo 2^32 in
// the Conn, which is exact as long as a Conn is visited at least once per
// 49 days, which the wheel guarantees.
func elapsed(c *Conn, now int64) int64 {
	return int64(uint32(now) - c.last)
}

// expire handles a Conn whose wheel slot came due: it acts on whichever
// deadline has passed, or reschedules the Conn at its next one.
func (l *loop) expire(c *Conn, now int64) {
	s := l.srv
	if c.flags&flagKill != 0 || c.state == stateClosed {
		return
	}
	e := elapsed(c, now)
	switch c.state {
	case statePage:
		if e >= s.closeMs {
			l.kill(c) // CloseTimeout after a page: the client is not reading it
			return
		}
		l.wheel.add(c, now+s.closeMs-e)
	case stateStream:
		l.expireStream(c, now)
	case stateHandshake:
		if e >= s.handshakeMs {
			l.stats.handshakeTimeouts.Add(1)
			c.reason = ReasonHandshakeTimeout
			l.reject(c, errTimeout)
			return
		}
		l.wheel.add(c, now+s.handshakeMs-e)
	case stateOpen:
		if l.messageExpired(c, now) {
			return
		}
		if s.idleMs > 0 && e >= s.idleMs {
			l.stats.idleTimeouts.Add(1)
			c.reason = ReasonIdle
			c.code = uint16(ws.StatusGoingAway)
			// The peer is probably gone; tell it why in case it is not,
			// and close without waiting for an answer.
			l.out = frame.AppendClose(l.out[:0], ws.StatusGoingAway, "idle timeout")
			l.writeRaw(c, l.out)
			c.state = stateClosing
			l.kill(c)
			return
		}
		if s.pingMs > 0 && c.flags&flagPinged == 0 && e >= s.pingMs {
			if err := l.writeFrame(c, ws.OpPing, nil); err != nil {
				return
			}
			l.stats.pingsSent.Add(1)
			if s.idleMs > 0 {
				c.flags |= flagPinged
			} else {
				c.last = uint32(now) // no idle limit: ping again one interval later
				e = 0
			}
		}
		if c.flags&flagPinged != 0 {
			// Waiting for the pong: come back one PingInterval from now,
			// or at the idle deadline if that is sooner. A peer that has
			// answered by then must be pinged again after PingInterval of
			// silence, not left unpinged until its idle deadline.
			l.wheel.add(c, l.messageDue(c, min(now+s.pingMs, now-e+s.idleMs)))
			return
		}
		l.schedule(c, now-e)
	case stateClosing:
		if e >= s.closeMs && c.flags&flagDrained != 0 && c.gc.OutboundBuffered() > 0 {
			// A drained peer is still being sent what it was answered
			// for before its close frame: it has until the drain's end
			// (the process stops then), not CloseTimeout from a close
			// frame queued behind that backlog. Its CloseTimeout runs
			// again from when the backlog is out.
			c.last = uint32(now)
			l.wheel.add(c, now+s.closeMs)
			return
		}
		if e >= s.closeMs {
			// The reason stays what started the close; the counter
			// records that the peer never answered.
			l.stats.closeTimeouts.Add(1)
			l.kill(c)
			return
		}
		l.wheel.add(c, now+s.closeMs-e)
	}
}

// schedule puts an open Conn in the wheel at its next keepalive deadline,
// given the ms time of its last activity, or at its message deadline if
// that comes first.
func (l *loop) schedule(c *Conn, last int64) {
	s := l.srv
	var at int64
	switch {
	case s.pingMs > 0 && c.flags&flagPinged == 0:
		at = last + s.pingMs
	case s.idleMs > 0:
		at = last + s.idleMs
	default:
		// Neither pings nor idle timeouts: the Conn stays in the wheel
		// only so that Drain can find it, coming due once per turn.
		at = last + l.wheel.span()
	}
	l.wheel.add(c, l.messageDue(c, at))
}

// messageDue returns at, or c's MessageTimeout deadline when c has a
// message in progress that is due sooner.
func (l *loop) messageDue(c *Conn, at int64) int64 {
	if c.in == nil || l.srv.messageMs == 0 {
		return at
	}
	return min(at, c.in.start+l.srv.messageMs)
}

// messageStarted records the start of c's message and moves an open
// Conn's wheel slot forward to the message deadline when that is sooner
// than the one it waits for (rescheduling is O(1)).
func (l *loop) messageStarted(c *Conn) {
	now := l.srv.nowMs()
	c.in.start = now
	l.hold(c)
	if c.state != stateOpen || l.srv.messageMs == 0 || c.slot == noSlot {
		return
	}
	l.wheel.remove(c)
	l.schedule(c, now-elapsed(c, now))
}

// messageExpired sends c close 1008 and closes it when its message in progress has
// outlived MessageTimeout, and reports whether it did.
func (l *loop) messageExpired(c *Conn, now int64) bool {
	if c.in == nil || l.srv.messageMs == 0 || now-c.in.start < l.srv.messageMs {
		return false
	}
	l.stats.messageTimeouts.Add(1)
	// Like an idle peer, one that stalls its message is not expected to
	// answer a close: tell it why and close without waiting.
	c.reason = ReasonMessageTimeout
	c.code = uint16(ws.StatusPolicyViolation)
	l.out = frame.AppendClose(l.out[:0], ws.StatusPolicyViolation, "message timeout")
	l.writeRaw(c, l.out)
	c.state = stateClosing
	l.putInbound(c)
	l.kill(c)
	return true
}
