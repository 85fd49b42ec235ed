package peer

import "sync"

// Set is the subscriber set of a peer's /ws: connections are added when
// they open and removed when they close, and a publish walks a snapshot so
// that it writes without holding the lock. Its zero value is ready; all
// methods may be called from any goroutine.
type Set[T comparable] struct {
	mu sync.Mutex
	m  map[T]struct{}
}

// Add puts c in the set.
func (s *Set[T]) Add(c T) {
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[T]struct{})
	}
	s.m[c] = struct{}{}
	s.mu.Unlock()
}

// Remove takes c out of the set; removing a missing c does nothing.
func (s *Set[T]) Remove(c T) {
	s.mu.Lock()
	delete(s.m, c)
	s.mu.Unlock()
}

// Len is the number of connections in the set.
func (s *Set[T]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Snapshot appends the connections in the set to dst and returns it.
func (s *Set[T]) Snapshot(dst []T) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.m {
		dst = append(dst, c)
	}
	return dst
}
