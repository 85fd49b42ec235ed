package gateway

import "sync"

// registry counts the loops holding each topic, so Stats can report the
// number of distinct topics, and on a cluster node it tells the link when
// the node gains its first subscriber of a topic or loses its last. It is
// locked only when a topic appears on or disappears from a loop, never on
// the publish path.
type registry struct {
	mu   sync.Mutex
	m    map[string]int32
	peak int
	// link takes the node's interest changes (nil: a single node); set
	// by JoinCluster before the server serves. It is told under mu, so
	// it sees one topic's changes in the order they happened, whichever
	// loops made them, and it never waits.
	link *interestQueue
}

// add counts one more loop holding topic.
func (r *registry) add(topic string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]int32)
	}
	r.m[topic]++
	r.peak = max(r.peak, len(r.m))
	if r.m[topic] == 1 && r.link != nil {
		r.link.set(topic, true)
	}
}

// remove counts one loop fewer holding topic.
func (r *registry) remove(topic string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[topic] > 1 {
		r.m[topic]--
		return
	}
	delete(r.m, topic)
	r.m = shrink(r.m, &r.peak)
	if r.link != nil {
		r.link.set(topic, false)
	}
}

// has reports whether the node has a subscriber of topic.
func (r *registry) has(topic string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[topic] > 0
}

// len is the number of distinct topics with a subscriber on the node.
func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}
