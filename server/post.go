package server

import (
	"context"
	"errors"
	"sync"

	"github.com/panjf2000/gnet/v2"
)

// Loop is one event loop of a Server, as applications see it. Every
// connection belongs to one Loop for its whole life, and an application
// that keeps its state per Loop (a slice indexed by Index, built from
// Server.Loops right after New) needs no lock for it: the loop's own
// callbacks and the functions posted to it run one at a time, on the
// loop's goroutine.
type Loop struct{ l *loop }

// Errors returned by Post.
var (
	// ErrBusy is returned when the loop's queue of posted functions is
	// full (Config.MaxPosted): the function was not queued.
	ErrBusy = errors.New("event loop busy: too many posted functions")
	// ErrStopped is returned when the server is stopping or stopped: the
	// function was not queued, or was queued and will not run.
	ErrStopped = errors.New("server stopped")
	// ErrUnbound is returned by Post on a loop that has not served a
	// connection yet (see Post): the function was not queued.
	ErrUnbound = errors.New("event loop has served no connection yet")
)

// postBatch is how many posted functions one turn of the loop runs before
// it yields to I/O: a stream of posts cannot starve the loop's sockets,
// and a long queue is still worked through in a few dozen turns.
const postBatch = 128

// Index returns the loop's position in Server.Loops, from 0 to
// Config.Loops-1. Any goroutine may call it.
func (lp *Loop) Index() int { return lp.l.idx }

// Post queues fn to run on the loop, after every function posted before
// it. It is how other goroutines (and other loops) reach the loop's
// connections and state: fn may use any Conn of this loop, and must check
// what it finds, since a connection may have closed since fn was posted.
// fn must not block. Any goroutine may call Post, the loop itself
// included.
//
// gnet's own Execute does not keep order under load (its urgent queue
// overflows into a second one that runs later), so Post keeps a FIFO per
// loop, bounded by Config.MaxPosted, and one gnet task at a time runs it
// in batches of postBatch.
//
// A loop is bound to its gnet event loop by the first connection it
// serves: gnet v2 offers no way to enumerate its event loops when the
// engine boots. Until then the loop has no connection that fn could
// touch, and Post returns ErrUnbound without queueing fn: a broadcast can
// treat that as "nothing to do there". It returns ErrBusy when the queue
// is full and ErrStopped when the server is stopping.
func (lp *Loop) Post(fn func()) error {
	l := lp.l
	if l.srv.stopping.Load() {
		return ErrStopped
	}
	el := l.eventLoop()
	if el == nil {
		return ErrUnbound
	}
	b := &l.box
	b.mu.Lock()
	if len(b.fns)-b.head >= l.srv.cfg.MaxPosted {
		b.mu.Unlock()
		l.stats.postBusy.Add(1)
		return ErrBusy
	}
	b.fns = append(b.fns, fn)
	kick := !b.queued
	b.queued = true
	b.mu.Unlock()
	l.stats.posted.Add(1)
	if kick {
		if err := el.Execute(context.Background(), l.runBox); err != nil {
			l.abandonPosted()
			return ErrStopped
		}
	}
	return nil
}

// mailbox is a loop's FIFO of posted functions: fns[head:] wait to run.
type mailbox struct {
	mu     sync.Mutex
	fns    []func()
	head   int
	queued bool // a gnet task to run the mailbox is queued or running
}

// runPosted runs on the loop: it runs the next batch of posted functions
// in order and queues itself again when more are waiting.
func (l *loop) runPosted(context.Context) error {
	b := &l.box
	b.mu.Lock()
	n := min(len(b.fns)-b.head, postBatch)
	l.batch = append(l.batch[:0], b.fns[b.head:b.head+n]...)
	clear(b.fns[b.head : b.head+n])
	b.head += n
	switch {
	case b.head == len(b.fns):
		b.fns, b.head = b.fns[:0], 0
		if cap(b.fns) > 2*l.srv.cfg.MaxPosted {
			b.fns = nil // let a burst's backing array go
		}
	case b.head >= postBatch && 2*b.head >= len(b.fns):
		k := copy(b.fns, b.fns[b.head:])
		clear(b.fns[k:])
		b.fns, b.head = b.fns[:k], 0
	}
	more := b.head < len(b.fns)
	b.queued = more
	b.mu.Unlock()
	for i, fn := range l.batch {
		l.batch[i] = nil
		fn()
	}
	if more {
		// Queued from another goroutine, for the reason kickJobs gives:
		// queued from here, the next batch would run before any I/O.
		el := l.eventLoop()
		if el == nil {
			l.abandonPosted()
			return nil
		}
		go func() {
			if el.Execute(context.Background(), l.runBox) != nil {
				l.abandonPosted()
			}
		}()
	}
	return nil
}

// abandonPosted drops the queued functions when the loop cannot run them
// any more (the engine is stopping).
func (l *loop) abandonPosted() {
	b := &l.box
	b.mu.Lock()
	clear(b.fns)
	b.fns, b.head, b.queued = nil, 0, false
	b.mu.Unlock()
}

// newRunBox allocates the loop's mailbox task once.
func (l *loop) newRunBox() gnet.Runnable { return gnet.RunnableFunc(l.runPosted) }

// LoopStats are one loop's counters: its posted work and its share of
// the connections and traffic (its load).
type LoopStats struct {
	Index       int    `json:"index"`
	Posted      uint64 `json:"posted"`       // functions accepted by Post
	PostBusy    uint64 `json:"post_busy"`    // Post calls refused with ErrBusy
	Queued      int    `json:"queued"`       // functions waiting to run now
	Open        int64  `json:"open"`         // TCP connections the loop holds
	MessagesIn  uint64 `json:"messages_in"`  // messages received
	MessagesOut uint64 `json:"messages_out"` // messages sent
}

// Stats returns the loop's counters. Any goroutine may call it.
func (lp *Loop) Stats() LoopStats {
	l := lp.l
	l.box.mu.Lock()
	q := len(l.box.fns) - l.box.head
	l.box.mu.Unlock()
	return LoopStats{
		Index: l.idx, Posted: l.stats.posted.Load(), PostBusy: l.stats.postBusy.Load(), Queued: q,
		Open: l.stats.open.Load(), MessagesIn: l.stats.messagesIn.Load(), MessagesOut: l.stats.messagesOut.Load(),
	}
}
