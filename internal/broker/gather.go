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
// caller reads len(Replies) as the number of nodes that answered. Any
// goroutine may call it.
//
// It returns within that bound whatever the broker link does: nats.go's
// subscribe and publish wait for the connection's lock, which its writer
// holds while a stuck broker socket does not drain (up to nats.go's
// flusher timeout, a minute), so they run on a goroutine of their own
// (send) and Gather stops waiting for them at the bound, with
// ErrGatherStuck. That goroutine ends, dropping its subscription, when
// nats.go lets it go. Config.MaxGathers bounds the gathers in flight,
// such goroutines included: past it Gather fails at once with
// ErrGatherBusy, so a stuck link costs a fixed amount however many
// queries arrive. It returns ctx's error only when ctx ended the wait.
func (c *Client) Gather(ctx context.Context, kind string, req []byte, expect int) (Gathered, error) {
	if kind == "" {
		return Gathered{}, ErrBadTopic
	}
	if err := ctx.Err(); err != nil {
		return Gathered{}, err
	}
	select {
	case c.gathers <- struct{}{}: // send gives the token back
	default:
		return Gathered{}, fmt.Errorf("broker: gather %q: %w (%d)", kind, ErrGatherBusy, cap(c.gathers))
	}
	wait, cancel := context.WithTimeout(ctx, c.cfg.GatherWait)
	defer cancel()
	sent := make(chan sentQuery, 1) // send never waits for a caller that left
	done := make(chan struct{})
	defer close(done)
	go c.send(Subject(c.cfg.QueryPrefix, kind), req, sent, done)

	var q sentQuery
	select {
	case q = <-sent:
	case <-wait.Done():
		select {
		case q = <-sent: // both ready: the query went out, read what came
		default:
			if ctx.Err() != nil {
				return Gathered{}, ctx.Err()
			}
			return Gathered{}, fmt.Errorf("broker: gather %q: %w", kind, ErrGatherStuck)
		}
	}
	if q.err != nil {
		return Gathered{}, fmt.Errorf("broker: gather %q: %w", kind, q.err)
	}
	var g Gathered
	seen := make(map[string]bool)
	for expect <= 0 || len(g.Replies) < expect {
		// NextMsgWithContext takes only the subscription's lock, never
		// the connection's, so it keeps to wait on a stuck link too.
		m, err := q.sub.NextMsgWithContext(wait)
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

// sentQuery is what send tells Gather: the inbox subscription the answers
// come to, or why the query was not sent.
type sentQuery struct {
	sub *nats.Subscription
	err error
}

// send makes a Gather's nats.go calls, those that may wait for a stuck
// broker link: it subscribes to a fresh inbox, publishes the query to
// subject, tells sent (buffered, so it never waits), and once done is
// closed (Gather returned) unsubscribes. A query whose Gather stopped
// waiting before the subscribe returned is not published: nobody would
// read its answers. It gives back the Gather's token when it ends, so
// Stats.Gathers counts it until then. It runs on a goroutine of its own.
func (c *Client) send(subject string, req []byte, sent chan<- sentQuery, done <-chan struct{}) {
	defer func() { <-c.gathers }()
	inbox := c.nc.NewInbox()
	sub, err := c.nc.SubscribeSync(inbox)
	if err != nil {
		sent <- sentQuery{err: err}
		return
	}
	select {
	case <-done:
	default:
		sent <- sentQuery{sub: sub, err: c.nc.PublishRequest(subject, inbox, req)}
		<-done
	}
	_ = sub.Unsubscribe()
}
