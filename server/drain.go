package server

import (
	"github.com/gobwas/ws"
)

// drainBurst is how many connections each loop sends Close 1001 at once
// when a drain starts, before the spread begins. A few clients reconnecting
// together are no storm, and without it a drain of one connection waited
// until the end of the spread: n*elapsed/spread rounds down to zero until
// elapsed reaches spread.
const drainBurst = 64

// drainState is one loop's progress through a drain. Drain sends close
// frames spread over the first half of DrainTimeout, so a million clients
// do not all reconnect elsewhere in the same instant, and leaves the second
// half for their replies.
type drainState struct {
	started bool
	startMs int64
	conns   []*Conn // snapshot of the loop's connections when the drain began
	sent    int     // conns[:sent] have been handled
}

// drainStep sends this tick's share of close frames.
func (l *loop) drainStep(now int64) {
	d := &l.drain
	s := l.srv
	if !d.started {
		d.started = true
		d.startMs = now
		d.conns = make([]*Conn, 0, l.wheel.count)
		l.wheel.each(func(c *Conn) { d.conns = append(d.conns, c) })
	}
	target := drainTarget(len(d.conns), now-d.startMs, s.cfg.DrainTimeout.Milliseconds()/2)
	for ; d.sent < target; d.sent++ {
		c := d.conns[d.sent]
		d.conns[d.sent] = nil
		switch c.state {
		case stateHandshake:
			c.reason = ReasonDrain
			l.reject(c, errDraining)
		case stateStream:
			c.reason = ReasonDrain
			l.kill(c)
		case stateOpen:
			c.flags |= flagDrained
			l.startClose(c, ws.StatusGoingAway, "server shutting down", ReasonDrain)
		}
	}
	if d.sent == len(d.conns) {
		d.conns = nil
	}
}

// drainTarget is how many of n connections should have been sent their
// close frame elapsedMs into a spread of spreadMs: the first drainBurst at
// once, the rest in proportion to the time elapsed, rounded up, so every
// tick of the spread sends some and the last one is sent by its end.
func drainTarget(n int, elapsedMs, spreadMs int64) int {
	if n <= drainBurst || spreadMs <= 0 || elapsedMs >= spreadMs {
		return n
	}
	rest := int64(n - drainBurst)
	return drainBurst + int((rest*max(elapsedMs, 0)+spreadMs-1)/spreadMs)
}
