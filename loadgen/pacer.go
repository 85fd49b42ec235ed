package loadgen

import (
	"context"
	"time"
)

// pace advances every loop's timing wheel once per tick. It runs a task on
// a loop only when the loop has connections waiting in its wheel and has
// finished the previous tick, so an idle loop is not woken and a busy one
// does not pile up tasks.
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
		now := s.Now()
		for _, l := range s.loops.list() {
			if l.waiting.Load() == 0 {
				continue
			}
			l.pending.Store(now)
			if l.queued.CompareAndSwap(false, true) {
				if err := l.el.Execute(ctx, l.tickFn); err != nil {
					l.queued.Store(false)
				}
			}
		}
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
