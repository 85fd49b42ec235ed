package gateway

import (
	"errors"
	"sync/atomic"

	"github.com/myriadws/myriad/server"
)

// job is work handed to every loop: a publish, a presence event or a
// presence query. The same job is posted to each loop once (server's
// Loop.Post keeps the order of posts per loop); each loop runs it on its
// own shard and adds its count. done (nil for fire-and-forget jobs) is
// closed when every loop has finished or given up.
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

// enqueue posts j to the shard's loop. It always accounts for the loop's
// share of j: either the loop finishes it later, or enqueue finishes it
// with 0 now and returns why (server.ErrBusy, or ErrClosed when the
// server is stopping). A loop that has never served a connection has no
// subscriber to deliver to: its share is 0, and no error. Any goroutine
// may call it, including the loop itself.
func (sh *shard) enqueue(j *job) error { return sh.enqueueRun(j, j.run) }

// enqueueRun is enqueue with the loop's work given apart from j, for jobs
// made of several pieces (one message per topic) that count as one. While
// run runs, j is the shard's current job, so a sliced delivery it starts
// (deliverSliced) holds j open until its last step.
func (sh *shard) enqueueRun(j *job, run func(*shard) int) error {
	err := sh.l.Post(func() {
		sh.cur = j
		n := run(sh)
		sh.cur = nil
		j.finish(n)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, server.ErrUnbound):
		j.finish(0)
		return nil
	case errors.Is(err, server.ErrBusy):
		sh.stats.busy.Add(1)
		j.finish(0)
		return err
	default:
		j.finish(0)
		return ErrClosed
	}
}
