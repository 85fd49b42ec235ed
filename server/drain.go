package server

import (
	"github.com/gobwas/ws"
)

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
	spread := s.cfg.DrainTimeout.Milliseconds() / 2
	target := len(d.conns)
	if e := now - d.startMs; spread > 0 && e < spread {
		target = int(int64(len(d.conns)) * e / spread)
	}
	for ; d.sent < target; d.sent++ {
		c := d.conns[d.sent]
		d.conns[d.sent] = nil
		switch c.state {
		case stateHandshake:
			c.reason = ReasonDrain
			l.reject(c, errDraining)
		case stateOpen:
			c.flags |= flagDrained
			l.startClose(c, ws.StatusGoingAway, "server shutting down", ReasonDrain)
		}
	}
	if d.sent == len(d.conns) {
		d.conns = nil
	}
}
