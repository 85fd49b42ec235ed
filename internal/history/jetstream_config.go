package history

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Defaults of the zero JetStreamConfig.
const (
	DefaultStream = "MYRIAD_HISTORY"
	// DefaultHistoryPrefix is the subject prefix the stream stores. It
	// differs from broker.DefaultTopicPrefix so that plain topic publishes
	// are not stored twice and the stream can republish onto the topic
	// subjects.
	DefaultHistoryPrefix = "myriad.h"
	DefaultCallTimeout   = 5 * time.Second
)

// JetStreamConfig configures a JetStream store. Conn is required; the
// rest has working zero values. Config's bounds map onto the stream:
// Size to MaxMsgsPerSubject, TTL to MaxAge, Memory to MaxBytes (oldest
// messages of the whole stream go first when it is reached).
type JetStreamConfig struct {
	Config
	// Conn is the node's NATS connection; the store does not close it.
	Conn *nats.Conn
	// Stream names the stream; every node of a cluster uses the same.
	Stream string
	// Prefix is the subject prefix of stored messages: a topic is stored
	// on broker.Subject(Prefix, topic), one escaped token per topic.
	Prefix string
	// Republish, when set, makes the stream republish every stored message
	// to broker.Subject(Republish, topic) with its sequence in the
	// Nats-Sequence header (see OffsetOf): set it to the broker's topic
	// prefix and every node receives each topic's messages in offset order
	// through its ordinary topic subscription.
	Republish string
	// File selects file storage. The default is memory storage: history
	// is bounded by a memory budget and minutes of age, and a broker
	// restart that loses it is reported through the epoch like any loss.
	File bool
	// Replicas is the stream's replica count on a clustered NATS; 0 means 1.
	Replicas int
	// CallTimeout bounds each call whose context has no deadline.
	CallTimeout time.Duration
}

func (c JetStreamConfig) withDefaults() JetStreamConfig {
	c.Config = c.Config.withDefaults()
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Prefix == "" {
		c.Prefix = DefaultHistoryPrefix
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	return c
}

// Validate reports a configuration NewJetStream would refuse.
func (c JetStreamConfig) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	c = c.withDefaults()
	switch {
	case c.Conn == nil:
		return fmt.Errorf("%w: JetStream store needs a connection", ErrConfig)
	case !literalSubject(c.Prefix) || (c.Republish != "" && !literalSubject(c.Republish)):
		return fmt.Errorf("%w: prefixes must be literal subjects", ErrConfig)
	case c.Republish == c.Prefix:
		return fmt.Errorf("%w: Republish must differ from Prefix", ErrConfig)
	case c.Replicas < 0 || c.Replicas > 5:
		return fmt.Errorf("%w: Replicas %d out of range", ErrConfig, c.Replicas)
	case c.CallTimeout < 0:
		return fmt.Errorf("%w: negative CallTimeout", ErrConfig)
	}
	return nil
}

// literalSubject reports whether p is a NATS subject without wildcards:
// a topic's subject under it is then literal too.
func literalSubject(p string) bool {
	if p == "" || p[0] == '.' || p[len(p)-1] == '.' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f || c == '*' || c == '>' || (c == '.' && i > 0 && p[i-1] == '.') {
			return false
		}
	}
	return true
}
