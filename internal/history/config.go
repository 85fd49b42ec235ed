package history

import (
	"fmt"
	"time"
)

// Defaults of the zero Config.
const (
	DefaultSize   = 100
	DefaultTTL    = 5 * time.Minute
	DefaultMemory = 64 << 20
	// DefaultShards spreads topics over enough locks that appends to
	// different topics on a few cores rarely meet.
	DefaultShards = 64
)

// Config bounds a store's history. Its zero value gives every topic its
// last DefaultSize messages of at most DefaultTTL age within DefaultMemory
// bytes for all topics together.
//
// Zero means the default; a negative Size or TTL disables that bound (a
// command's "0 disables" flag maps 0 to -1). The memory budget cannot be
// disabled: it is what keeps a publisher to a million topics from
// exhausting the process.
type Config struct {
	// Size is the most messages kept per topic.
	Size int
	// TTL is the longest a message is kept.
	TTL time.Duration
	// Memory is the budget, in bytes, of all stored messages and topic
	// metadata together (Local) or the stream's MaxBytes (JetStream).
	Memory int64
	// Shards is the number of topic shards of a Local store, each with its
	// own lock; 0 means DefaultShards.
	Shards int
}

func (c Config) withDefaults() Config {
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.Memory == 0 {
		c.Memory = DefaultMemory
	}
	if c.Shards == 0 {
		c.Shards = DefaultShards
	}
	return c
}

// Validate reports a configuration the stores would refuse.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Memory < 0:
		return fmt.Errorf("%w: negative Memory", ErrConfig)
	case c.Shards < 0 || c.Shards > 1<<16:
		return fmt.Errorf("%w: Shards %d out of range", ErrConfig, c.Shards)
	}
	return nil
}

// sizeBound is the count bound, or 0 when disabled.
func (c Config) sizeBound() int { return max(c.Size, 0) }

// ttlBound is the age bound, or 0 when disabled.
func (c Config) ttlBound() time.Duration { return max(c.TTL, 0) }
