package gateway

import (
	"context"
	"errors"
	"sync"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/broker"
)

// interestQueue hands a node's broker interest changes from the event
// loops to the node's one interest goroutine (runInterest). nats.go's
// Subscribe and Unsubscribe take the connection's mutex, which its
// flusher holds while it writes to the broker's socket, and write inline
// themselves when its buffer is full: on a slow or stuck broker
// connection a loop that called them would block for as long as the
// write does, and with it every connection of the loop (see
// publishQueue). So a loop only records what the node wants now, and the
// goroutine tells the broker.
//
// The queue keeps each topic's net state, not its history. The
// registry calls set only when the node's state of a topic flips (its
// first subscriber came, its last went), under its own lock, so the
// queue sees one topic's flips in the order they happened, whichever
// loops made them. A topic is in pending while what the node wants
// differs from what the goroutine last told the broker, so set just
// toggles the entry: a client that subscribes and unsubscribes in a loop
// adds and removes one entry, and pending never holds more than one entry
// per topic that has a local subscriber or is held at the broker,
// whatever the rate of changes and however long the broker is stuck. The
// broker sees one Interest, then one Disinterest, and so on, per topic:
// its reference count is 0 or 1. Lock order: registry, then queue; the
// goroutine never holds the queue's lock across a broker call.
type interestQueue struct {
	mu       sync.Mutex
	pending  map[string]bool // topic -> wanted; only where it differs from what the broker was told
	busy     string          // the topic whose broker call is in flight; "" none
	wake     chan struct{}   // one token: pending has an entry
	changed  chan struct{}   // closed when a broker call ends; nil without waiters
	closed   bool            // the server stopped: changes are dropped
	pendPeak int
}

func newInterestQueue() *interestQueue {
	return &interestQueue{pending: make(map[string]bool), wake: make(chan struct{}, 1)}
}

// set records that the node's state of topic flipped to want. It never
// waits: an event loop calls it, under the registry's lock.
func (q *interestQueue) set(topic string, want bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if _, ok := q.pending[topic]; ok { // flipped back to what the broker was told
		delete(q.pending, topic)
		q.pending = shrink(q.pending, &q.pendPeak)
		return
	}
	q.pending[topic] = want
	q.pendPeak = max(q.pendPeak, len(q.pending))
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next takes one pending change and marks it in flight.
func (q *interestQueue) next() (topic string, want, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for topic, want = range q.pending {
		delete(q.pending, topic)
		q.pending = shrink(q.pending, &q.pendPeak)
		q.busy = topic
		return topic, want, true
	}
	return "", false, false
}

// finish ends the call next started. A failed call is not retried: the
// broker client's Interest and Disinterest fail only on a connection
// closed for good, by the server stopping or by nats.go after an error
// it takes as final, and a stalled or failed write is no failure (nats.go
// keeps the subscription and sends it again after reconnecting), so a
// retry would fail the same way (see broker.Client.Interest). After a
// failed Interest, an unsubscribe already pending has nothing to undo.
func (q *interestQueue) finish(topic string, want bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.busy = ""
	if w, ok := q.pending[topic]; ok && err != nil && want && !w {
		delete(q.pending, topic)
	}
	if q.changed != nil {
		close(q.changed)
		q.changed = nil
	}
}

// settled reports whether topic has no change pending or in flight.
func (q *interestQueue) settled(topic string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.settledLocked(topic)
}

func (q *interestQueue) settledLocked(topic string) bool {
	_, p := q.pending[topic]
	return !p && q.busy != topic
}

// await returns once topic has no change pending or in flight: after a
// subscribe, its Interest has been handed to the broker client (or has
// failed). ctx bounds the wait; a stopped server ends it with ErrClosed.
// Any goroutine but an event loop may call it.
func (q *interestQueue) await(ctx context.Context, topic string) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return ErrClosed
		}
		if q.settledLocked(topic) {
			q.mu.Unlock()
			return nil
		}
		if q.changed == nil {
			q.changed = make(chan struct{})
		}
		ch := q.changed
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// queued is the number of topics whose change is pending or in flight.
func (q *interestQueue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.pending)
	if q.busy != "" {
		n++
	}
	return n
}

// close drops the pending changes and releases the waiters: the server
// has stopped, its connections are gone, and the broker client's owner
// closes it, which drops every subscription.
func (q *interestQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.pending = nil
	if q.changed != nil {
		close(q.changed)
		q.changed = nil
	}
}

// runInterest tells the broker the node's interest changes, one at a
// time, until done. A call in flight when done closes ends first; what is
// pending then is dropped (close).
func (cl *clusterLink) runInterest(done <-chan struct{}) {
	q := cl.interest
	defer q.close()
	for {
		select {
		case <-done:
			return
		default:
		}
		topic, want, ok := q.next()
		if !ok {
			select {
			case <-q.wake:
				continue
			case <-done:
				return
			}
		}
		q.finish(topic, want, cl.tell(topic, want))
	}
}

// tell makes one broker call and counts and logs its failure. A closed
// client is no failure: the server is stopping, and closing the client
// dropped its subscriptions. A connection nats.go closed by itself is
// one: the node has lost the cluster for good (its broker state says
// closed).
func (cl *clusterLink) tell(topic string, want bool) error {
	call, what := cl.c.Interest, "broker interest failed"
	if !want {
		call, what = cl.c.Disinterest, "broker disinterest failed"
	}
	err := call(topic)
	if err != nil && !errors.Is(err, broker.ErrClosed) {
		cl.interestError.Add(1)
		cl.log.Warn(what, zap.String("topic", topic), zap.Error(err))
	}
	return err
}

// ahead lets the interest changes of topics go to the broker client
// before a publish to them does, so that a subscription this node has
// acknowledged receives every publish made through the node afterwards:
// the broker processes one connection's messages in order. The common
// case, no change in flight, costs a lock per topic; the wait is bounded
// by FlushTimeout, after which the publish goes anyway. Not for an event
// loop.
func (cl *clusterLink) ahead(topics []string) {
	var ctx context.Context
	for _, t := range topics {
		if cl.interest.settled(t) {
			continue
		}
		if ctx == nil {
			c, cancel := context.WithTimeout(context.Background(), cl.cfg.FlushTimeout)
			defer cancel()
			ctx = c
		}
		if cl.interest.await(ctx, t) != nil {
			return
		}
	}
}

// awaitInterest waits until topic's broker interest has been handed to
// the broker client, so a history read sent after it on the same
// connection reaches the broker after the subscription (see recover.go).
// Without a cluster it returns at once. Not for an event loop.
func (g *Gateway) awaitInterest(ctx context.Context, topic string) error {
	if g.cluster == nil {
		return nil
	}
	return g.cluster.interest.await(ctx, topic)
}
