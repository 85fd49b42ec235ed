package broker

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"
)

// HeaderOrigin carries the publishing node's id on every message.
const HeaderOrigin = "Myriad-Origin"

// Message is one message of a topic received from NATS.
type Message struct {
	Topic string
	// Payload is a copy made by nats.go for this message: Deliver may keep
	// it.
	Payload []byte
	// Origin is the NodeID of the node that published it.
	Origin string
	// Local is true when this node published it.
	Local bool
	// Header holds every header, Origin's included.
	Header nats.Header
}

// Stats are a Client's counters since Connect.
type Stats struct {
	State State
	// Published counts publishes handed to the connection while connected.
	Published uint64
	// Buffered counts publishes accepted while disconnected: they sit in
	// the reconnect buffer and are sent after the reconnect, at most once.
	Buffered uint64
	// Unsent counts publishes that failed: reconnect buffer full or
	// disabled, message too large, client closed.
	Unsent uint64
	// Received counts messages handed to Deliver.
	Received uint64
	// Dropped counts messages nats.go discarded because a topic's pending
	// queue was full (a slow Deliver).
	Dropped uint64
	// Reconnects counts successful reconnects.
	Reconnects uint64
	// Topics is the number of topics with interest, those whose
	// subscribe is in flight included.
	Topics int
	// Gathers is the number of gathers in flight, those whose caller
	// stopped waiting while nats.go still holds their query (a stuck
	// broker link) included; at most Config.MaxGathers.
	Gathers int
}

// Client is a node's connection to the broker. All its methods may be
// called from any goroutine.
type Client struct {
	cfg   Config
	log   *zap.Logger
	nc    *nats.Conn
	state atomic.Uint32

	published, buffered, unsent, received, dropped, reconnects atomic.Uint64

	// gathers holds a token per gather in flight (see Gather).
	gathers chan struct{}

	mu        sync.Mutex
	interests map[string]*interest
	closed    bool
	// callbacksDone is closed by nats.go's closed callback, the last one
	// its dispatcher runs, so Close can wait until no callback (and no
	// log line of one) is still to come.
	callbacksDone chan struct{}
}

// Connect dials the broker. If no server answers yet, it returns a Client
// in StateConnecting that keeps trying in the background (publishes are
// buffered meanwhile), so a worker may start before its broker is ready.
func Connect(cfg Config, log *zap.Logger) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.NodeID == "" {
		cfg.NodeID = nuid.Next()
	}
	c := &Client{
		cfg: cfg, log: log, gathers: make(chan struct{}, cfg.MaxGathers),
		interests: make(map[string]*interest), callbacksDone: make(chan struct{}),
	}
	nc, err := nats.Connect(cfg.URL, c.options()...)
	if err != nil {
		return nil, fmt.Errorf("broker: connect %s: %w", Redact(cfg.URL), err)
	}
	c.nc = nc
	if nc.IsConnected() {
		c.setState(StateConnected)
	}
	return c, nil
}

// options are the nats.go options of a gateway node.
func (c *Client) options() []nats.Option {
	return []nats.Option{
		nats.Name("myriad " + c.cfg.NodeID),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.CustomReconnectDelay(c.backoff),
		nats.ReconnectBufSize(c.cfg.ReconnectBuf),
		nats.ConnectHandler(func(*nats.Conn) { c.setState(StateConnected) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if c.State() != StateClosed {
				c.setState(StateReconnecting)
				c.log.Warn("broker connection lost", zap.Error(err))
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.reconnects.Add(1)
			c.setState(StateConnected)
			if c.State() != StateClosed { // no log line after Close
				c.log.Info("broker reconnected", zap.String("url", nc.ConnectedUrlRedacted()))
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) {
			c.setState(StateClosed)
			close(c.callbacksDone)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if !errors.Is(err, nats.ErrSlowConsumer) && c.State() != StateClosed {
				c.log.Warn("broker error", zap.Error(err))
			}
		}),
	}
}

// backoff is the delay before reconnect attempt n (1-based):
// ReconnectMin doubled per attempt up to ReconnectMax, plus a random
// jitter of up to half the delay.
func (c *Client) backoff(attempts int) time.Duration {
	d := c.cfg.ReconnectMin
	for i := 1; i < attempts && d < c.cfg.ReconnectMax; i++ {
		d *= 2
	}
	d = min(d, c.cfg.ReconnectMax)
	if d > 1 {
		d += rand.N(d/2 + 1)
	}
	return d
}

// setState records s and reports the change to OnState. nats.go calls its
// handlers from one goroutine in order, so reports keep that order. Closed
// is final.
func (c *Client) setState(s State) {
	for {
		old := c.state.Load()
		if State(old) == StateClosed || State(old) == s {
			return
		}
		if c.state.CompareAndSwap(old, uint32(s)) {
			break
		}
	}
	if c.cfg.OnState != nil {
		c.cfg.OnState(s)
	}
}

// State is the connection state now.
func (c *Client) State() State { return State(c.state.Load()) }

// NodeID is this node's id as other nodes see it in Message.Origin.
func (c *Client) NodeID() string { return c.cfg.NodeID }

// Stats returns the counters. It never waits for the broker, however
// stuck its connection: Subscription.Dropped takes only the
// subscription's own lock, which nats.go never holds while it waits for
// the connection's lock or the socket, and no nats.go call that does runs
// under c.mu (see interest). Any goroutine may call it.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	topics := 0
	var dropped uint64
	for _, in := range c.interests {
		if in.refs > 0 {
			topics++
		}
		if in.sub == nil {
			continue
		}
		if n, err := in.sub.Dropped(); err == nil {
			dropped += uint64(n)
		}
	}
	c.mu.Unlock()
	return Stats{
		State:      c.State(),
		Published:  c.published.Load(),
		Buffered:   c.buffered.Load(),
		Unsent:     c.unsent.Load(),
		Received:   c.received.Load(),
		Dropped:    c.dropped.Load() + dropped,
		Reconnects: c.reconnects.Load(),
		Topics:     topics,
		Gathers:    len(c.gathers),
	}
}

// Conn returns the client's NATS connection, for stores that share it
// (the JetStream history): requests on it are ordered with the client's
// subscriptions, so a history read sent after Interest reaches the broker
// after the subscription does. The caller must not close it. Any
// goroutine may call it.
func (c *Client) Conn() *nats.Conn { return c.nc }

// Flush waits until the broker has processed everything sent so far, or
// until timeout. Tests and drains use it.
func (c *Client) Flush(timeout time.Duration) error {
	return c.nc.FlushTimeout(timeout)
}

// Close drops every subscription and closes the connection; messages in
// flight are lost. It returns once nats.go has run its last callback, or
// after closeCallbackWait, and no state change or log line of this Client
// comes after it. Later calls return ErrClosed, and so do an Interest or
// Disinterest in flight and those waiting for it.
//
// nats.go's Close waits for the connection's lock, which its writer holds
// while a stuck broker socket does not drain (up to nats.go's flusher
// timeout, a minute), so it runs on a goroutine of its own: over a stuck
// link Close returns after closeCallbackWait, and nats.go finishes closing
// when the write fails or the link moves.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closed = true
	c.interests = map[string]*interest{}
	c.mu.Unlock()
	c.setState(StateClosed)
	go c.nc.Close()
	// nats.go runs its callbacks on a goroutine of its own; wait (bounded)
	// for the last, so that none runs after Close returns (one that runs
	// later, over a stuck link, sees StateClosed and logs nothing).
	select {
	case <-c.callbacksDone:
	case <-time.After(closeCallbackWait):
	}
	return nil
}

// closeCallbackWait bounds how long Close waits for nats.go's callbacks.
const closeCallbackWait = 5 * time.Second
