package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
)

// Reply is one node's answer to a Gather.
type Reply struct {
	Node string
	Data []byte
}

// Gathered is what a Gather collected: the replies that arrived within the
// bound, one per answering node (this node's own included when it
// responds), and whether every expected node answered.
type Gathered struct {
	Replies  []Reply
	Complete bool
}

// Respond answers queries of kind with fn's result, on every node that
// calls it, until the returned stop function is called. fn runs on the
// query subscription's goroutine, one query at a time; it gets the
// request's bytes and must not keep them. Any goroutine may call Respond
// and stop.
func (c *Client) Respond(kind string, fn func(req []byte) []byte) (stop func() error, err error) {
	if kind == "" {
		return nil, ErrBadTopic
	}
	sub, err := c.nc.Subscribe(Subject(c.cfg.QueryPrefix, kind), func(m *nats.Msg) {
		if m.Reply == "" {
			return
		}
		out := &nats.Msg{Subject: m.Reply, Data: fn(m.Data), Header: nats.Header{}}
		out.Header.Set(HeaderOrigin, c.cfg.NodeID)
		_ = c.nc.PublishMsg(out) // a lost answer is a node that did not answer
	})
	if err != nil {
		return nil, fmt.Errorf("broker: respond %q: %w", kind, err)
	}
	return sub.Unsubscribe, nil
}

// Gather sends req to every node responding to kind and collects answers
// until expect of them arrived (expect <= 0: no count is known, so wait the
// whole bound), GatherWait passed or ctx is done, whichever is first. The
// caller reads len(Replies) as the number of nodes that answered. It
// returns ctx's error only when ctx ended the wait. Any goroutine may call
// it.
func (c *Client) Gather(ctx context.Context, kind string, req []byte, expect int) (Gathered, error) {
	if kind == "" {
		return Gathered{}, ErrBadTopic
	}
	inbox := c.nc.NewInbox()
	sub, err := c.nc.SubscribeSync(inbox)
	if err != nil {
		return Gathered{}, fmt.Errorf("broker: gather %q: %w", kind, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := c.nc.PublishRequest(Subject(c.cfg.QueryPrefix, kind), inbox, req); err != nil {
		return Gathered{}, fmt.Errorf("broker: gather %q: %w", kind, err)
	}
	wait, cancel := context.WithTimeout(ctx, c.cfg.GatherWait)
	defer cancel()
	var g Gathered
	seen := make(map[string]bool)
	for expect <= 0 || len(g.Replies) < expect {
		m, err := sub.NextMsgWithContext(wait)
		if err != nil {
			if ctx.Err() != nil {
				return g, ctx.Err()
			}
			// No responders: the broker tells at once that nobody listens.
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) {
				return g, nil
			}
			return g, fmt.Errorf("broker: gather %q: %w", kind, err)
		}
		node := m.Header.Get(HeaderOrigin)
		if seen[node] {
			continue
		}
		seen[node] = true
		g.Replies = append(g.Replies, Reply{Node: node, Data: m.Data})
	}
	g.Complete = true
	return g, nil
}
