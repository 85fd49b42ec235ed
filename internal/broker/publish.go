package broker

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

// Publish sends payload to every node with interest in topic, this one
// included (see the package doc: delivery is through NATS only). header may
// be nil; Publish sets HeaderOrigin in it (a nil header gets a new one), so
// the caller must not use header concurrently. payload is copied before
// Publish returns.
//
// While the broker is away the message goes to the reconnect buffer and is
// counted as buffered; an error (buffer full or disabled, message too large,
// client closed) is counted as unsent. Either way local delivery is not
// affected: the caller's node delivers what it receives, and nothing else.
// Any goroutine may call it.
func (c *Client) Publish(topic string, payload []byte, header nats.Header) error {
	if topic == "" {
		return ErrBadTopic
	}
	if header == nil {
		header = make(nats.Header, 1)
	}
	header.Set(HeaderOrigin, c.cfg.NodeID)
	msg := &nats.Msg{
		Subject: Subject(c.cfg.TopicPrefix, topic),
		Data:    payload,
		Header:  header,
	}
	// The state is read before the publish: a message sent while the state
	// flips may be counted on either side, which only moves it between two
	// counters that both mean "maybe late".
	down := !c.nc.IsConnected()
	if err := c.nc.PublishMsg(msg); err != nil {
		c.unsent.Add(1)
		return fmt.Errorf("broker: publish %q: %w", topic, err)
	}
	if down {
		c.buffered.Add(1)
	} else {
		c.published.Add(1)
	}
	return nil
}
