package broker

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

// interest is one topic's NATS subscription and the number of Interest
// calls not yet matched by Disinterest.
//
// c.mu is never held across a nats.go Subscribe or Unsubscribe: both take
// the connection's mutex, which nats.go's flusher holds while it writes
// to the broker's socket, and both write inline when nats.go's buffer is
// full, so on a stuck broker link they block for as long as the write
// does. Stats (a /metrics scrape), Interested and Close's bookkeeping
// must not wait for that. So a call marks the topic busy under c.mu, makes the nats.go call
// without it, and records the result under c.mu again; another Interest
// or Disinterest of the same topic waits for busy to close (without
// c.mu) and then looks again, so the reference count and the
// subscription always agree, whichever goroutines call.
type interest struct {
	refs int
	// sub is nil while the first Interest subscribes, and once
	// Disinterest has taken it to unsubscribe.
	sub *nats.Subscription
	// busy is non-nil while a Subscribe or Unsubscribe of the topic is in
	// flight; it is closed when that call ends.
	busy chan struct{}
}

// Interest adds a reference to topic; the first one subscribes to the
// topic's subject, so Deliver starts receiving its messages. Call it when a
// topic gains its first local subscriber (or once per local subscriber: the
// count makes either way work). Any goroutine may call it; a call for a
// topic whose subscribe or unsubscribe is in flight waits for that to end.
//
// It fails only when the connection is closed for good: by Close
// (ErrClosed), or by nats.go itself after an error it takes as final (a
// server error it does not know, an authorization refused twice in a
// row; State is then StateClosed and nats.go never reopens it). Subject
// never makes a subject nats.go refuses, and the pending limits are
// validated by Config. A write that fails or stalls is no error: nats.go
// keeps the subscription and sends it again after it reconnects. So a
// failed Interest would fail again, and callers need not retry it. A
// subscription the server refuses (permissions, its subscription limit)
// is reported later, to the connection's error handler, not here.
func (c *Client) Interest(topic string) error {
	if topic == "" {
		return ErrBadTopic
	}
	c.mu.Lock()
	in, err := c.settled(topic)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	if in != nil {
		in.refs++
		c.mu.Unlock()
		return nil
	}
	in = &interest{refs: 1, busy: make(chan struct{})}
	c.interests[topic] = in
	c.mu.Unlock()

	sub, err := c.subscribe(topic)

	c.mu.Lock()
	defer c.mu.Unlock()
	close(in.busy)
	in.busy = nil
	switch {
	case c.closed: // Close dropped the entry; closing the connection drops sub
		return ErrClosed
	case err != nil:
		delete(c.interests, topic)
		return err
	}
	in.sub = sub
	return nil
}

// subscribe makes topic's subscription. It is called without c.mu.
func (c *Client) subscribe(topic string) (*nats.Subscription, error) {
	sub, err := c.nc.Subscribe(Subject(c.cfg.TopicPrefix, topic), c.onMessage)
	if err != nil {
		return nil, fmt.Errorf("broker: subscribe %q: %w", topic, err)
	}
	if err := sub.SetPendingLimits(c.cfg.PendingMsgs, c.cfg.PendingBytes); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("broker: pending limits %q: %w", topic, err)
	}
	return sub, nil
}

// Disinterest drops a reference to topic; the last one unsubscribes, so the
// broker stops sending the topic to this node. It returns ErrNoInterest
// when topic has no reference. Any goroutine may call it; a call for a
// topic whose subscribe or unsubscribe is in flight waits for that to end.
// Like Interest, it fails only on a connection closed for good.
func (c *Client) Disinterest(topic string) error {
	c.mu.Lock()
	in, err := c.settled(topic)
	if err == nil && in == nil {
		err = ErrNoInterest
	}
	if err != nil {
		c.mu.Unlock()
		return err
	}
	if in.refs--; in.refs > 0 {
		c.mu.Unlock()
		return nil
	}
	sub := in.sub
	if n, err := sub.Dropped(); err == nil {
		c.dropped.Add(uint64(n))
	}
	in.sub, in.busy = nil, make(chan struct{})
	c.mu.Unlock()

	err = sub.Unsubscribe()

	c.mu.Lock()
	defer c.mu.Unlock()
	close(in.busy)
	in.busy = nil
	switch {
	case c.closed: // Close dropped the entry and every subscription
		return ErrClosed
	case err != nil:
		err = fmt.Errorf("broker: unsubscribe %q: %w", topic, err)
	}
	delete(c.interests, topic)
	return err
}

// settled returns topic's entry once no call of it is in flight, or nil
// for a topic without one. It is called with c.mu held, and waits for a
// call in flight without it.
func (c *Client) settled(topic string) (*interest, error) {
	for {
		if c.closed {
			return nil, ErrClosed
		}
		in := c.interests[topic]
		if in == nil || in.busy == nil {
			return in, nil
		}
		busy := in.busy
		c.mu.Unlock()
		<-busy
		c.mu.Lock()
	}
}

// Interested reports how many references topic has, an Interest whose
// subscribe is in flight included. It never waits for the broker. Any
// goroutine may call it.
func (c *Client) Interested(topic string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in := c.interests[topic]; in != nil {
		return in.refs
	}
	return 0
}

// onMessage turns a NATS message into a Message for Deliver. It runs on the
// subscription's goroutine.
func (c *Client) onMessage(m *nats.Msg) {
	topic, err := TopicOf(c.cfg.TopicPrefix, m.Subject)
	if err != nil {
		return
	}
	c.received.Add(1)
	if c.cfg.Deliver == nil {
		return
	}
	origin := m.Header.Get(HeaderOrigin)
	c.cfg.Deliver(Message{
		Topic:   topic,
		Payload: m.Data,
		Origin:  origin,
		Local:   origin == c.cfg.NodeID,
		Header:  m.Header,
	})
}
