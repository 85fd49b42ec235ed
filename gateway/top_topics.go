package gateway

import (
	"cmp"
	"context"
	"errors"
	"slices"
)

// TopicCount is one topic and its number of subscribers on this node.
type TopicCount struct {
	Topic       string `json:"topic"`
	Subscribers int    `json:"subscribers"`
}

// TopTopics returns up to n topics with the most subscribers, most first
// (ties by name). Each loop walks its own topics, on its own goroutine,
// and offers its 4n largest; the merge sums them. So the answer is exact
// while each loop holds at most 4n topics, and with more it can miss a
// topic that is spread thinly over many loops. Its cost is a walk over
// every topic of the node: meant for a dashboard polling once a second,
// not for a hot path. Any goroutine but an event loop may call it; it
// waits for every loop.
func (g *Gateway) TopTopics(ctx context.Context, n int) ([]TopicCount, error) {
	if g.srv == nil {
		return nil, ErrNotAttached
	}
	if n <= 0 {
		return nil, nil
	}
	parts := make([][]TopicCount, len(g.shards))
	j := &job{done: make(chan struct{}), run: func(sh *shard) int {
		parts[sh.idx] = sh.topTopics(4 * n)
		return 0
	}}
	err := g.dispatch(j)
	select {
	case <-j.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-g.srv.Done():
		return nil, ErrClosed
	}
	if err != nil && !errors.Is(err, ErrClosed) {
		return nil, err
	}
	sum := make(map[string]int)
	for _, p := range parts {
		for _, tc := range p {
			sum[tc.Topic] += tc.Subscribers
		}
	}
	all := make([]TopicCount, 0, len(sum))
	for t, c := range sum {
		all = append(all, TopicCount{Topic: t, Subscribers: c})
	}
	sortTopics(all)
	return all[:min(n, len(all))], nil
}

// topTopics returns the shard's k topics with the most subscribers.
// Loop-only.
func (sh *shard) topTopics(k int) []TopicCount {
	all := make([]TopicCount, 0, len(sh.topics))
	for t, ts := range sh.topics {
		all = append(all, TopicCount{Topic: t, Subscribers: len(ts.subs)})
	}
	sortTopics(all)
	return slices.Clip(all[:min(k, len(all))])
}

func sortTopics(s []TopicCount) {
	slices.SortFunc(s, func(a, b TopicCount) int {
		if c := cmp.Compare(b.Subscribers, a.Subscribers); c != 0 {
			return c
		}
		return cmp.Compare(a.Topic, b.Topic)
	})
}
