package broker

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

// Announce sends data to every node listening to kind (OnAnnounce), this
// one included. Unlike a topic, an announcement reaches every such node
// whatever its interests, and unlike a query it expects no answer: it is
// how a node tells the others about state they all keep a copy of
// (presence, heartbeats). The broker keeps the order of one node's
// announcements, and of its announcements and topic messages together.
// data is copied before Announce returns. While the broker is away it is
// buffered like a publish (counted in Buffered or Unsent). Any goroutine
// may call it.
func (c *Client) Announce(kind string, data []byte) error {
	if kind == "" {
		return ErrBadTopic
	}
	h := make(nats.Header, 1)
	h.Set(HeaderOrigin, c.cfg.NodeID)
	down := !c.nc.IsConnected()
	if err := c.nc.PublishMsg(&nats.Msg{Subject: Subject(c.cfg.AnnouncePrefix, kind), Data: data, Header: h}); err != nil {
		c.unsent.Add(1)
		return fmt.Errorf("broker: announce %q: %w", kind, err)
	}
	if down {
		c.buffered.Add(1)
	} else {
		c.published.Add(1)
	}
	return nil
}

// OnAnnounce calls fn with every announcement of kind, from every node,
// this one's included (Message.Local tells), until the returned stop
// function is called. Message.Topic is kind. fn runs on the
// subscription's own goroutine, one announcement at a time, in the order
// the broker delivers them; it must not block for long. A slow fn makes
// nats.go drop announcements past the pending bounds of a topic
// (Config.PendingMsgs, PendingBytes), counted in Stats.Dropped once stop
// is called. Any goroutine may call OnAnnounce and stop.
func (c *Client) OnAnnounce(kind string, fn func(Message)) (stop func() error, err error) {
	if kind == "" {
		return nil, ErrBadTopic
	}
	sub, err := c.nc.Subscribe(Subject(c.cfg.AnnouncePrefix, kind), func(m *nats.Msg) {
		origin := m.Header.Get(HeaderOrigin)
		fn(Message{Topic: kind, Payload: m.Data, Origin: origin, Local: origin == c.cfg.NodeID, Header: m.Header})
	})
	if err != nil {
		return nil, fmt.Errorf("broker: announcements %q: %w", kind, err)
	}
	if err := sub.SetPendingLimits(c.cfg.PendingMsgs, c.cfg.PendingBytes); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("broker: pending limits %q: %w", kind, err)
	}
	return func() error {
		if n, err := sub.Dropped(); err == nil {
			c.dropped.Add(uint64(n))
		}
		return sub.Unsubscribe()
	}, nil
}
