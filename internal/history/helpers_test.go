package history

import (
	"context"
	"testing"
	"time"
)

// t0 is an arbitrary clock origin for tests that drive time by hand.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newLocal(t *testing.T, cfg Config) *Local {
	t.Helper()
	l, err := NewLocal(cfg)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// appendN appends n messages "topic#i" at t0+i seconds and returns the
// last position.
func appendN(t *testing.T, l *Local, topic string, n int) Position {
	t.Helper()
	var pos Position
	for i := range n {
		p, err := l.AppendAt(topic, []byte(topic), t0.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatalf("AppendAt(%q): %v", topic, err)
		}
		pos = p
	}
	return pos
}

// since calls Since and fails the test on an error.
func since(t *testing.T, s Store, topic string, p Position, limit int) ([]Entry, bool, Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, ok, cur, err := s.Since(ctx, topic, p, limit)
	if err != nil {
		t.Fatalf("Since(%q, %+v): %v", topic, p, err)
	}
	return msgs, ok, cur
}

func offsets(msgs []Entry) []uint64 {
	out := make([]uint64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Offset
	}
	return out
}

func span(from, to uint64) []uint64 {
	out := []uint64{}
	for o := from; o <= to; o++ {
		out = append(out, o)
	}
	return out
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
