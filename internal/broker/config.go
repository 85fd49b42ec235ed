package broker

import (
	"fmt"
	"time"
)

// Defaults of the zero Config.
const (
	DefaultTopicPrefix = "myriad.t"
	DefaultQueryPrefix = "myriad.q"
	// DefaultAnnouncePrefix is the subject prefix of announcements
	// (Announce, OnAnnounce): state a node tells every other node.
	DefaultAnnouncePrefix = "myriad.a"
	// DefaultReconnectMin and DefaultReconnectMax bound the exponential
	// reconnect backoff: the first retry comes quickly, and a long outage
	// costs one attempt per node every few seconds, not a storm.
	DefaultReconnectMin = 100 * time.Millisecond
	DefaultReconnectMax = 5 * time.Second
	// DefaultReconnectBuf is the bytes of publishes kept while
	// reconnecting: a few seconds of moderate traffic, and no more than one
	// node can spare. Past it publishes fail and are counted as unsent.
	DefaultReconnectBuf = 8 << 20
	// DefaultPendingMsgs and DefaultPendingBytes bound what one topic's
	// subscription may queue inside nats.go before the node's handler takes
	// it; past them nats.go drops messages and they are counted as dropped.
	DefaultPendingMsgs  = 65536
	DefaultPendingBytes = 64 << 20
	// DefaultGatherWait bounds a scatter-gather.
	DefaultGatherWait = 500 * time.Millisecond
	// DefaultMaxGathers bounds the gathers in flight. Each holds a
	// goroutine and an inbox subscription until nats.go has taken its
	// query and let it go, which on a stuck broker link lasts until the
	// link moves (nats.go's flusher timeout, a minute), well past the
	// gather's own bound. 64 leaves room for 128 queries a second of a
	// cluster that waits the whole 500 ms bound (no node count), far more
	// than operators and dashboards ask, and keeps a stuck link's cost to
	// a few hundred kilobytes.
	DefaultMaxGathers = 64
)

// Config configures a Client. Its zero value connects to the NATS default
// URL with the defaults above; set URL for anything else.
type Config struct {
	// URL is one or more comma-separated NATS URLs; empty means
	// nats://127.0.0.1:4222.
	URL string
	// NodeID names this node in message headers and gather replies; empty
	// means a random unique id.
	NodeID string
	// TopicPrefix and QueryPrefix are the subject prefixes of topics and of
	// scatter-gather queries. Nodes that must see each other use the same.
	TopicPrefix string
	QueryPrefix string
	// AnnouncePrefix is the subject prefix of announcements.
	AnnouncePrefix string
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// reconnect attempts; a random jitter of up to the current delay's half
	// is added so nodes that lost the same broker do not return in step.
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// ReconnectBuf is the bytes of publishes buffered while disconnected;
	// 0 means DefaultReconnectBuf and a negative value disables buffering,
	// so publishes fail at once while the broker is away.
	ReconnectBuf int
	// PendingMsgs and PendingBytes bound each topic subscription's queue.
	PendingMsgs  int
	PendingBytes int
	// GatherWait bounds Gather when its context has no earlier deadline.
	GatherWait time.Duration
	// MaxGathers bounds the gathers in flight, those left waiting for a
	// stuck broker link after their caller's bound included; past it
	// Gather fails at once with ErrGatherBusy. 0 means DefaultMaxGathers.
	MaxGathers int
	// Deliver receives each message of a topic this node has interest in.
	// It runs on the topic's own nats.go goroutine: calls for one topic are
	// sequential and in order, calls for different topics may run at once.
	// It must not block for long; nil discards messages.
	Deliver func(Message)
	// OnState, if set, is called on each state change, from nats.go's
	// callback goroutine, in the order of the changes.
	OnState func(State)
}

func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = "nats://127.0.0.1:4222"
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = DefaultTopicPrefix
	}
	if c.QueryPrefix == "" {
		c.QueryPrefix = DefaultQueryPrefix
	}
	if c.AnnouncePrefix == "" {
		c.AnnouncePrefix = DefaultAnnouncePrefix
	}
	if c.ReconnectMin == 0 {
		c.ReconnectMin = DefaultReconnectMin
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	if c.ReconnectBuf == 0 {
		c.ReconnectBuf = DefaultReconnectBuf
	}
	if c.PendingMsgs == 0 {
		c.PendingMsgs = DefaultPendingMsgs
	}
	if c.PendingBytes == 0 {
		c.PendingBytes = DefaultPendingBytes
	}
	if c.GatherWait == 0 {
		c.GatherWait = DefaultGatherWait
	}
	if c.MaxGathers == 0 {
		c.MaxGathers = DefaultMaxGathers
	}
	return c
}

// Validate reports a configuration Connect would refuse.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.ReconnectMin < 0 || c.ReconnectMax < c.ReconnectMin:
		return fmt.Errorf("%w: reconnect backoff %v..%v", ErrConfig, c.ReconnectMin, c.ReconnectMax)
	case c.PendingMsgs < 0 || c.PendingBytes < 0:
		return fmt.Errorf("%w: negative pending limit", ErrConfig)
	case c.GatherWait < 0:
		return fmt.Errorf("%w: negative GatherWait", ErrConfig)
	case c.MaxGathers < 0:
		return fmt.Errorf("%w: negative MaxGathers", ErrConfig)
	case !validPrefix(c.TopicPrefix) || !validPrefix(c.QueryPrefix) || !validPrefix(c.AnnouncePrefix):
		return fmt.Errorf("%w: prefixes must be literal subjects", ErrConfig)
	case c.TopicPrefix == c.QueryPrefix || c.TopicPrefix == c.AnnouncePrefix || c.QueryPrefix == c.AnnouncePrefix:
		return fmt.Errorf("%w: topic, query and announce prefixes must differ", ErrConfig)
	}
	return nil
}

// validPrefix reports whether p is a literal NATS subject: non-empty dot
// separated tokens of printable bytes, none a wildcard.
func validPrefix(p string) bool {
	tok := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '.' {
			if tok == 0 {
				return false
			}
			tok = 0
			continue
		}
		c := p[i]
		if c <= ' ' || c >= 0x7f || c == '*' || c == '>' {
			return false
		}
		tok++
	}
	return true
}
