package gateway

import "sync"

// registry counts the loops holding each topic, so Stats can report the
// number of distinct topics. It is locked only when a topic appears on or
// disappears from a loop, never on the publish path.
type registry struct {
	mu   sync.Mutex
	m    map[string]int32
	peak int
}

// add counts one more loop holding topic and reports whether it is the
// first, i.e. the node just gained its first subscriber of topic.
func (r *registry) add(topic string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]int32)
	}
	r.m[topic]++
	r.peak = max(r.peak, len(r.m))
	return r.m[topic] == 1
}

// remove counts one loop fewer holding topic and reports whether it was
// the last, i.e. the node just lost its last subscriber of topic.
func (r *registry) remove(topic string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[topic] <= 1 {
		delete(r.m, topic)
		r.m = shrink(r.m, &r.peak)
		return true
	}
	r.m[topic]--
	return false
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
