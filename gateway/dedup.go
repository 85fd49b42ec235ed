package gateway

import (
	"errors"
	"sync"
	"time"
)

// dedup remembers publish ids for Config.PublishDedupWindow, at most
// Config.PublishDedupSize of them, so that a publisher retrying after an
// answer it did not get (a timeout, a 503, a lost connection) does not
// publish twice. Entries expire in the order they were made, since the
// window is the same for all, so a FIFO queue beside the map is all the
// eviction needs: O(1) per publish, and its memory is bounded by the size
// cap. Any goroutine may use it.
type dedup struct {
	window time.Duration
	size   int

	mu    sync.Mutex
	m     map[string]*dedupEntry
	queue []*dedupEntry // oldest first from head
	head  int
}

// dedupEntry is the outcome of the first publish with one id. ready is
// closed once j and err are set; j (nil when no topic had a subscriber)
// then completes on its own.
type dedupEntry struct {
	id    string
	at    time.Time
	ready chan struct{}
	j     *job
	err   error
}

func newDedup(window time.Duration, size int) *dedup {
	if window < 0 {
		return nil
	}
	return &dedup{window: window, size: size, m: make(map[string]*dedupEntry)}
}

// claim returns the entry for id and whether the caller is its first
// publisher, who must then call settle.
func (d *dedup) claim(id string, now time.Time) (*dedupEntry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	if e := d.m[id]; e != nil {
		return e, false
	}
	e := &dedupEntry{id: id, at: now, ready: make(chan struct{})}
	d.m[id] = e
	d.queue = append(d.queue, e)
	return e, true
}

// expire drops entries older than the window and the oldest beyond the
// size cap. Called with mu held.
func (d *dedup) expire(now time.Time) {
	for d.head < len(d.queue) {
		e := d.queue[d.head]
		if len(d.queue)-d.head < d.size && now.Sub(e.at) < d.window {
			break
		}
		if d.m[e.id] == e {
			delete(d.m, e.id)
		}
		d.queue[d.head] = nil
		d.head++
	}
	if d.head > 64 && d.head > len(d.queue)/2 {
		d.queue = append(d.queue[:0], d.queue[d.head:]...)
		d.head = 0
	}
	if len(d.m) == 0 {
		d.m = make(map[string]*dedupEntry) // maps keep their buckets
	}
}

// settle records the first publish's outcome. A publish refused for its
// input is forgotten, so a corrected retry with the same id goes out, and
// so is one refused by a full cluster publish queue, which published
// nothing.
func (d *dedup) settle(e *dedupEntry, j *job, err error) {
	e.j, e.err = j, err
	if _, bad := err.(*PublishError); bad || errors.Is(err, ErrPublishQueueFull) {
		d.mu.Lock()
		if d.m[e.id] == e {
			delete(d.m, e.id)
		}
		d.mu.Unlock()
	}
	close(e.ready)
}

// len is the number of ids remembered.
func (d *dedup) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.m)
}
