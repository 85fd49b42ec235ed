package loadgen

import (
	"context"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Each runs fn on every open connection, each on its own loop, and returns
// when all loops have done so or ctx ends. Connections enrolled after the
// call may be missed.
func (s *Session) Each(ctx context.Context, fn func(c *Conn, now int64)) error {
	ls := s.loops.list()
	done := make(chan struct{}, len(ls))
	for _, l := range ls {
		l := l
		err := l.el.Execute(ctx, gnet.RunnableFunc(func(context.Context) error {
			l.each(fn)
			done <- struct{}{}
			return nil
		}))
		if err != nil {
			return err
		}
	}
	for range ls {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// closeAll starts the closing handshake on every open connection, abandons
// handshakes in progress, and waits up to CloseTimeout (plus a margin) for
// the server to answer.
func (s *Session) closeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), s.plan.CloseTimeout+2*time.Second)
	defer cancel()
	ls := s.loops.list()
	done := make(chan struct{}, len(ls))
	for _, l := range ls {
		l := l
		err := l.el.Execute(ctx, gnet.RunnableFunc(func(context.Context) error {
			for c := l.head; c != nil; {
				next := c.next
				switch c.phase {
				case phaseOpen:
					c.Close(1000)
				case phaseHandshake:
					c.phase = phaseClosed // not a failure: we gave up
					s.m.handshaking.Add(-1)
					_ = l.el.Close(c.gc)
				}
				c = next
			}
			done <- struct{}{}
			return nil
		}))
		if err != nil {
			done <- struct{}{}
		}
	}
	for range ls {
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
	_ = waitFor(ctx, 10*time.Millisecond, func() bool {
		return s.m.open.Load() == 0 && s.m.handshaking.Load() == 0
	})
}

// Settle waits Plan.Settle for the run to calm down, whatever
// Plan.Duration is (the scenarios hold or send for Duration after it), then
// samples this process's RSS and the servers' RSS as
// the "after" figures: memory per connection is (after - before) / open
// connections. It also marks the session settled for progress reports.
func (s *Session) Settle(ctx context.Context) error {
	s.SetPhase("settling")
	if err := sleep(ctx, s.plan.Settle); err != nil {
		return err
	}
	s.sampleAfter()
	s.settled.Store(true)
	s.SetPhase("holding")
	return nil
}

// Hold waits d or until ctx ends; connections stay open and pings are
// answered meanwhile.
func (s *Session) Hold(ctx context.Context, d time.Duration) error {
	return sleep(ctx, d)
}

// Wait polls cond every 10 ms until it holds, d passes, or ctx ends, and
// reports whether cond held.
func (s *Session) Wait(ctx context.Context, d time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return waitFor(ctx, 10*time.Millisecond, cond) == nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, every time.Duration, cond func() bool) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
