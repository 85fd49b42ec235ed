package history

import (
	"math"
	"sync"
	"sync/atomic"
)

// Per-item costs charged to the memory budget, on top of payload capacity
// and topic name length. They are the heap bytes measured by
// BenchmarkLocalMemory (see local_bench_test.go): an entry struct in its
// 80-byte size class; a topic struct, its epoch string and its share of
// the shard map. The attacker test checks the real heap against the
// budget, so an underestimate here fails a test.
const (
	entryOverhead = 80
	topicOverhead = 224
)

// entry is one stored message. It sits on two lists: its shard's age list
// (doubly linked, oldest first) and its topic's list (singly linked,
// oldest first). Every removal takes a topic's oldest entry, so the topic
// list never needs unlinking in the middle.
type entry struct {
	payload      []byte
	offset       uint64
	at           int64 // unix nanoseconds, non-decreasing along the shard list
	t            *topic
	older, newer *entry
	next         *entry
}

func (e *entry) cost() int64 { return entryOverhead + int64(cap(e.payload)) }

// topic is a topic's history and numbering. A topic with no entries is a
// tombstone: it keeps its epoch and last offset so a reader that has seen
// everything can still recover, sits on its shard's tombstone list, and
// goes after the TTL or under memory pressure. Losing a topic struct is
// losing its history: the next one starts a new epoch.
type topic struct {
	name         string
	epoch        string
	last         uint64
	first, tail  *entry
	count        int
	idle         int64 // when it became a tombstone; valid while count == 0
	older, newer *topic
}

func (t *topic) cost() int64 { return topicOverhead + int64(len(t.name)) }

// firstOffset is the oldest offset the topic still holds, or last+1.
func (t *topic) firstOffset() uint64 {
	if t.first == nil {
		return t.last + 1
	}
	return t.first.offset
}

// shard is a set of topics under one lock. oldest mirrors the time of its
// oldest entry or tombstone (math.MaxInt64 when it holds none) so the
// evictor can pick a shard without taking every lock.
type shard struct {
	mu                   sync.Mutex
	topics               map[string]*topic
	head, tail           *entry
	emptyHead, emptyTail *topic
	lastAt               int64
	oldest               atomic.Int64
	// forgotten counts map deletions since the map was last rebuilt: Go
	// maps never shrink and churn leaves them larger than their contents,
	// so a shard rebuilds its map once deletions outnumber live topics.
	forgotten int
}

func newShard() *shard {
	s := &shard{topics: make(map[string]*topic)}
	s.oldest.Store(math.MaxInt64)
	return s
}

// refreshOldest recomputes oldest; the caller holds mu.
func (s *shard) refreshOldest() {
	o := int64(math.MaxInt64)
	if s.head != nil {
		o = s.head.at
	}
	if s.emptyHead != nil && s.emptyHead.idle < o {
		o = s.emptyHead.idle
	}
	s.oldest.Store(o)
}

// bury puts t, just emptied or created, on the tombstone list at idle.
func (s *shard) bury(t *topic, idle int64) {
	if s.emptyTail != nil {
		idle = max(idle, s.emptyTail.idle)
	}
	t.idle = idle
	t.older, t.newer = s.emptyTail, nil
	if s.emptyTail != nil {
		s.emptyTail.newer = t
	} else {
		s.emptyHead = t
	}
	s.emptyTail = t
}

// unbury takes t off the tombstone list.
func (s *shard) unbury(t *topic) {
	if t.older != nil {
		t.older.newer = t.newer
	} else {
		s.emptyHead = t.newer
	}
	if t.newer != nil {
		t.newer.older = t.older
	} else {
		s.emptyTail = t.older
	}
	t.older, t.newer = nil, nil
}

// forget removes tombstone t from the shard and returns the bytes freed.
func (s *shard) forget(t *topic) int64 {
	s.unbury(t)
	delete(s.topics, t.name)
	if s.forgotten++; s.forgotten > 2*len(s.topics)+256 {
		fresh := make(map[string]*topic, len(s.topics))
		for k, v := range s.topics {
			fresh[k] = v
		}
		s.topics, s.forgotten = fresh, 0
	}
	return t.cost()
}

// lookup returns the topic, creating it as a tombstone at now when create
// is set; the second result is the bytes the creation costs.
func (s *shard) lookup(name string, create bool, now int64, newEpoch func() string) (*topic, int64) {
	if t := s.topics[name]; t != nil || !create {
		return t, 0
	}
	t := &topic{name: name, epoch: newEpoch()}
	s.topics[name] = t
	s.bury(t, now)
	return t, t.cost()
}

// push appends e as the newest entry of t and of the shard.
func (s *shard) push(t *topic, e *entry) {
	if t.count == 0 {
		s.unbury(t)
	}
	e.at = max(e.at, s.lastAt)
	s.lastAt = e.at
	t.last++
	e.offset, e.t = t.last, t
	if t.tail != nil {
		t.tail.next = e
	} else {
		t.first = e
	}
	t.tail = e
	t.count++
	e.older = s.tail
	if s.tail != nil {
		s.tail.newer = e
	} else {
		s.head = e
	}
	s.tail = e
}

// dropOldest removes t's oldest entry and returns the bytes freed; a topic
// left empty becomes a tombstone at idle.
func (s *shard) dropOldest(t *topic, idle int64) int64 {
	e := t.first
	t.first = e.next
	t.count--
	if t.count == 0 {
		t.tail = nil
		s.bury(t, idle)
	}
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		s.head = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		s.tail = e.older
	}
	e.older, e.newer, e.next, e.t = nil, nil, nil, nil
	return e.cost()
}

// evictOldest drops the shard's oldest item, entry or tombstone, and
// returns the bytes freed (0 when the shard is empty). An entry's topic
// left empty is buried at the entry's own time, so under pressure it is
// next in line.
func (s *shard) evictOldest() int64 {
	e, t := s.head, s.emptyHead
	switch {
	case t != nil && (e == nil || t.idle <= e.at):
		return s.forget(t)
	case e != nil:
		return s.dropOldest(e.t, e.at)
	}
	return 0
}

// expire drops every entry older than cutoff and every tombstone buried
// before it; emptied topics are buried at now. It returns the bytes freed.
func (s *shard) expire(cutoff, now int64) int64 {
	var freed int64
	for s.head != nil && s.head.at < cutoff {
		freed += s.dropOldest(s.head.t, now)
	}
	for s.emptyHead != nil && s.emptyHead.idle < cutoff {
		freed += s.forget(s.emptyHead)
	}
	return freed
}
