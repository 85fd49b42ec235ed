package loadgen

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"

	iwheel "github.com/myriadws/myriad/internal/wheel"
)

// loop is the load generator's state for one gnet event loop: the list of
// its connections, its timing wheel and its scratch buffers. Everything but
// the atomics is touched only on that loop; other goroutines reach it with
// gnet's EventLoop.Execute.
type loop struct {
	s  *Session
	el gnet.EventLoop

	head  *Conn // all connections of this loop
	wheel wheel

	out     []byte // frame being written
	payload []byte // Conn.Buffer

	// pending is when the pacer last queued a tick task; queued is set
	// while one is queued, so a slow loop gets one task, not a backlog.
	pending atomic.Int64
	queued  atomic.Bool
	waiting atomic.Int64 // connections in the wheel, for the pacer
	tickFn  gnet.RunnableFunc
}

func newLoop(s *Session, el gnet.EventLoop) *loop {
	l := &loop{s: s, el: el}
	l.wheel.init(int64(s.plan.Tick), s.Now())
	lag := s.m.recorder(HistTickLag)
	l.tickFn = func(context.Context) error {
		l.queued.Store(false)
		now := s.Now()
		lag.Record(now - l.pending.Load())
		l.advance(now)
		return nil
	}
	return l
}

func (l *loop) link(c *Conn) {
	c.loop = l
	c.wslot = iwheel.NoSlot
	c.prev = nil
	c.next = l.head
	if l.head != nil {
		l.head.prev = c
	}
	l.head = c
}

func (l *loop) unlink(c *Conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else if l.head == c {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	l.wheel.remove(c)
	l.waiting.Store(int64(l.wheel.len()))
}

func (l *loop) schedule(c *Conn, due int64) {
	l.wheel.remove(c)
	l.wheel.add(c, due)
	if l.waiting.Swap(int64(l.wheel.len())) == 0 {
		l.s.nudge()
	}
}

// advance runs the wheel up to now.
func (l *loop) advance(now int64) {
	l.wheel.advance(now, l.s.fire)
	l.waiting.Store(int64(l.wheel.len()))
}

// each calls fn for every connection of the loop that is open.
func (l *loop) each(fn func(c *Conn, now int64)) {
	now := l.s.Now()
	for c := l.head; c != nil; {
		next := c.next
		if c.phase == phaseOpen {
			fn(c, now)
		}
		c = next
	}
}

// loops is the set of event loops seen so far. gnet does not list a
// client's loops, so each registers itself on its first connection. The
// list is copied on write so the pacer can read it every tick without a
// lock or an allocation.
type loops struct {
	mu   sync.Mutex
	snap atomic.Pointer[[]*loop]
}

// get returns the loop state for el, creating it on first use. It is called
// from OnOpen, once per connection: the common case is a lock-free scan of
// a handful of entries.
func (ls *loops) get(s *Session, el gnet.EventLoop) *loop {
	for _, l := range ls.list() {
		if l.el == el {
			return l
		}
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	cur := ls.list()
	for _, l := range cur {
		if l.el == el {
			return l
		}
	}
	l := newLoop(s, el)
	next := append(append([]*loop(nil), cur...), l)
	ls.snap.Store(&next)
	return l
}

// list returns the loops; the slice must not be modified.
func (ls *loops) list() []*loop {
	if p := ls.snap.Load(); p != nil {
		return *p
	}
	return nil
}
