package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/server"
)

// Cluster is a gateway node's link to the other nodes: the methods of
// *broker.Client the gateway uses. The gateway calls Interest when the
// node gains its first subscriber of a topic (over all its loops) and
// Disinterest when it loses the last, both from the node's one interest
// goroutine and never from an event loop (cluster_interest.go), and
// Publish for every message; it delivers to its own subscribers only what
// the broker hands back to Receive. Implementations must allow calls from
// any goroutine.
type Cluster interface {
	NodeID() string
	State() broker.State
	Interest(topic string) error
	Disinterest(topic string) error
	Publish(topic string, payload []byte, header nats.Header) error
	Flush(timeout time.Duration) error
	Respond(kind string, fn func(req []byte) []byte) (stop func() error, err error)
	Gather(ctx context.Context, kind string, req []byte, expect int) (broker.Gathered, error)
	Announce(kind string, data []byte) error
	OnAnnounce(kind string, fn func(broker.Message)) (stop func() error, err error)
	Stats() broker.Stats
}

// Headers the gateway adds to what it publishes on the broker.
const (
	// headerLocal marks a message its publisher already delivered to its
	// own subscribers because the broker was away; the publisher skips it
	// when the broker hands it back after the reconnect.
	headerLocal = "Myriad-Local"
	// headerKind is "join" or "leave" for presence events of anonymous
	// connections (users' go by announcements, presence_cluster.go);
	// absent for a published message.
	headerKind = "Myriad-Kind"
	headerUser = "Myriad-User"
)

// DefaultFlushTimeout bounds the wait for the broker's acknowledgement of
// an API publish.
const DefaultFlushTimeout = 5 * time.Second

// ErrBrokerUnavailable is returned by a cluster publish the broker could
// not take (it is away and its reconnect buffer is full or disabled): the
// message reached this node's subscribers only.
var ErrBrokerUnavailable = errors.New("gateway: broker unavailable: delivered on this node only")

// Defaults of the zero ClusterConfig.
const (
	// DefaultPresenceHeartbeat is how often a node with presence events
	// tells the others it is alive.
	DefaultPresenceHeartbeat = time.Second
	// DefaultPresenceTimeout is how long a node may be silent before the
	// others take it for dead and its users leave: long enough for a
	// stalled process or a loaded host to miss several heartbeats.
	DefaultPresenceTimeout = 10 * time.Second
	// DefaultPublishQueue and DefaultPublishQueueBytes bound the client
	// publishes a node holds for the broker: a few seconds of a busy
	// node's publishes, and 16 MiB at most.
	DefaultPublishQueue      = 4096
	DefaultPublishQueueBytes = 16 << 20
)

// ClusterConfig configures a node's part in a cluster. The zero value
// works.
type ClusterConfig struct {
	// Nodes is how many nodes answer a cluster-wide /stats or /presence;
	// with it known the answer comes as soon as all did. 0: unknown, so
	// every such query waits the broker's whole gather bound.
	Nodes int
	// FlushTimeout bounds the wait for the broker's acknowledgement of an
	// API publish; 0 means DefaultFlushTimeout.
	FlushTimeout time.Duration
	// PresenceHeartbeat is how often the node tells the others it is
	// alive, with presence events on (Config.PresenceEvents); 0 means
	// DefaultPresenceHeartbeat.
	PresenceHeartbeat time.Duration
	// PresenceTimeout is how long another node may be silent before its
	// users are taken to have left (leave events follow); 0 means
	// DefaultPresenceTimeout. It must exceed PresenceHeartbeat.
	PresenceTimeout time.Duration
	// PublishQueue and PublishQueueBytes bound the client publishes
	// waiting for the broker, in messages and in data bytes; past either
	// a client publish is refused with an error reply. 0 means the
	// defaults. PublishQueueBytes must hold the largest client message
	// (Config.MaxClientMessage).
	PublishQueue      int
	PublishQueueBytes int64
	// Logger receives the link's warnings; nil discards them.
	Logger *zap.Logger
}

func (c ClusterConfig) withDefaults() ClusterConfig {
	if c.FlushTimeout <= 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.PresenceHeartbeat == 0 {
		c.PresenceHeartbeat = DefaultPresenceHeartbeat
	}
	if c.PresenceTimeout == 0 {
		c.PresenceTimeout = DefaultPresenceTimeout
	}
	if c.PublishQueue == 0 {
		c.PublishQueue = DefaultPublishQueue
	}
	if c.PublishQueueBytes == 0 {
		c.PublishQueueBytes = DefaultPublishQueueBytes
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Validate reports every invalid field of c (after defaults) in one
// error.
func (c ClusterConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Nodes < 0 {
		errs = append(errs, fmt.Errorf("cluster-nodes must not be negative, got %d", c.Nodes))
	}
	if c.PresenceHeartbeat < 0 {
		errs = append(errs, fmt.Errorf("presence-heartbeat must be positive, got %v", c.PresenceHeartbeat))
	}
	if c.PresenceTimeout <= c.PresenceHeartbeat {
		errs = append(errs, fmt.Errorf("presence-node-timeout (%v) must exceed presence-heartbeat (%v)", c.PresenceTimeout, c.PresenceHeartbeat))
	}
	if c.PublishQueue < 0 || c.PublishQueue > 1<<20 {
		errs = append(errs, fmt.Errorf("cluster-publish-queue must be between 1 and %d, got %d", 1<<20, c.PublishQueue))
	}
	if c.PublishQueueBytes < 0 {
		errs = append(errs, fmt.Errorf("cluster-publish-queue-bytes must be positive, got %d", c.PublishQueueBytes))
	}
	return errors.Join(errs...)
}

// clusterLink is a Gateway's cluster state: the broker link and its
// counters. Set once by JoinCluster, read-only afterwards (counters
// aside).
type clusterLink struct {
	c     Cluster
	cfg   ClusterConfig
	log   *zap.Logger
	stops []func() error

	queue    *publishQueue  // client publishes waiting for the broker
	interest *interestQueue // interest changes waiting for the broker

	received       atomic.Uint64 // messages and events from the broker dispatched to the loops
	ownSkipped     atomic.Uint64 // own messages handed back that were delivered locally already
	rejected       atomic.Uint64 // broker messages with a bad topic, kind or payload
	localFirst     atomic.Uint64 // delivered locally at once because the broker was away
	unsent         atomic.Uint64 // messages the broker could not take: this node only
	interestError  atomic.Uint64 // Interest or Disinterest calls that failed
	queueFull      atomic.Uint64 // client publishes refused: the publish queue was full
	presenceUnsent atomic.Uint64 // presence announcements the broker could not take
}

// JoinCluster makes g a cluster node on c: from now on a publish goes to
// the broker and g delivers what c hands to Receive (set Receive as c's
// delivery callback), g answers the cluster's /stats and /presence
// queries, and with presence events on it keeps the cluster's presence
// from the other nodes' announcements. Call it once, before Attach, not
// concurrently with anything else on g. Without it g is a single node,
// with no broker and no extra hop.
func (g *Gateway) JoinCluster(c Cluster, cfg ClusterConfig) error {
	if g.cluster != nil {
		return errors.New("gateway: already in a cluster")
	}
	if g.srv != nil {
		return errors.New("gateway: JoinCluster must come before Attach")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	if cfg.PublishQueueBytes < int64(g.cfg.MaxClientMessage) {
		return fmt.Errorf("cluster-publish-queue-bytes (%d) must hold a client message of max-client-message (%d) bytes", cfg.PublishQueueBytes, g.cfg.MaxClientMessage)
	}
	cl := &clusterLink{c: c, cfg: cfg, log: cfg.Logger, queue: newPublishQueue(cfg.PublishQueue, cfg.PublishQueueBytes),
		interest: newInterestQueue()}
	g.cluster = cl
	g.reg.link = cl.interest
	g.presence = newPresenceState(c.NodeID(), time.Now())
	answers := map[string]func([]byte) []byte{queryPresence: g.answerPresence, queryStats: g.answerStats}
	for kind, fn := range answers {
		stop, err := c.Respond(kind, fn)
		if err == nil {
			cl.stops = append(cl.stops, stop)
			continue
		}
		g.leaveCluster()
		return err
	}
	if g.cfg.PresenceEvents {
		stop, err := c.OnAnnounce(presenceAnnounce, g.onPresence)
		if err != nil {
			g.leaveCluster()
			return err
		}
		cl.stops = append(cl.stops, stop)
	}
	return nil
}

// leaveCluster undoes a JoinCluster that failed half way.
func (g *Gateway) leaveCluster() {
	for _, s := range g.cluster.stops {
		_ = s()
	}
	g.cluster = nil
	g.reg.link = nil
	g.presence = newPresenceState("", time.Now())
}

// sendResult is what a cluster publish did with its messages.
type sendResult struct {
	sent, buffered, unsent int
}

// publish hands one message per topic to the broker. While the broker is
// connected that is all: every node, this one included, delivers what
// the broker hands back. While it is away, the node delivers to its own
// subscribers at once (a broker outage never stops local delivery) and
// the message, marked as delivered here, waits in the reconnect buffer
// for the other nodes, or is counted unsent when the buffer cannot take
// it. Any goroutine may call it but an event loop: it may wait for the
// topics' interest (ahead) and for the broker connection.
func (cl *clusterLink) publish(g *Gateway, topics []string, compact []byte) (sendResult, error) {
	var res sendResult
	cl.ahead(topics)
	if g.hist != nil {
		return cl.publishHistory(g, topics, compact)
	}
	for _, t := range topics {
		cl.send(g, t, compact, nats.Header{}, func() *server.PreparedFrame { return encodeMessage(t, compact) }, &res)
	}
	if res.unsent > 0 {
		return res, ErrBrokerUnavailable
	}
	return res, nil
}

// event carries an anonymous connection's join or leave event to the
// topic's subscribers on every node, the same way as a message.
func (cl *clusterLink) event(g *Gateway, kind, topic string) {
	h := nats.Header{}
	h.Set(headerKind, kind)
	cl.ahead([]string{topic})
	var res sendResult
	cl.send(g, topic, nil, h, func() *server.PreparedFrame { return eventFrame(kind, topic, "") }, &res)
}

// send publishes one message of topic and records the outcome in res.
func (cl *clusterLink) send(g *Gateway, topic string, payload []byte, h nats.Header, frame func() *server.PreparedFrame, res *sendResult) {
	if cl.c.State() != broker.StateConnected {
		fr := frame()
		_ = g.dispatch(&job{run: func(sh *shard) int { return sh.deliver(topic, fr) }})
		cl.localFirst.Add(1)
		h.Set(headerLocal, "1")
	}
	err := cl.c.Publish(topic, payload, h)
	switch {
	case err != nil:
		res.unsent++
		cl.unsent.Add(1)
		if h.Get(headerLocal) == "" {
			// The state flipped between the check and the publish: the
			// message never left, so deliver it here at least.
			fr := frame()
			_ = g.dispatch(&job{run: func(sh *shard) int { return sh.deliver(topic, fr) }})
			cl.localFirst.Add(1)
		}
	case h.Get(headerLocal) != "":
		res.buffered++
	default:
		res.sent++
	}
}

// eventFrame prepares a join or leave event.
func eventFrame(kind, topic, user string) *server.PreparedFrame {
	b, _ := json.Marshal(&reply{Type: kind, Topic: topic, User: user})
	return server.Prepare(ws.OpText, b)
}

// Receive delivers a message from the broker to this node's subscribers
// of its topic: encoded once, posted to each loop once. Set it as the
// broker client's delivery callback (broker.Config.Deliver). It runs on
// the topic's broker goroutine, so one topic's messages are dispatched in
// the broker's order; it does not wait for the loops. Messages with a
// topic, kind or payload a gateway would not publish are counted and
// dropped: the broker is shared, and a stray publisher must not reach
// clients with malformed frames.
func (g *Gateway) Receive(m broker.Message) {
	cl := g.cluster
	if cl == nil || g.srv == nil {
		return
	}
	if m.Local && m.Header.Get(headerLocal) != "" {
		cl.ownSkipped.Add(1)
		return
	}
	if checkTopic(m.Topic, g.cfg.MaxTopicLen) != nil {
		cl.rejected.Add(1)
		return
	}
	var fr *server.PreparedFrame
	switch kind := m.Header.Get(headerKind); kind {
	case "":
		if !json.Valid(m.Payload) {
			cl.rejected.Add(1)
			return
		}
		msg := newMessage(m.Topic, m.Payload, g.positionOf(m))
		cl.received.Add(1)
		_ = g.dispatch(&job{run: func(sh *shard) int { return sh.deliverMessage(msg) }})
		return
	case "join", "leave":
		// Only anonymous connections' events travel this way; users'
		// come from the presence announcements.
		if m.Header.Get(headerUser) != "" {
			cl.rejected.Add(1)
			return
		}
		fr = eventFrame(kind, m.Topic, "")
	default:
		cl.rejected.Add(1)
		return
	}
	cl.received.Add(1)
	batch := []topicEvents{{topic: m.Topic, frames: []*server.PreparedFrame{fr}}}
	_ = g.dispatch(&job{run: func(sh *shard) int { return sh.deliverPresence(batch) }})
}
