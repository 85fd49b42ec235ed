package loadgen

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// redials is a Session's reconnections: connections a scenario closed and
// asked to open again later, to the same target with the same id but a
// query of their own (a client resuming where it left off), and starting
// with the scenario fields (Seq, Expect, Next, Flags) the old connection
// had. Each keeps its own request until it has upgraded or failed for
// good; the queue is
// served by one goroutine, started on the first Redial, that hands due
// attempts (and the retries of failed ones) to the dial workers. The Conn
// stays within its size budget: the per-connection request lives here,
// looked up by id only while some redial is in progress.
type redials struct {
	mu      sync.Mutex
	reqs    map[uint64]*redial // by connection id
	queue   []job              // in due order
	closed  bool
	started bool
	done    chan struct{}
	active  atomic.Int64 // len(reqs), read without the lock on every OnOpen
}

// redial is one reconnection's request and the scenario fields it carries.
type redial struct {
	req    requestTemplate
	seq    uint64
	expect uint64
	next   int64
	flags  uint8
}

// Redial schedules a new connection with c's id and target to start at at
// (Session clock), its request's query being the target's with extra
// appended ("a=b&c=d", already escaped), and with c's scenario fields as
// they are now (Seq, Expect, Next, Flags). It is counted like any planned
// connection: pending until it upgrades (the scenario's Upgraded runs) or
// fails after Plan.Retries retries (counted as failed). Call it
// on c's loop (it reads c), typically just before or after closing c.
// It does nothing once the Session is stopping.
func (s *Session) Redial(c *Conn, extra string, at int64) {
	t := s.targets[c.target]
	path := t.path
	if extra != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + extra
	}
	t.path = path
	rd := &redial{req: newRequestTemplate(t), seq: c.Seq, expect: c.Expect, next: c.Next, flags: c.Flags}
	r := &s.redials
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || s.stopping.Load() {
		return
	}
	if r.reqs == nil {
		r.reqs = map[uint64]*redial{}
	}
	if _, again := r.reqs[c.id]; !again {
		s.planned.Add(1)
		s.pending.Add(1)
	}
	r.reqs[c.id] = rd
	r.active.Store(int64(len(r.reqs)))
	r.push(job{id: c.id, due: at, target: c.target, source: c.source})
	if !r.started {
		r.started = true
		r.done = make(chan struct{})
		go s.redialPump()
	}
}

// push inserts j in due order. Caller holds mu.
func (r *redials) push(j job) {
	i := sort.Search(len(r.queue), func(i int) bool { return r.queue[i].due > j.due })
	r.queue = append(r.queue, job{})
	copy(r.queue[i+1:], r.queue[i:])
	r.queue[i] = j
}

// request returns the request c must send: its redial's, or its target's.
// Loop-only (called from OnOpen).
func (s *Session) request(c *Conn) *requestTemplate {
	if s.redials.active.Load() > 0 {
		r := &s.redials
		r.mu.Lock()
		rd := r.reqs[c.id]
		r.mu.Unlock()
		if rd != nil {
			return &rd.req
		}
	}
	return &s.requests[c.target]
}

// carry gives a new connection the scenario fields of the one it
// replaces, if it is a redial. Called by the dial worker before the
// connection reaches its loop.
func (s *Session) carry(c *Conn) {
	if s.redials.active.Load() == 0 {
		return
	}
	r := &s.redials
	r.mu.Lock()
	rd := r.reqs[c.id]
	r.mu.Unlock()
	if rd != nil {
		c.Seq, c.Expect, c.Next, c.Flags = rd.seq, rd.expect, rd.next, rd.flags
	}
}

// redialDone forgets the request of a redial that upgraded or failed for
// good. Any goroutine.
func (s *Session) redialDone(id uint64) {
	if s.redials.active.Load() == 0 {
		return
	}
	r := &s.redials
	r.mu.Lock()
	delete(r.reqs, id)
	r.active.Store(int64(len(r.reqs)))
	r.mu.Unlock()
}

// retryRedial queues a failed redial attempt for a retry, reporting false
// if j is not a redial. Any goroutine.
func (s *Session) retryRedial(j job) bool {
	if s.redials.active.Load() == 0 {
		return false
	}
	r := &s.redials
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.reqs[j.id]; !ok || r.closed {
		return false
	}
	r.push(j)
	return true
}

// redialPump hands due redials to the dial workers until the Session stops.
func (s *Session) redialPump() {
	r := &s.redials
	defer close(r.done)
	t := time.NewTicker(s.plan.Tick)
	defer t.Stop()
	for {
		now := s.Now()
		r.mu.Lock()
		n := 0
		for n < len(r.queue) && r.queue[n].due <= now {
			n++
		}
		due := append([]job(nil), r.queue[:n]...)
		r.queue = append(r.queue[:0], r.queue[n:]...)
		r.mu.Unlock()
		for _, j := range due {
			if s.enqueue(s.dialCtx, j) != nil {
				return
			}
		}
		select {
		case <-s.dialCtx.Done():
			return
		case <-t.C:
		}
	}
}

// stopRedials stops the pump; after it returns nothing more is sent to the
// dial workers from here. Call it after the dial context is cancelled.
func (s *Session) stopRedials() {
	r := &s.redials
	r.mu.Lock()
	r.closed = true
	started := r.started
	r.mu.Unlock()
	if started {
		<-r.done
	}
}
