package loadgen

import (
	"context"
	"time"
)

// pace advances every loop's timing wheel once per tick. It runs a task on
// a loop only when the loop has connections waiting in its wheel and has
// finished the previous tick, so an idle loop is not woken and a busy one
// does not pile up tasks. When no loop has anything waiting it stops its
// ticker until a loop's wheel gains an entry (Session.nudge): a process
// holding idle connections then costs no wakeups at all.
func (s *Session) pace(ctx context.Context) {
	defer close(s.pacerDone)
	t := time.NewTicker(s.plan.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.tickLoops() {
			continue
		}
		t.Stop()
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		t.Reset(s.plan.Tick)
	}
}

// tickLoops queues a tick task on every loop with connections waiting,
// and reports whether any loop had some.
func (s *Session) tickLoops() bool {
	now := s.Now()
	busy := false
	for _, l := range s.loops.list() {
		if l.waiting.Load() == 0 {
			continue
		}
		busy = true
		l.pending.Store(now)
		if l.queued.CompareAndSwap(false, true) {
			if err := l.el.Execute(context.Background(), l.tickFn); err != nil {
				l.queued.Store(false)
			}
		}
	}
	return busy
}

// nudge wakes the pacer if it stopped its ticker; a loop calls it when
// its wheel goes from empty to not. Any goroutine may call it.
func (s *Session) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// fire handles a connection whose wheel time has come, on its loop.
func (s *Session) fire(c *Conn, now int64) {
	switch c.phase {
	case phaseHandshake:
		c.cause = codeTimeout
		_ = c.loop.el.Close(c.gc)
	case phaseClosing:
		s.m.closeTimedOut.Add(1)
		_ = c.loop.el.Close(c.gc)
	case phaseOpen:
		if s.hooks != nil {
			s.hooks.Tick(c, now)
		}
	}
}
