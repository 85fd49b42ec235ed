package history

import (
	"context"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"
)

// Local is the single-node history store: every topic's recent messages
// in this process's memory. It is safe for concurrent use; topics are
// spread over Config.Shards shards, each with its own lock, so appends to
// different topics rarely contend and appends to one topic are serialised.
//
// Memory: every entry costs its payload capacity plus entryOverhead, every
// topic (tombstones included) topicOverhead plus its name. When the total
// passes Config.Memory, the appender evicts the oldest item of the shard
// whose oldest item is oldest over all shards, until the total fits: that
// is the global oldest first, up to appends racing on other shards.
type Local struct {
	cfg    Config
	seed   maphash.Seed
	shards []*shard
	bytes  atomic.Int64
	closed atomic.Bool

	evicted atomic.Uint64
}

// LocalStats are a Local store's gauges and counters.
type LocalStats struct {
	// Bytes is the memory charged to the budget now.
	Bytes int64
	// Topics counts topics with history or tombstones; Messages stored
	// messages.
	Topics, Messages int
	// Evicted counts messages and tombstones dropped by the memory budget.
	Evicted uint64
}

// NewLocal returns an empty store. Every epoch it hands out is new, so a
// restarted process never matches a reader's old position.
func NewLocal(cfg Config) (*Local, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	l := &Local{cfg: cfg, seed: maphash.MakeSeed(), shards: make([]*shard, cfg.Shards)}
	for i := range l.shards {
		l.shards[i] = newShard()
	}
	return l, nil
}

var _ Store = (*Local)(nil)

func (l *Local) shard(topic string) *shard {
	return l.shards[maphash.String(l.seed, topic)%uint64(len(l.shards))]
}

// newEpoch returns a fresh random epoch. A 64-bit random value makes a
// collision with a reader's stale epoch negligible.
func newEpoch() string { return strconv.FormatUint(rand.Uint64(), 36) }

// Append stores a copy of payload as the topic's next message, stamped
// with the current time. ctx is not used: Local never blocks. Any
// goroutine may call it.
func (l *Local) Append(_ context.Context, topic string, payload []byte) (Position, error) {
	return l.AppendAt(topic, payload, time.Now())
}

// AppendAt is Append at a given time, for tests and for callers with a
// coarse clock. Times that go backwards on a shard are raised to its
// latest, so age order and append order agree. Any goroutine may call it.
func (l *Local) AppendAt(topic string, payload []byte, now time.Time) (Position, error) {
	return l.appendAt(topic, payload, now, nil)
}

func (l *Local) appendAt(topic string, payload []byte, now time.Time, fn func(Position)) (Position, error) {
	if l.closed.Load() {
		return Position{}, ErrClosed
	}
	if topic == "" {
		return Position{}, ErrBadTopic
	}
	e := &entry{payload: append([]byte(nil), payload...), at: now.UnixNano()}
	if e.cost()+topicOverhead+int64(len(topic)) > l.cfg.Memory {
		return Position{}, ErrTooLarge
	}
	s := l.shard(topic)
	s.mu.Lock()
	t, delta := s.lookup(topic, true, e.at, newEpoch)
	s.push(t, e)
	delta += e.cost()
	if n := l.cfg.sizeBound(); n > 0 && t.count > n {
		delta -= s.dropOldest(t, e.at)
	}
	pos := Position{Offset: e.offset, Epoch: t.epoch}
	if fn != nil {
		fn(pos)
	}
	s.refreshOldest()
	s.mu.Unlock()
	if l.bytes.Add(delta) > l.cfg.Memory {
		l.shed()
	}
	return pos, nil
}

// shed evicts the globally oldest items until the budget holds. It takes
// one shard lock at a time and never while holding another; it keeps
// evicting from one shard while that shard's oldest item is older than
// every other shard's.
func (l *Local) shed() {
	for l.bytes.Load() > l.cfg.Memory {
		var victim *shard
		oldest, next := int64(math.MaxInt64), int64(math.MaxInt64)
		for _, s := range l.shards {
			switch o := s.oldest.Load(); {
			case o < oldest:
				victim, oldest, next = s, o, oldest
			case o < next:
				next = o
			}
		}
		if victim == nil {
			return
		}
		victim.mu.Lock()
		for l.bytes.Load() > l.cfg.Memory {
			freed := victim.evictOldest()
			if freed == 0 {
				break
			}
			l.evicted.Add(1)
			l.bytes.Add(-freed)
			victim.refreshOldest()
			if victim.oldest.Load() > next {
				break
			}
		}
		victim.refreshOldest()
		victim.mu.Unlock()
	}
}

// Since implements Store.Since; ctx is not used. Entries share their
// payloads with the store. A topic the store does not know is created as
// Position does, so cur always carries an epoch. Any goroutine may call
// it.
func (l *Local) Since(_ context.Context, topic string, since Position, limit int) ([]Entry, bool, Position, error) {
	if l.closed.Load() {
		return nil, false, Position{}, ErrClosed
	}
	if topic == "" {
		return nil, false, Position{}, ErrBadTopic
	}
	s := l.shard(topic)
	s.mu.Lock()
	t, delta := s.lookup(topic, true, time.Now().UnixNano(), newEpoch)
	cur := Position{Offset: t.last, Epoch: t.epoch}
	ok := since.Epoch == t.epoch && since.Offset <= t.last && since.Offset+1 >= t.firstOffset()
	var out []Entry
	for e := t.first; ok && e != nil && (limit <= 0 || len(out) < limit); e = e.next {
		if e.offset > since.Offset {
			out = append(out, Entry{Offset: e.offset, Time: time.Unix(0, e.at), Payload: e.payload})
		}
	}
	s.refreshOldest()
	s.mu.Unlock()
	if delta > 0 && l.bytes.Add(delta) > l.cfg.Memory {
		l.shed()
	}
	return out, ok, cur, nil
}

// Position implements Store.Position. A topic the store does not know
// is created empty, with a new epoch, so a reader of a quiet topic holds
// an epoch its first messages will match; the creation is charged to the
// budget like any topic. Any goroutine may call it.
func (l *Local) Position(_ context.Context, topic string) (Position, error) {
	if l.closed.Load() {
		return Position{}, ErrClosed
	}
	if topic == "" {
		return Position{}, ErrBadTopic
	}
	s := l.shard(topic)
	s.mu.Lock()
	t, delta := s.lookup(topic, true, time.Now().UnixNano(), newEpoch)
	pos := Position{Offset: t.last, Epoch: t.epoch}
	s.refreshOldest()
	s.mu.Unlock()
	if delta > 0 && l.bytes.Add(delta) > l.cfg.Memory {
		l.shed()
	}
	return pos, nil
}

// Expire drops messages older than the TTL and tombstones buried longer
// than it, as of now. It is meant for a ticker (a few times per TTL); any
// goroutine may call it.
func (l *Local) Expire(now time.Time) {
	ttl := l.cfg.ttlBound()
	if ttl == 0 || l.closed.Load() {
		return
	}
	n := now.UnixNano()
	cutoff := n - int64(ttl)
	for _, s := range l.shards {
		if s.oldest.Load() >= cutoff {
			continue
		}
		s.mu.Lock()
		freed := s.expire(cutoff, n)
		s.refreshOldest()
		s.mu.Unlock()
		l.bytes.Add(-freed)
	}
}

// Stats returns the store's figures; it walks every shard under its lock,
// so it is for tests and occasional monitoring. Any goroutine may call it.
func (l *Local) Stats() LocalStats {
	st := LocalStats{Bytes: l.bytes.Load(), Evicted: l.evicted.Load()}
	for _, s := range l.shards {
		s.mu.Lock()
		st.Topics += len(s.topics)
		for _, t := range s.topics {
			st.Messages += t.count
		}
		s.mu.Unlock()
	}
	return st
}

// Close drops every topic and makes later calls fail with ErrClosed. Any
// goroutine may call it; it is idempotent.
func (l *Local) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	for _, s := range l.shards {
		s.mu.Lock()
		s.topics = make(map[string]*topic)
		s.head, s.tail, s.emptyHead, s.emptyTail = nil, nil, nil, nil
		s.refreshOldest()
		s.mu.Unlock()
	}
	l.bytes.Store(0)
	return nil
}

// AppendThen is AppendAt that also calls fn with the new message's
// position before the topic's shard is unlocked, so that calls of fn for
// one topic happen in offset order even when publishers race: the place
// to hand the message to the fan-out. fn must be quick and must not call
// the store. Any goroutine may call it.
func (l *Local) AppendThen(topic string, payload []byte, now time.Time, fn func(Position)) (Position, error) {
	return l.appendAt(topic, payload, now, fn)
}
