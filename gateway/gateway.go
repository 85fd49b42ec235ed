package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server"
)

// Gateway is the real-time pub/sub application: a server.Handler whose
// clients subscribe to topics and receive what is published to them, from
// the HTTP API or from other clients. See PROTOCOL.md for the wire
// protocol.
//
// Its state lives in one shard per event loop (see shard); a publish is
// encoded once and posted to each loop once. Building one takes three
// steps, since the routes must exist before the server and the shards
// need the server's loops:
//
//	g, err := gateway.New(cfg)                      // 1. the Handler
//	srv, err := server.New(server.Config{Routes: map[string]server.Handler{"/ws": g}})
//	err = g.Attach(srv)                             // 2. per-loop shards, before Serve
//	go srv.Serve()                                  // 3. serve; mount g.APIHandler() where you like
//
// Its Handler methods run on event loops; Publish, Presence, Stats and
// APIHandler may be called from any other goroutine once Attach has
// returned. The Gateway starts no listener of its own.
type Gateway struct {
	cfg      Config
	verifier *tokenVerifier // nil: no token required

	srv    *server.Server
	shards []*shard // indexed by server.Loop.Index; read-only after Attach

	reg          registry
	publishes    atomic.Uint64
	encoded      atomic.Uint64
	encodedBytes atomic.Uint64
	duplicates   atomic.Uint64
	dedup        *dedup         // nil: ids disabled
	presence     *presenceState // join and leave events; replaced by JoinCluster
	cluster      *clusterLink   // nil: a single node; set by JoinCluster before Serve
	// sliceItems is how many subscribers one step of a sliced delivery
	// writes at most (server.SliceItems; tests lower it).
	sliceItems int

	hist  history.Store  // nil: history off; set by UseHistory before Serve
	reads chan struct{}  // a slot per history read running (maxHistoryReads)
	local *history.Local // hist when it is the single-node store
}

// Errors of a Gateway used out of order.
var (
	// ErrNotAttached is returned by a Gateway used before Attach.
	ErrNotAttached = errors.New("gateway is not attached to a server")
	// ErrClosed is returned when the server stopped before a publish or
	// presence query finished.
	ErrClosed = errors.New("gateway: server stopped")
)

// errNotReady refuses upgrades that reach a Gateway before Attach.
var errNotReady = &server.StatusError{Status: http.StatusServiceUnavailable, Reason: "gateway not attached"}

// New checks cfg and returns a Gateway to mount in server.Config.Routes.
// It must then be attached to the server built with it (see Attach).
func New(cfg Config) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	g := &Gateway{cfg: cfg, dedup: newDedup(cfg.PublishDedupWindow, cfg.PublishDedupSize), sliceItems: server.SliceItems,
		presence: newPresenceState("", time.Now())}
	if len(cfg.JWTSecret) > 0 || cfg.JWTKeys != nil {
		g.verifier = newTokenVerifier(cfg)
	}
	return g, nil
}

// Attach builds the Gateway's per-loop shards from srv.Loops. Call it once,
// after server.New and before srv.Serve, with the server whose routes hold
// g. Not safe to call concurrently with anything else on g.
func (g *Gateway) Attach(srv *server.Server) error {
	if g.srv != nil {
		return errors.New("gateway: already attached to a server")
	}
	loops := srv.Loops()
	g.shards = make([]*shard, len(loops))
	for i, l := range loops {
		g.shards[i] = newShard(g, l)
	}
	g.srv = srv
	go g.runPollSweeper(srv.Done())
	if g.cfg.PresenceEvents {
		go g.runPresence() // one per Gateway; ends with the server
	}
	if g.cluster != nil {
		go g.cluster.runPublisher(g, srv.Done()) // one per node; ends with the server
		go g.cluster.runInterest(srv.Done())     // one per node; ends with the server
	}
	if g.cfg.ClientRate >= 0 {
		go g.runSweep() // one per Gateway; ends with the server
	}
	return nil
}

// shardFor returns the shard of c's loop; nil before Attach.
func (g *Gateway) shardFor(c *server.Conn) *shard {
	if g.shards == nil {
		return nil
	}
	return g.shards[c.Loop().Index()]
}

// opening is what Authorize decided, handed to OnOpen through Conn.Open.
type opening struct {
	grant  *grant
	topics []string
	since  map[string]history.Position // cursors of ?since.<topic>=
}

// Authorize implements server.Authorizer. It verifies the token when one
// is required (401 when missing or invalid) and checks the topics of the
// ?topics= parameter and their since.<topic> cursors (400 when malformed
// or too many, 403 when the token does not allow one). What it decides
// goes to OnOpen as the connection's open value. Loop-only.
func (g *Gateway) Authorize(c *server.Conn, r *server.UpgradeRequest) (any, error) {
	o, err := g.authorizeQuery(c, r)
	if err != nil || (o.grant == nil && len(o.topics) == 0) {
		return nil, err // an anonymous connection with nothing to keep
	}
	return o, nil
}

// authorizeQuery checks the token and topics of a request's query, for
// WebSocket upgrades and streams alike. Loop-only.
func (g *Gateway) authorizeQuery(c *server.Conn, r *server.UpgradeRequest) (*opening, error) {
	if g.shardFor(c) == nil {
		return nil, errNotReady
	}
	q, err := r.Query()
	if err != nil {
		return nil, &server.StatusError{Status: http.StatusBadRequest, Reason: "malformed query string"}
	}
	var gr *grant
	if g.verifier != nil {
		if gr, err = g.verifier.verify(tokenFrom(q, r)); err != nil {
			return nil, err
		}
	}
	topics := splitTopics(q["topics"])
	if len(topics) > g.cfg.MaxTopicsPerConn {
		return nil, &server.StatusError{Status: http.StatusBadRequest, Reason: fmt.Sprintf("at most %d topics per connection", g.cfg.MaxTopicsPerConn)}
	}
	for _, t := range topics {
		if err := checkTopic(t, g.cfg.MaxTopicLen); err != nil {
			return nil, &server.StatusError{Status: http.StatusBadRequest, Reason: fmt.Sprintf("topic %q: %v", t, err)}
		}
		if !gr.canSub(t) {
			return nil, &server.StatusError{Status: http.StatusForbidden, Reason: fmt.Sprintf("not allowed to subscribe to %q", t)}
		}
	}
	since, err := sinceFromQuery(q, topics)
	if err != nil {
		return nil, &server.StatusError{Status: http.StatusBadRequest, Reason: err.Error()}
	}
	return &opening{grant: gr, topics: topics, since: since}, nil
}

// OnOpen implements server.Handler: it keeps the token's grant and
// subscribes the topics given in the URL, recovering those with a cursor
// (then a "subscribed" message says whether all were recovered).
// Loop-only.
func (g *Gateway) OnOpen(c *server.Conn) {
	o, _ := c.Open().(*opening)
	sh := g.shardFor(c)
	if o == nil || sh == nil {
		return
	}
	s := sh.session(c, true)
	s.grant = o.grant
	sh.subscribeFrom(c, s, o.topics, o.since, func(res []topicResult) {
		if len(o.since) > 0 {
			g.replySubscribed(sh, c, o.topics, nil, res)
		}
	})
}

// OnClose implements server.Handler: it removes every subscription of c
// and its session. Loop-only.
func (g *Gateway) OnClose(c *server.Conn, _ server.CloseInfo) {
	if sh := g.shardFor(c); sh != nil {
		sh.drop(c)
	}
}
