package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// ErrBusy is returned when a loop's queue of pending publishes is full
// (GatewayConfig.MaxPending): the publish was not handed to that loop.
var ErrBusy = errors.New("gateway busy: too many pending publishes")

// job is work handed to every loop: a publish, a presence event or a
// presence query. The same job goes into each loop's mailbox once; each
// loop runs it on its own shard and adds its count. done (nil for
// fire-and-forget jobs) is closed when every loop has finished or given up.
type job struct {
	run       func(sh *shard) int
	pending   atomic.Int32
	delivered atomic.Int64
	done      chan struct{}
}

func (j *job) finish(n int) {
	j.delivered.Add(int64(n))
	if j.pending.Add(-1) == 0 && j.done != nil {
		close(j.done)
	}
}

// mailbox is a loop's FIFO of jobs. gnet's Execute queues are not FIFO
// under load (tasks overflow from its urgent queue into a second one that
// runs later), so jobs are queued here and one Execute at a time drains
// them in order: publishes made one after another reach every subscriber
// in that order.
type mailbox struct {
	mu     sync.Mutex
	jobs   []*job
	spare  []*job
	queued bool // a drain is queued or running
}

// enqueue hands j to the shard's loop. It always accounts for the loop's
// share of j: either the loop finishes it later, or enqueue finishes it
// with 0 now and returns why (ErrBusy, or ErrClosed when the loop is gone).
// Any goroutine may call it, including the loop itself.
func (sh *shard) enqueue(j *job) error {
	el := sh.l.eventLoop()
	if el == nil {
		// No connection has ever been served by this loop.
		j.finish(0)
		return nil
	}
	b := &sh.box
	b.mu.Lock()
	if len(b.jobs) >= sh.g.cfg.MaxPending {
		b.mu.Unlock()
		sh.stats.busy.Add(1)
		j.finish(0)
		return ErrBusy
	}
	b.jobs = append(b.jobs, j)
	kick := !b.queued
	b.queued = true
	b.mu.Unlock()
	if kick {
		if err := el.Execute(context.Background(), sh.run); err != nil {
			sh.abandon()
			return ErrClosed
		}
	}
	return nil
}

// abandon finishes every queued job with 0 when the loop cannot run them
// (the engine is stopping).
func (sh *shard) abandon() {
	b := &sh.box
	b.mu.Lock()
	jobs := b.jobs
	b.jobs = nil
	b.queued = false
	b.mu.Unlock()
	for _, j := range jobs {
		j.finish(0)
	}
}

// drainMailbox runs on the loop: it runs the jobs queued so far, in
// order, and queues itself again if more arrived meanwhile, so that a
// stream of publishes cannot starve the loop's I/O.
func (sh *shard) drainMailbox(context.Context) error {
	b := &sh.box
	b.mu.Lock()
	jobs := b.jobs
	b.jobs, b.spare = b.spare, nil
	b.mu.Unlock()
	for i, j := range jobs {
		j.finish(j.run(sh))
		jobs[i] = nil
	}
	b.mu.Lock()
	if cap(jobs) <= sh.g.cfg.MaxPending {
		b.spare = jobs[:0]
	}
	more := len(b.jobs) > 0
	if !more {
		b.queued = false
	}
	b.mu.Unlock()
	if more {
		if el := sh.l.eventLoop(); el == nil || el.Execute(context.Background(), sh.run) != nil {
			sh.abandon()
		}
	}
	return nil
}
