package broker

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

// interest is one topic's NATS subscription and the number of Interest
// calls not yet matched by Disinterest.
type interest struct {
	refs int
	sub  *nats.Subscription
}

// Interest adds a reference to topic; the first one subscribes to the
// topic's subject, so Deliver starts receiving its messages. Call it when a
// topic gains its first local subscriber (or once per local subscriber: the
// count makes either way work). Any goroutine may call it.
func (c *Client) Interest(topic string) error {
	if topic == "" {
		return ErrBadTopic
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if in := c.interests[topic]; in != nil {
		in.refs++
		return nil
	}
	sub, err := c.nc.Subscribe(Subject(c.cfg.TopicPrefix, topic), c.onMessage)
	if err != nil {
		return fmt.Errorf("broker: subscribe %q: %w", topic, err)
	}
	if err := sub.SetPendingLimits(c.cfg.PendingMsgs, c.cfg.PendingBytes); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("broker: pending limits %q: %w", topic, err)
	}
	c.interests[topic] = &interest{refs: 1, sub: sub}
	return nil
}

// Disinterest drops a reference to topic; the last one unsubscribes, so the
// broker stops sending the topic to this node. It returns ErrNoInterest
// when topic has no reference. Any goroutine may call it.
func (c *Client) Disinterest(topic string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	in := c.interests[topic]
	if in == nil {
		return ErrNoInterest
	}
	if in.refs--; in.refs > 0 {
		return nil
	}
	delete(c.interests, topic)
	if n, err := in.sub.Dropped(); err == nil {
		c.dropped.Add(uint64(n))
	}
	if err := in.sub.Unsubscribe(); err != nil {
		return fmt.Errorf("broker: unsubscribe %q: %w", topic, err)
	}
	return nil
}

// Interested reports how many references topic has. Any goroutine may
// call it.
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
