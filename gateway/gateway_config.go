package gateway

import (
	"errors"
	"fmt"
	"time"
)

// SlowPolicy chooses what the gateway does with a subscriber whose
// outbound queue would pass the server's Config.MaxOutbound; it maps to
// server.SlowClose and server.SlowDrop.
type SlowPolicy string

const (
	// SlowClose closes the subscriber, as the server does for any slow
	// consumer. Subscribers that stay connected have seen every message.
	SlowClose SlowPolicy = "close"
	// SlowDrop skips the message for that subscriber and counts it; the
	// subscriber stays connected and misses messages while it lags.
	SlowDrop SlowPolicy = "drop"
)

// Defaults of the zero Config.
const (
	DefaultAPIMaxBody       = 1 << 20
	DefaultMaxTopicsPerConn = 64
	DefaultMaxTopicLen      = 128
	DefaultMaxClientMessage = 64 << 10
	DefaultMaxClientErrors  = 8
	DefaultMaxPresenceUsers = 1000
	// DefaultPollTimeout is how long a long poll is held: under the 30 s
	// many proxies and load balancers allow an idle response.
	DefaultPollTimeout = 25 * time.Second
	// maxPollTimeout keeps a held poll within what clients wait for.
	maxPollTimeout = 10 * time.Minute

	// maxTopicLenLimit keeps a topic and its JSON envelope well inside
	// the smallest frames and log lines.
	maxTopicLenLimit = 1024
)

// Config configures a Gateway. The zero value works: anonymous clients
// may subscribe but not publish and no token is required. How many
// publishes may wait for one loop is the server's Config.MaxPosted.
type Config struct {
	// APIKey, when set, is required as "Authorization: Bearer <key>" on
	// every API request; missing or wrong is 401.
	APIKey string
	// APIMaxBody bounds an API request body in bytes; larger is 413.
	APIMaxBody int64
	// JWTSecret, when set, makes an HS256 token mandatory on the
	// gateway's path (see Claims).
	JWTSecret []byte
	// ClientPublish lets clients without a token publish. Clients with a
	// token may publish where their pub_topics claim allows.
	ClientPublish bool
	// MaxTopicsPerConn bounds one connection's subscriptions.
	MaxTopicsPerConn int
	// MaxTopicLen bounds a topic name in bytes.
	MaxTopicLen int
	// MaxClientMessage bounds a client message in bytes; larger gets an
	// error reply. server.Config.MaxMessage still bounds frames (1009).
	MaxClientMessage int
	// MaxClientErrors is how many error replies in a row a connection may
	// earn before it is closed with 1008 (policy violation).
	MaxClientErrors int
	// MaxPresenceUsers bounds the user list of a presence answer.
	MaxPresenceUsers int
	// PresenceEvents pushes a join or leave event to a topic's
	// subscribers whenever a connection subscribes to it or leaves it.
	PresenceEvents bool
	// SlowPolicy is SlowClose (the default) or SlowDrop.
	SlowPolicy SlowPolicy
	// PollTimeout bounds how long GET /poll holds a request that has
	// nothing to answer yet; then it answers with no messages.
	PollTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.APIMaxBody == 0 {
		c.APIMaxBody = DefaultAPIMaxBody
	}
	if c.MaxTopicsPerConn == 0 {
		c.MaxTopicsPerConn = DefaultMaxTopicsPerConn
	}
	if c.MaxTopicLen == 0 {
		c.MaxTopicLen = DefaultMaxTopicLen
	}
	if c.MaxClientMessage == 0 {
		c.MaxClientMessage = DefaultMaxClientMessage
	}
	if c.MaxClientErrors == 0 {
		c.MaxClientErrors = DefaultMaxClientErrors
	}
	if c.MaxPresenceUsers == 0 {
		c.MaxPresenceUsers = DefaultMaxPresenceUsers
	}
	if c.PollTimeout == 0 {
		c.PollTimeout = DefaultPollTimeout
	}
	if c.SlowPolicy == "" {
		c.SlowPolicy = SlowClose
	}
	return c
}

// Validate reports every invalid field of c (after defaults) in one error.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.APIMaxBody < 0 {
		errs = append(errs, fmt.Errorf("api-max-body must be positive, got %d", c.APIMaxBody))
	}
	if c.MaxTopicsPerConn < 0 || c.MaxTopicsPerConn > 1<<16 {
		errs = append(errs, fmt.Errorf("max-topics-per-conn must be between 1 and 65536, got %d", c.MaxTopicsPerConn))
	}
	if c.MaxTopicLen < 0 || c.MaxTopicLen > maxTopicLenLimit {
		errs = append(errs, fmt.Errorf("max-topic-len must be between 1 and %d, got %d", maxTopicLenLimit, c.MaxTopicLen))
	}
	if c.MaxClientMessage < 0 {
		errs = append(errs, fmt.Errorf("max-client-message must be positive, got %d", c.MaxClientMessage))
	}
	if c.MaxClientErrors < 0 || c.MaxClientErrors > 255 {
		errs = append(errs, fmt.Errorf("max-client-errors must be between 1 and 255, got %d", c.MaxClientErrors))
	}
	if c.MaxPresenceUsers < 0 {
		errs = append(errs, fmt.Errorf("max-presence-users must be positive, got %d", c.MaxPresenceUsers))
	}
	if c.SlowPolicy != SlowClose && c.SlowPolicy != SlowDrop {
		errs = append(errs, fmt.Errorf("slow-policy must be close or drop, got %q", c.SlowPolicy))
	}
	if c.PollTimeout < 0 || c.PollTimeout > maxPollTimeout {
		errs = append(errs, fmt.Errorf("poll-timeout must be between 1ms and %v, got %v", maxPollTimeout, c.PollTimeout))
	}
	return errors.Join(errs...)
}
