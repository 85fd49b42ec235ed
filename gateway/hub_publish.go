package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
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
// topics, in order, with data compacted. The topic count is checked before
// anything else, so a long list costs no more than reading it.
func (g *Gateway) publishInput(topics []string, data []byte) ([]string, []byte, error) {
	if len(topics) == 0 {
		return nil, nil, &PublishError{Reason: `no topic given: set "topic" or "topics"`}
	}
	if len(data) == 0 {
		return nil, nil, &PublishError{Reason: `missing "data"`}
	}
	// JSON text is UTF-8 (RFC 8259 §8.1); encoding/json would pass
	// invalid bytes on, and a browser closes a socket that receives them
	// in a text frame, so one publish would disconnect every subscriber.
	if !utf8.Valid(data) {
		return nil, nil, &PublishError{Reason: "data is not valid UTF-8"}
	}
	topics, err := g.checkPublishTopics(topics)
	if err != nil {
		return nil, nil, err
	}
	compact, err := compactJSON(data)
	if err != nil {
		return nil, nil, &PublishError{Reason: "data is not valid JSON: " + err.Error()}
	}
	return topics, compact, nil
}

// dispatchMessages validates data and topics and dispatches them as one
// job, which encodes one frame per distinct topic that has subscribers
// when it runs (lazyMessage). The topic is inside the frame, so topics
// cannot share one; a topic nobody subscribes to costs nothing beyond its
// name check, and at most MaxPublishTopics frames are built
// (Stats.EncodedBytes accounts them). done, when not nil, becomes the
// job's completion channel. On a cluster node it queues the messages for
// the broker instead (cluster_publisher.go) and returns no job, or
// ErrPublishQueueFull. Any goroutine may call it, including
// an event loop, since it does not wait.
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
		// The broker client may block (and a JetStream append waits for
		// its acknowledgement), which a loop must not: the node's
		// publisher goroutine sends it, in the order of the queue.
		return nil, g.cluster.enqueue(distinct, compact)
	}
	if g.local != nil {
		return g.publishLocal(distinct, compact, done)
	}
	msgs := make([]*lazyMessage, len(distinct))
	for i, t := range distinct {
		msgs[i] = &lazyMessage{topic: t, data: compact}
	}
	j := &job{done: done, run: func(sh *shard) int {
		n := 0
		for _, m := range msgs {
			if sh.topics[m.topic] != nil {
				n += sh.deliverMessage(m.get(g))
			}
		}
		return n
	}}
	return j, g.dispatch(j)
}

// checkPublishTopics checks a publish's topic list and returns it without
// repeats. The count is checked before anything else, so a long list costs
// no more than reading it.
func (g *Gateway) checkPublishTopics(topics []string) ([]string, error) {
	if len(topics) > g.cfg.MaxPublishTopics {
		return nil, &PublishError{Reason: fmt.Sprintf("%d topics in one publish; at most %d (max-publish-topics)", len(topics), g.cfg.MaxPublishTopics)}
	}
	out := make([]string, 0, len(topics))
	for _, t := range topics {
		if err := checkTopic(t, g.cfg.MaxTopicLen); err != nil {
			return nil, &PublishError{Reason: fmt.Sprintf("topic %q: %v", t, err)}
		}
		if !contains(out, t) { // quadratic, in at most MaxPublishTopics
			out = append(out, t)
		}
	}
	return out, nil
}

// Publish sends data, one JSON value, to every subscriber of each topic as
// {"type":"message","topic":...,"data":...}, and returns the number of
// subscriber sockets the messages were queued on (see PROTOCOL.md for
// what "delivered" means), summed over the loops once each has run the
// publish. A topic without subscribers is not an error: it delivers to
// none. Publishes made one after another reach each subscriber in that
// order. Any goroutine may call it except an event loop, which it would
// wait for; it returns early, with the count so far, when ctx ends or the
// server stops.
//
// On a cluster node (JoinCluster) it returns 0 and no error once the broker
// has acknowledged the messages; see PublishCluster.
func (g *Gateway) Publish(ctx context.Context, topics []string, data json.RawMessage) (int, error) {
	if g.cluster != nil {
		_, err := g.PublishCluster(ctx, topics, data)
		return 0, err
	}
	n, _, err := g.PublishOnce(ctx, "", topics, data)
	return n, err
}

// maxPublishID bounds an idempotency key, which is kept for the dedup
// window.
const maxPublishID = 128

// PublishOnce is Publish with an idempotency key: a publish whose id was
// used within Config.PublishDedupWindow is not published again, and gets
// the first one's answer (waiting for it when it is still running) with
// duplicate set. Ids are shared by the API and clients, so publishers
// should make them unique (a UUID). An empty id is a plain Publish. Any
// goroutine may call it except an event loop.
func (g *Gateway) PublishOnce(ctx context.Context, id string, topics []string, data json.RawMessage) (n int, duplicate bool, err error) {
	if id == "" || g.dedup == nil {
		j, err := g.dispatchMessages(topics, data, make(chan struct{}))
		n, werr := g.wait(ctx, j)
		return n, false, cmp.Or(werr, err)
	}
	if len(id) > maxPublishID {
		return 0, false, &PublishError{Reason: fmt.Sprintf("id longer than %d bytes", maxPublishID)}
	}
	e, first := g.dedup.claim(id, time.Now())
	if first {
		j, err := g.dispatchMessages(topics, data, make(chan struct{}))
		g.dedup.settle(e, j, err)
	} else {
		g.duplicates.Add(1)
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		return 0, !first, ctx.Err()
	}
	n, werr := g.wait(ctx, e.j)
	return n, !first, cmp.Or(werr, e.err)
}

// wait waits for j (nil: nothing to wait for) and returns its count, or
// the count so far when ctx ends or the server stops.
func (g *Gateway) wait(ctx context.Context, j *job) (int, error) {
	if j == nil {
		return 0, nil
	}
	select {
	case <-j.done:
		return int(j.delivered.Load()), nil
	case <-ctx.Done():
		return int(j.delivered.Load()), ctx.Err()
	case <-g.srv.Done():
		return int(j.delivered.Load()), ErrClosed
	}
}

// HubStats are the gateway's counters. Totals count since start.
type HubStats struct {
	Topics        int    `json:"topics"`        // distinct topics with subscribers now
	Subscriptions int64  `json:"subscriptions"` // connection-topic pairs now
	Publishes     uint64 `json:"publishes"`     // messages published, one per topic
	Encoded       uint64 `json:"encoded"`       // frames built for publishes: topics that had subscribers
	EncodedBytes  uint64 `json:"encoded_bytes"` // bytes of those frames
	Delivered     uint64 `json:"delivered"`     // messages written to subscribers
	Dropped       uint64 `json:"dropped"`       // skipped for slow subscribers (SlowDrop)
	SlowClosed    uint64 `json:"slow_closed"`   // subscribers closed as slow (SlowClose)
	ClientErrors  uint64 `json:"client_errors"` // error replies to clients
	Busy          uint64 `json:"busy"`          // jobs a full loop queue refused (server.ErrBusy)
	Duplicates    uint64 `json:"duplicates"`    // publishes not repeated: their id was seen
	RateLimited   uint64 `json:"rate_limited"`  // clients closed for sending past --client-rate
	// PresenceDropped counts presence events not sent: skipped for topics
	// over PresenceMaxSubscribers on a loop (a busy loop's are in Busy).
	PresenceDropped uint64 `json:"presence_dropped"`
}

// Stats returns the gateway's counters. Any goroutine may call it.
func (g *Gateway) Stats() HubStats {
	st := HubStats{Topics: g.reg.len(), Publishes: g.publishes.Load(), Encoded: g.encoded.Load(), EncodedBytes: g.encodedBytes.Load(), Duplicates: g.duplicates.Load()}
	for _, sh := range g.shards {
		ss := &sh.stats
		st.Subscriptions += ss.subscriptions.Load()
		st.Delivered += ss.delivered.Load()
		st.Dropped += ss.dropped.Load()
		st.SlowClosed += ss.slowClosed.Load()
		st.ClientErrors += ss.clientErrors.Load()
		st.Busy += ss.busy.Load()
		st.RateLimited += ss.rateLimited.Load()
		st.PresenceDropped += ss.presenceSkipped.Load()
	}
	return st
}
