package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Gateway is the real-time pub/sub application: a Handler (mounted on /ws
// by the myriad command) whose clients subscribe to topics and receive
// what is published to them, from the HTTP API or from other clients. See
// PROTOCOL.md for the wire protocol.
//
// Its state lives in one shard per event loop (see shard); a publish is
// encoded once and handed to each loop once. A Gateway is mounted on one
// Server: put it in Config.Routes before New. Its Handler methods run on
// event loops; Publish, Presence, Stats, APIHandler and APIAddr may be
// called from any other goroutine once New has returned.
type Gateway struct {
	cfg      GatewayConfig
	verifier *tokenVerifier // nil: no token required

	srv    *Server
	log    *zap.Logger
	shards []*shard
	byLoop map[*loop]*shard // read-only after mount

	reg       registry
	publishes atomic.Uint64

	apiMu    sync.Mutex
	api      *http.Server
	apiAddr  net.Addr
	stopping chan struct{} // closed when the Server stops
	stopOnce sync.Once
}

// errNotMounted is returned by a Gateway used before New has mounted it.
var errNotMounted = errors.New("gateway is not mounted on a server")

// NewGateway checks cfg and returns a Gateway to mount in Config.Routes.
func NewGateway(cfg GatewayConfig) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	g := &Gateway{cfg: cfg, stopping: make(chan struct{})}
	if len(cfg.JWTSecret) > 0 {
		g.verifier = newTokenVerifier(cfg.JWTSecret, cfg.MaxTopicLen)
	}
	return g, nil
}

// mountable is implemented by Handlers that need the Server they are
// mounted on and run something beside it. New calls mount once; Serve
// calls start before it listens (an error stops Serve) and stop when it
// returns, so whatever runs beside the server lives exactly as long.
type mountable interface {
	mount(s *Server) error
	start() error
	stop()
}

func (g *Gateway) mount(s *Server) error {
	if g.srv != nil {
		return errors.New("a Gateway can be mounted on one route of one server")
	}
	g.srv, g.log = s, s.log
	g.shards = make([]*shard, len(s.loops))
	g.byLoop = make(map[*loop]*shard, len(s.loops))
	for i, l := range s.loops {
		sh := newShard(g, l)
		sh.idx = i
		g.shards[i] = sh
		g.byLoop[l] = sh
	}
	return nil
}

// start binds the API listener, if one is configured, and serves it.
func (g *Gateway) start() error {
	if g.cfg.APIAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", g.cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("api listen on %s: %w", g.cfg.APIAddr, err)
	}
	hs := &http.Server{
		Handler:           g.APIHandler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          zap.NewStdLog(g.log.Named("api")),
	}
	g.apiMu.Lock()
	g.api, g.apiAddr = hs, ln.Addr()
	g.apiMu.Unlock()
	g.log.Info("api listening", zap.Stringer("addr", ln.Addr()))
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Error("api server stopped", zap.Error(err))
		}
	}()
	return nil
}

// stop ends waits on the loops and shuts the API listener down, letting
// requests in flight finish for a moment.
func (g *Gateway) stop() {
	g.stopOnce.Do(func() { close(g.stopping) })
	g.apiMu.Lock()
	hs := g.api
	g.apiMu.Unlock()
	if hs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		_ = hs.Close()
	}
}

// APIAddr returns the bound address of the API listener, or nil when none
// runs. Any goroutine may call it.
func (g *Gateway) APIAddr() net.Addr {
	g.apiMu.Lock()
	defer g.apiMu.Unlock()
	return g.apiAddr
}

func (g *Gateway) shardFor(c *Conn) *shard { return g.byLoop[c.loop] }

// Authorize implements Authorizer. It verifies the token when one is
// required (401 when missing or invalid) and checks the topics of the
// ?topics= parameter (400 when malformed or too many, 403 when the token
// does not allow one). What it decides waits in the loop's shard for the
// OnOpen that follows. Loop-only.
func (g *Gateway) Authorize(c *Conn, r *UpgradeRequest) error {
	sh := g.shardFor(c)
	q, err := r.Query()
	if err != nil {
		return &StatusError{Status: http.StatusBadRequest, Reason: "malformed query string"}
	}
	var gr *grant
	if g.verifier != nil {
		if gr, err = g.verifier.verify(tokenFrom(q, r)); err != nil {
			return err
		}
	}
	topics := splitTopics(q["topics"])
	if len(topics) > g.cfg.MaxTopicsPerConn {
		return &StatusError{Status: http.StatusBadRequest, Reason: fmt.Sprintf("at most %d topics per connection", g.cfg.MaxTopicsPerConn)}
	}
	for _, t := range topics {
		if err := checkTopic(t, g.cfg.MaxTopicLen); err != nil {
			return &StatusError{Status: http.StatusBadRequest, Reason: fmt.Sprintf("topic %q: %v", t, err)}
		}
		if !gr.canSub(t) {
			return &StatusError{Status: http.StatusForbidden, Reason: fmt.Sprintf("not allowed to subscribe to %q", t)}
		}
	}
	sh.opening.c, sh.opening.grant, sh.opening.topics = c, gr, topics
	return nil
}

// OnOpen implements Handler: it keeps the token's grant and subscribes
// the topics given in the URL. Loop-only.
func (g *Gateway) OnOpen(c *Conn) {
	sh := g.shardFor(c)
	if sh.opening.c != c {
		return
	}
	gr, topics := sh.opening.grant, sh.opening.topics
	sh.opening.c, sh.opening.grant, sh.opening.topics = nil, nil, nil
	if gr == nil && len(topics) == 0 {
		return
	}
	s := sh.session(c, true)
	s.grant = gr
	for _, t := range topics {
		sh.subscribe(c, s, t)
	}
}

// OnClose implements Handler: it removes every subscription of c and its
// session. Loop-only.
func (g *Gateway) OnClose(c *Conn) { g.shardFor(c).drop(c) }
