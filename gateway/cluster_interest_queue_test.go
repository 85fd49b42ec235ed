package gateway

import (
	"errors"
	"strconv"
	"testing"
)

// TestInterestQueueNetState checks that the interest queue keeps each
// topic's net state: what the broker must still be told, one entry per
// topic at most, whatever the subscribes and unsubscribes in between.
func TestInterestQueueNetState(t *testing.T) {
	type step struct {
		op    string // set+, set-, take (next), done, fail (finish with an error)
		topic string
	}
	cases := []struct {
		name  string
		steps []step
		want  map[string]bool // pending afterwards
	}{
		{"first subscriber", []step{{"set+", "a"}}, map[string]bool{"a": true}},
		{"subscribed and gone before the goroutine ran", []step{{"set+", "a"}, {"set-", "a"}}, map[string]bool{}},
		{"gone while the interest is in flight", []step{{"set+", "a"}, {"take", ""}, {"set-", "a"}, {"done", "a"}}, map[string]bool{"a": false}},
		{"back while the disinterest is in flight", []step{{"set+", "a"}, {"take", ""}, {"done", "a"}, {"set-", "a"}, {"take", ""}, {"set+", "a"}}, map[string]bool{"a": true}},
		{"gone after a failed interest", []step{{"set+", "a"}, {"take", ""}, {"set-", "a"}, {"fail", "a"}}, map[string]bool{}},
		{"two topics", []step{{"set+", "a"}, {"set+", "b"}, {"set-", "a"}}, map[string]bool{"b": true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := newInterestQueue()
			var want bool
			for _, s := range tc.steps {
				switch s.op {
				case "set+", "set-":
					q.set(s.topic, s.op == "set+")
				case "take":
					_, want, _ = q.next()
				case "done":
					q.finish(s.topic, want, nil)
				case "fail":
					q.finish(s.topic, want, errors.New("refused"))
				}
			}
			if len(q.pending) != len(tc.want) {
				t.Fatalf("pending %v, want %v", q.pending, tc.want)
			}
			for topic, w := range tc.want {
				if got, ok := q.pending[topic]; !ok || got != w {
					t.Fatalf("pending %v, want %v", q.pending, tc.want)
				}
			}
		})
	}
}

// TestInterestQueueBounded flips many topics many times with the
// goroutine stuck on one call: the queue holds one entry per topic at
// most.
func TestInterestQueueBounded(t *testing.T) {
	q := newInterestQueue()
	q.set("stuck", true)
	q.next() // in flight for the whole test
	const topics = 10
	on := make([]bool, topics)
	for i := range 100000 {
		k := i * 7 % topics
		on[k] = !on[k]
		q.set("t"+strconv.Itoa(k), on[k])
		if n := q.queued(); n > topics+1 {
			t.Fatalf("%d changes queued over %d topics and the one in flight", n, topics)
		}
	}
}
