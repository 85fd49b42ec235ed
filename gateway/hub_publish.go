package gateway

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server"
)

// PublishError is a publish refused for its input (a bad topic or data);
// the API answers it with 400.
type PublishError struct{ Reason string }

func (e *PublishError) Error() string { return e.Reason }

// dispatch hands j to every loop once. It returns the first refusal
// (server.ErrBusy or ErrClosed); the loops that took j still run it.
func (g *Gateway) dispatch(j *job) error {
	// One extra count keeps j from completing while it is being handed out.
	j.pending.Store(int32(len(g.shards)) + 1)
	var first error
	for _, sh := range g.shards {
		if err := sh.enqueue(j); err != nil && first == nil {
			first = err
		}
	}
	j.finish(0)
	return first
}

// publishInput validates data and topics and returns the distinct
// topics, in order, with data compacted.
func (g *Gateway) publishInput(topics []string, data []byte) ([]string, []byte, error) {
	if len(data) == 0 {
		return nil, nil, &PublishError{Reason: `missing "data"`}
	}
	compact, err := compactJSON(data)
	if err != nil {
		return nil, nil, &PublishError{Reason: "data is not valid JSON: " + err.Error()}
	}
	distinct := make([]string, 0, len(topics))
	var seen map[string]bool // for long lists; short ones are scanned
	if len(topics) > 16 {
		seen = make(map[string]bool, len(topics))
	}
	for i, t := range topics {
		if err := checkTopic(t, g.cfg.MaxTopicLen); err != nil {
			return nil, nil, &PublishError{Reason: fmt.Sprintf("topic %q: %v", t, err)}
		}
		if seen != nil {
			if seen[t] {
				continue
			}
			seen[t] = true
		} else if contains(topics[:i], t) {
			continue
		}
		distinct = append(distinct, t)
	}
	if len(distinct) == 0 {
		return nil, nil, &PublishError{Reason: `no topic given: set "topic" or "topics"`}
	}
	return distinct, compact, nil
}

// dispatchMessages validates data and topics, encodes one frame per
// distinct topic and dispatches them as one job. done, when not nil,
// becomes the job's completion channel. On a cluster node it hands the
// messages to the broker instead and returns no job. Any goroutine may
// call it, including an event loop, since it does not wait.
func (g *Gateway) dispatchMessages(topics []string, data []byte, done chan struct{}) (*job, error) {
	if g.srv == nil {
		return nil, ErrNotAttached
	}
	distinct, compact, err := g.publishInput(topics, data)
	if err != nil {
		return nil, err
	}
	g.publishes.Add(uint64(len(distinct)))
	if g.cluster != nil {
		if g.hist != nil {
			// Appending waits for JetStream's acknowledgement, which a
			// loop must not: the append goes on apart, so two quick
			// publishes of one client may be stored in either order.
			go func() { _, _ = g.cluster.publish(g, distinct, compact) }()
			return nil, nil
		}
		_, err := g.cluster.publish(g, distinct, compact)
		return nil, err
	}
	if g.local != nil {
		return g.publishLocal(distinct, compact, done)
	}
	msgs := make([]*message, len(distinct))
	for i, t := range distinct {
		msgs[i] = newMessage(t, compact, history.Position{})
	}
	j := &job{done: done, run: func(sh *shard) int {
		n := 0
		for _, m := range msgs {
			n += sh.deliverMessage(m)
		}
		return n
	}}
	return j, g.dispatch(j)
}

// Publish sends data, one JSON value, to every subscriber of each topic as
// {"type":"message","topic":...,"data":...}, and returns the number of
// sockets the messages were written to, summed over the loops once each
// has run the publish. A topic without subscribers is not an error: it
// delivers to none. Publishes made one after another reach each
// subscriber in that order. Any goroutine may call it except an event
// loop, which it would wait for; it returns early, with the count so far,
// when ctx ends or the server stops.
//
// On a cluster node (JoinCluster) it returns 0 and no error once the broker
// has acknowledged the messages; see PublishCluster.
func (g *Gateway) Publish(ctx context.Context, topics []string, data json.RawMessage) (int, error) {
	if g.cluster != nil {
		_, err := g.PublishCluster(ctx, topics, data)
		return 0, err
	}
	done := make(chan struct{})
	j, err := g.dispatchMessages(topics, data, done)
	if j == nil {
		return 0, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return int(j.delivered.Load()), ctx.Err()
	case <-g.srv.Done():
		return int(j.delivered.Load()), ErrClosed
	}
	return int(j.delivered.Load()), err
}

// presenceEvent pushes a join or leave event to topic's subscribers. It
// runs on a loop and does not wait; when a loop's queue is full the event
// is skipped there and counted as busy.
func (g *Gateway) presenceEvent(kind, topic, user string) {
	if g.cluster != nil {
		g.cluster.event(g, kind, topic, user)
		return
	}
	b, err := json.Marshal(&reply{Type: kind, Topic: topic, User: user})
	if err != nil {
		return
	}
	fr := server.Prepare(ws.OpText, b)
	_ = g.dispatch(&job{run: func(sh *shard) int { return sh.deliver(topic, fr) }})
}

// HubStats are the gateway's counters. Totals count since start.
type HubStats struct {
	Topics        int    `json:"topics"`        // distinct topics with subscribers now
	Subscriptions int64  `json:"subscriptions"` // connection-topic pairs now
	Publishes     uint64 `json:"publishes"`     // messages published, one per topic
	Delivered     uint64 `json:"delivered"`     // messages written to subscribers
	Dropped       uint64 `json:"dropped"`       // skipped for slow subscribers (SlowDrop)
	SlowClosed    uint64 `json:"slow_closed"`   // subscribers closed as slow (SlowClose)
	ClientErrors  uint64 `json:"client_errors"` // error replies to clients
	Busy          uint64 `json:"busy"`          // jobs a full loop queue refused (server.ErrBusy)
}

// Stats returns the gateway's counters. Any goroutine may call it.
func (g *Gateway) Stats() HubStats {
	st := HubStats{Topics: g.reg.len(), Publishes: g.publishes.Load()}
	for _, sh := range g.shards {
		ss := &sh.stats
		st.Subscriptions += ss.subscriptions.Load()
		st.Delivered += ss.delivered.Load()
		st.Dropped += ss.dropped.Load()
		st.SlowClosed += ss.slowClosed.Load()
		st.ClientErrors += ss.clientErrors.Load()
		st.Busy += ss.busy.Load()
	}
	return st
}
