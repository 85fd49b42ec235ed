package gateway

import (
	"errors"
	"fmt"
	"strings"
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

	DefaultMaxPublishTopics       = 16
	DefaultPresenceInterval       = time.Second
	DefaultPresenceMaxSubscribers = 1000
	DefaultClientRate             = 50
	DefaultClientBurst            = 100
	DefaultPublishDedupWindow     = 2 * time.Minute
	DefaultPublishDedupSize       = 100_000

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
	// MaxClientErrors is how many error replies a connection may earn
	// within a minute before it is closed with 1008 (policy violation).
	// Good requests in between do not reset the count.
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

	// MaxPublishTopics bounds the distinct topics of one publish (API or
	// client): each topic costs one frame of the message's size, since the
	// topic is inside the frame. More is 400 / an error reply.
	MaxPublishTopics int
	// PresenceInterval is how long presence changes of a topic are
	// gathered before its subscribers see them: at most one join or
	// leave per user and topic per interval, none when they cancel out.
	PresenceInterval time.Duration
	// PresenceMaxSubscribers: a topic with more subscribers than this on
	// one event loop gets no presence events there (counted in
	// HubStats.PresenceSkipped).
	PresenceMaxSubscribers int
	// ClientRate is how many messages per second a client may send on
	// average, ClientBurst how many at once (a token bucket per
	// connection). A client past it is closed with 1008. Negative
	// ClientRate disables the limit.
	ClientRate  float64
	ClientBurst int
	// PublishDedupWindow is how long a publish "id" is remembered; a
	// publish repeating it within the window is not published again and
	// gets the first one's answer. Negative disables ids.
	PublishDedupWindow time.Duration
	// PublishDedupSize bounds the ids remembered; the oldest go first.
	PublishDedupSize int

	// APIAllowedHosts are the host names the API answers to (the Host
	// header without its port), besides IP literals and "localhost",
	// which it always accepts; "*" accepts any. Others get 421: a DNS
	// rebinding page reaches the API under its own name. With APIKey set
	// any name is accepted: such a page does not have the key.
	APIAllowedHosts []string
	// APICORSOrigins are the browser origins (scheme://host[:port], or
	// "*") allowed to call the API. Requests with any other Origin get
	// 403; empty allows none.
	APICORSOrigins []string

	// JWTAllowNoExp accepts tokens without an exp claim (which then never
	// expire); by default they are refused.
	JWTAllowNoExp bool
	// JWTAudience, when set, must be in the token's aud claim.
	JWTAudience string
	// JWTIssuer, when set, must equal the token's iss claim.
	JWTIssuer string
	// JWTKeys, when set, verifies RS256 and ES256 tokens with its public
	// keys (from PEM files or a JWKS document, see KeySet) and makes a
	// token mandatory, alone or beside JWTSecret.
	JWTKeys *KeySet
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
	if c.MaxPublishTopics == 0 {
		c.MaxPublishTopics = DefaultMaxPublishTopics
	}
	if c.PresenceInterval == 0 {
		c.PresenceInterval = DefaultPresenceInterval
	}
	if c.PresenceMaxSubscribers == 0 {
		c.PresenceMaxSubscribers = DefaultPresenceMaxSubscribers
	}
	if c.ClientRate == 0 {
		c.ClientRate = DefaultClientRate
	}
	if c.ClientBurst == 0 {
		c.ClientBurst = max(DefaultClientBurst, int(c.ClientRate))
	}
	if c.PublishDedupWindow == 0 {
		c.PublishDedupWindow = DefaultPublishDedupWindow
	}
	if c.PublishDedupSize == 0 {
		c.PublishDedupSize = DefaultPublishDedupSize
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
	if c.MaxPublishTopics < 0 || c.MaxPublishTopics > 1<<16 {
		errs = append(errs, fmt.Errorf("max-publish-topics must be between 1 and 65536, got %d", c.MaxPublishTopics))
	}
	if c.PresenceInterval < 0 {
		errs = append(errs, fmt.Errorf("presence-interval must be positive, got %v", c.PresenceInterval))
	}
	if c.PresenceMaxSubscribers < 0 {
		errs = append(errs, fmt.Errorf("presence-max-subscribers must be positive, got %d", c.PresenceMaxSubscribers))
	}
	if c.ClientBurst < 0 {
		errs = append(errs, fmt.Errorf("client-burst must be positive, got %d", c.ClientBurst))
	}
	if c.PublishDedupSize < 0 {
		errs = append(errs, fmt.Errorf("publish-dedup-size must be positive, got %d", c.PublishDedupSize))
	}
	for _, o := range c.APICORSOrigins {
		if o != "*" && !strings.Contains(o, "://") {
			errs = append(errs, fmt.Errorf("api-cors-origins: %q is not scheme://host[:port] or *", o))
		}
	}
	return errors.Join(errs...)
}
