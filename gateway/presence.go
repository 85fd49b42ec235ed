package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Presence is who is subscribed to a topic.
type Presence struct {
	Topic string `json:"topic"`
	// Count is the number of subscribed connections.
	Count int `json:"count"`
	// Users are the distinct user ids of the subscribed connections that
	// presented a token, sorted; anonymous connections count but are not
	// listed.
	Users []string `json:"users"`
	// Truncated is set when Users was cut at MaxPresenceUsers; Next is
	// then the cursor for the following page (PresencePage's after).
	Truncated bool   `json:"truncated,omitempty"`
	Next      string `json:"next,omitempty"`
}

// Presence asks every loop for topic's subscribers: the first page of
// PresencePage. Any goroutine may call it except an event loop.
func (g *Gateway) Presence(ctx context.Context, topic string) (Presence, error) {
	return g.PresencePage(ctx, topic, "")
}

// PresencePage asks every loop for topic's subscribers, listing the users
// that sort after after: the pages of a long list are stable, and the
// list of one page is the smallest MaxPresenceUsers names, not whichever
// the loops' maps yield first. Any goroutine may call it except an event
// loop.
func (g *Gateway) PresencePage(ctx context.Context, topic, after string) (Presence, error) {
	p := Presence{Topic: topic, Users: []string{}}
	if err := checkTopic(topic, g.cfg.MaxTopicLen); err != nil {
		return p, &PublishError{Reason: fmt.Sprintf("topic %q: %v", topic, err)}
	}
	if g.srv == nil {
		return p, ErrNotAttached
	}
	limit := g.cfg.MaxPresenceUsers
	users := make([][]string, len(g.shards))
	j := &job{done: make(chan struct{}), run: func(sh *shard) int {
		ts := sh.topics[topic]
		if ts == nil {
			return 0
		}
		// Every name after the cursor is looked at, so that each loop
		// sends its smallest; the work is bounded by the topic's users on
		// this loop, and the answer by limit.
		list := make([]string, 0, min(len(ts.users), limit+1))
		for u := range ts.users {
			if u > after {
				list = append(list, u)
			}
		}
		slices.Sort(list)
		users[sh.idx] = list[:min(len(list), limit+1)]
		return len(ts.subs)
	}}
	err := g.dispatch(j)
	select {
	case <-j.done:
	case <-ctx.Done():
		return p, ctx.Err()
	case <-g.srv.Done():
		return p, ErrClosed
	}
	if err != nil && !errors.Is(err, ErrClosed) {
		return p, err
	}
	p.Count = int(j.delivered.Load())
	p.Users, p.Truncated = mergeUsers(users, limit)
	if p.Truncated {
		p.Next = p.Users[len(p.Users)-1]
	}
	return p, nil
}

// mergeUsers joins the loops' user lists into one sorted list without
// duplicates (a user may be connected through several loops), cut at
// limit.
func mergeUsers(lists [][]string, limit int) ([]string, bool) {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if all == nil {
		all = []string{}
	}
	if len(all) > limit {
		return all[:limit], true
	}
	return all, false
}
