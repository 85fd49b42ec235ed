package gateway

import (
	"github.com/myriadws/myriad/server"
)

// A topic with many subscribers on one loop is written to in bounded
// steps (server.Loop.PostSliced), so that a large publish to many slow
// subscribers does not hold the loop while accepts, upgrades and other
// connections' frames wait. The subscribers are copied into a snapshot
// when the publish reaches the loop, so the set a message goes to is the
// one of that moment, as with a direct delivery; a subscriber that closes
// between steps is skipped (its send fails with server.ErrClosed).
//
// Every delivery of a shard goes through one FIFO while a sliced one is
// in progress, so messages keep their order on each subscriber: a small
// publish that arrives behind a large one waits for it instead of
// overtaking it. The job's share of the shard is finished, with the
// count, when its last step has run: the publish answer still counts
// every subscriber socket it was queued on (PROTOCOL.md, "delivered").

// sliceBytes bounds the bytes one step writes: a step of SliceItems small
// frames costs a few hundred microseconds, and so does a step of a few
// large ones, rather than SliceItems copies of a megabyte.
const sliceBytes = 1 << 20

// maxKeptSnapshot is the largest snapshot capacity a recycled fan-out
// keeps (512 KiB of pointers), and maxFreeFanouts how many are kept: the
// steady state allocates nothing without a loop holding on to a burst's
// worth of memory.
const (
	maxKeptSnapshot = 64 << 10
	maxFreeFanouts  = 8
)

// fanout is one topic's message being delivered on one loop in steps:
// a message on every transport (deliverMessage), or a bare frame for
// WebSocket subscribers (deliver).
type fanout struct {
	j     *job
	topic string
	m     *message              // nil for a bare frame
	fr    *server.PreparedFrame // m.frame, or the bare frame
	conns []*server.Conn        // the subscribers when the message reached the loop
	pos   int                   // next index in conns
	n     int                   // sockets the message was queued on so far
}

// fanQueue is a shard's deliveries in progress, touched only by its loop.
type fanQueue struct {
	queue   []*fanout // FIFO from head
	head    int
	free    []*fanout
	running bool        // a sliced job is stepping through queue
	step    func() bool // sh.fanStep, allocated once
}

// slice is how many subscribers one step writes fr to.
func (sh *shard) slice(fr *server.PreparedFrame) int {
	per := max(len(fr.Payload()), 1)
	return max(min(sh.g.sliceItems, sliceBytes/per), 1)
}

// sliced reports whether a delivery of fr to ts's subscribers goes
// through the queue: when it takes more than one step, or when a sliced
// delivery is in progress that it must not overtake.
func (sh *shard) sliced(ts *topicSubs, fr *server.PreparedFrame) bool {
	return sh.fan.running || len(ts.subs) > sh.slice(fr)
}

// deliverSliced queues m (or, when m is nil, the bare frame fr) for ts's
// subscribers as part of sh's current job, whose share stays open until
// the last step (j.pending counts it). The first step runs now when
// nothing is ahead of it.
func (sh *shard) deliverSliced(ts *topicSubs, m *message, fr *server.PreparedFrame) {
	f := sh.newFanout()
	f.j, f.topic, f.m, f.fr = sh.cur, ts.name, m, fr
	if m != nil {
		f.fr = m.frame
	}
	for c := range ts.subs {
		f.conns = append(f.conns, c)
	}
	if f.j != nil {
		f.j.pending.Add(1)
	}
	q := &sh.fan
	q.queue = append(q.queue, f)
	if q.running {
		return
	}
	q.running = true
	if sh.fanStep() {
		return
	}
	if err := sh.l.PostSliced(q.step); err != nil {
		// The loop's queue is full or the server is stopping: finish
		// here rather than leave the publish waiting forever.
		for !sh.fanStep() {
		}
	}
}

// fanStep runs one bounded step of the queue and reports whether it is
// empty. It finishes each fan-out's job share as the fan-out completes.
func (sh *shard) fanStep() bool {
	q := &sh.fan
	for budget := 0; q.head < len(q.queue); {
		f := q.queue[q.head]
		limit := sh.slice(f.fr)
		if budget >= limit {
			return false
		}
		end := min(len(f.conns), f.pos+limit-budget)
		sent := 0
		if ts := sh.topics[f.topic]; ts != nil {
			for _, c := range f.conns[f.pos:end] {
				if sh.fanSend(f, ts, c) {
					sent++
				}
			}
		}
		budget += end - f.pos
		f.pos = end
		f.n += sent
		sh.stats.delivered.Add(uint64(sent))
		if f.pos < len(f.conns) {
			return false
		}
		q.queue[q.head] = nil
		q.head++
		if f.j != nil {
			f.j.finish(f.n)
		}
		sh.recycle(f)
	}
	q.queue, q.head, q.running = q.queue[:0], 0, false
	return true
}

// fanSend writes f's message to c if c is still subscribed, through
// admit for a subscriber that is recovering, and reports whether c took it.
func (sh *shard) fanSend(f *fanout, ts *topicSubs, c *server.Conn) bool {
	cs, ok := ts.subs[c]
	switch {
	case !ok:
		return false
	case f.m == nil:
		return sh.push(c, f.fr)
	case cs != nil && !sh.admit(c, ts, cs, f.m):
		return false
	}
	return sh.send(c, f.m)
}

// newFanout takes a fan-out from the free list.
func (sh *shard) newFanout() *fanout {
	q := &sh.fan
	if n := len(q.free); n > 0 {
		f := q.free[n-1]
		q.free[n-1] = nil
		q.free = q.free[:n-1]
		return f
	}
	return new(fanout)
}

// recycle clears f (so its snapshot keeps no connection alive) and keeps
// it for the next large delivery.
func (sh *shard) recycle(f *fanout) {
	conns := f.conns
	clear(conns)
	if cap(conns) > maxKeptSnapshot {
		conns = nil
	}
	*f = fanout{conns: conns[:0]}
	if len(sh.fan.free) < maxFreeFanouts {
		sh.fan.free = append(sh.fan.free, f)
	}
}
