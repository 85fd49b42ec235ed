package server

import (
	"context"

	"github.com/panjf2000/gnet/v2"
)

// SliceItems is a good amount of work for one step of a sliced job: this
// many SendPrepared calls take a few hundred microseconds, so a loop that
// runs one step between rounds of I/O keeps its other connections'
// latency within that, however many subscribers a broadcast has.
const SliceItems = 512

// PostSliced runs a long job on the loop in bounded steps, so that
// accepts, upgrades and other connections' frames keep their latency
// while it runs (a fan-out to 100,000 subscribers on one loop is such a
// job). step is called on the loop; it should do a bounded amount of work
// (about SliceItems sends) and report whether the job is done. Until it
// is, the loop lets its pending I/O and tasks run and then calls step
// again; several jobs on one loop take turns, one step each. The first
// step is posted like any function (see Post, whose errors PostSliced
// returns); the following ones are not subject to MaxPosted, since
// refusing them would leave a job half done. A job still running when the
// server stops is abandoned. step keeps its own position (an index into
// a snapshot of the connections, for instance), and must check what it
// finds, since a connection may close between steps. Any goroutine may
// call PostSliced.
func (lp *Loop) PostSliced(step func() (done bool)) error {
	l := lp.l
	return lp.Post(func() { l.runStep(step) })
}

// slicedJobs is a loop's set of sliced jobs waiting for their next step,
// touched only by the loop.
type slicedJobs struct {
	waiting []func() bool       // jobs to step at the next turn
	running []func() bool       // scratch: the jobs of the turn being run
	kicked  bool                // a turn is queued
	task    gnet.Runnable       // the turn task, allocated once
	kick    chan gnet.EventLoop // to the loop's kicker goroutine; nil until the first job
}

// runStep runs one step of a job on the loop and, if it is not done,
// queues it for the next turn.
func (l *loop) runStep(step func() bool) {
	if step() {
		return
	}
	l.jobs.waiting = append(l.jobs.waiting, step)
	l.kickJobs()
}

// kickJobs queues the next turn of sliced jobs. gnet runs every task
// queued while it runs tasks in the same round, before it polls for I/O
// again, so a task that queued its own continuation from the loop would
// never yield. The continuation is queued from another goroutine instead:
// by the time it lands, the loop has normally finished its round of tasks
// and gone back to epoll, so its sockets get their turn between steps.
// That goroutine is one per loop, started with the loop's first sliced
// job and ended with Serve, so a turn costs a channel send rather than a
// goroutine: a large fan-out allocates nothing per step.
func (l *loop) kickJobs() {
	if l.jobs.kicked {
		return
	}
	el := l.eventLoop()
	if el == nil {
		l.jobs.waiting = l.jobs.waiting[:0]
		return
	}
	l.jobs.kicked = true
	if l.jobs.kick == nil {
		l.jobs.kick = make(chan gnet.EventLoop, 1)
		go l.runKicker(l.jobs.kick)
	}
	// Never blocks: kicked allows one turn in flight, and the kicker has
	// taken it from the channel before the turn clears kicked.
	l.jobs.kick <- el
}

// runKicker queues a turn of sliced jobs on the loop for each kick,
// until Serve returns.
func (l *loop) runKicker(kick <-chan gnet.EventLoop) {
	for {
		select {
		case el := <-kick:
			if err := el.Execute(context.Background(), l.jobs.task); err != nil {
				l.srv.log.Debug("sliced jobs abandoned: the loop is stopping")
			}
		case <-l.srv.done:
			return
		}
	}
}

// runJobs is one turn: one step of every waiting job, in the order they
// started waiting.
func (l *loop) runJobs(context.Context) error {
	j := &l.jobs
	j.kicked = false
	j.running, j.waiting = j.waiting, j.running[:0]
	for i, step := range j.running {
		j.running[i] = nil
		if !step() {
			j.waiting = append(j.waiting, step)
		}
	}
	j.running = j.running[:0]
	if len(j.waiting) > 0 {
		l.kickJobs()
	}
	return nil
}
