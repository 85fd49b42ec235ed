package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/server"
)

// gatewayPath is where the pub/sub gateway is mounted, beside /echo.
const gatewayPath = "/ws"

// defaultAPIAddr is where the gateway's publish and admin API listens
// unless --api-addr says otherwise.
const defaultAPIAddr = "127.0.0.1:8081"

// gatewayOptions are the gateway's flags.
type gatewayOptions struct {
	cfg           gateway.Config
	apiAddr       string
	apiInsecure   bool
	jwtSecret     string
	jwtRequireExp bool
	jwtPublicKey  string // PEM file
	jwksURL       string // URL or file
	jwksRefresh   time.Duration
	slowPolicy    string

	jwks *gateway.JWKSFetcher // set by build when jwksURL is
}

// addGatewayFlags declares the gateway's flags on fs, bound to g.
func addGatewayFlags(fs *flag.FlagSet, g *gatewayOptions) {
	c := &g.cfg
	c.APIMaxBody = gateway.DefaultAPIMaxBody
	fs.StringVar(&g.apiAddr, "api-addr", defaultAPIAddr, "HTTP listen address of the publish API, /metrics, /healthz, /readyz and the dashboard (empty: none)")
	fs.StringVar(&c.APIKey, "api-key", "", "require Authorization: Bearer <key> on every API request (empty: no key)")
	fs.BoolVar(&g.apiInsecure, "api-insecure", false, "let the API listen beyond loopback without --api-key (refused otherwise)")
	fs.Var(stringList{p: &c.APIAllowedHosts}, "api-allowed-hosts", "host names the API answers to besides IP literals and localhost (* for any); others get 421")
	fs.Var(stringList{p: &c.APICORSOrigins}, "api-cors-origins", "browser origins allowed to call the API (scheme://host[:port] or *); others get 403")
	fs.Var(byteSize{p64: &c.APIMaxBody}, "api-max-body", "largest API request body; larger gets 413")
	fs.StringVar(&g.jwtSecret, "jwt-secret", "", "HS256 secret; when set, "+gatewayPath+" requires a token (?token= or Authorization: Bearer)")
	fs.StringVar(&g.jwtPublicKey, "jwt-public-key", "", "PEM file of RS256/ES256 public keys; when set, "+gatewayPath+" requires a token")
	fs.StringVar(&g.jwksURL, "jwks-url", "", "JWKS URL (http[s]://) or file of RS256/ES256 keys; when set, "+gatewayPath+" requires a token")
	fs.DurationVar(&g.jwksRefresh, "jwks-refresh", gateway.DefaultJWKSRefresh, "reload --jwks-url this often")
	fs.BoolVar(&g.jwtRequireExp, "jwt-require-exp", true, "refuse tokens without an exp claim")
	fs.StringVar(&c.JWTAudience, "jwt-audience", "", "require this value in the token's aud claim")
	fs.StringVar(&c.JWTIssuer, "jwt-issuer", "", "require this token iss claim")
	fs.BoolVar(&c.ClientPublish, "client-publish", false, "let clients without a token publish (token holders follow their pub_topics claim)")
	fs.IntVar(&c.MaxTopicsPerConn, "max-topics-per-conn", gateway.DefaultMaxTopicsPerConn, "most topics one connection may subscribe to")
	fs.IntVar(&c.MaxPublishTopics, "max-publish-topics", gateway.DefaultMaxPublishTopics, "most topics one publish may name")
	fs.DurationVar(&c.PublishDedupWindow, "publish-dedup-window", gateway.DefaultPublishDedupWindow, "remember publish ids this long (negative: ignore ids)")
	fs.Float64Var(&c.ClientRate, "client-rate", gateway.DefaultClientRate, "messages per second a client may send on average (negative: no limit); past it, close 1008")
	fs.IntVar(&c.ClientBurst, "client-burst", gateway.DefaultClientBurst, "messages a client may send at once")
	fs.BoolVar(&c.PresenceEvents, "presence-events", false, "push join and leave events to a topic's subscribers")
	fs.DurationVar(&c.PollTimeout, "poll-timeout", gateway.DefaultPollTimeout, "longest GET /poll holds a request with nothing to answer yet")
	fs.DurationVar(&c.PresenceInterval, "presence-interval", gateway.DefaultPresenceInterval, "gather presence changes this long; at most one event per user and topic each")
	fs.IntVar(&c.PresenceMaxSubscribers, "presence-max-subscribers", gateway.DefaultPresenceMaxSubscribers, "no presence events for topics with more subscribers than this on one event loop")
	fs.StringVar(&g.slowPolicy, "slow-policy", string(gateway.SlowClose), "a subscriber whose outbound queue is full: close it, or drop the message for it")
}

// build makes the gateway and returns it with the server's routes: echo
// on /echo and the gateway on /ws. The gateway still has to be attached
// to the server made with these routes.
func (g *gatewayOptions) build() (*gateway.Gateway, map[string]server.Handler, error) {
	c := g.cfg
	c.SlowPolicy = gateway.SlowPolicy(g.slowPolicy)
	c.JWTAllowNoExp = !g.jwtRequireExp
	if g.jwtSecret != "" {
		c.JWTSecret = []byte(g.jwtSecret)
	}
	if g.jwtPublicKey != "" || g.jwksURL != "" {
		var pemData []byte
		if g.jwtPublicKey != "" {
			var err error
			if pemData, err = os.ReadFile(g.jwtPublicKey); err != nil {
				return nil, nil, fmt.Errorf("--jwt-public-key: %w", err)
			}
		}
		keys, err := gateway.NewKeySet(pemData)
		if err != nil {
			return nil, nil, fmt.Errorf("--jwt-public-key %s: %w", g.jwtPublicKey, err)
		}
		c.JWTKeys = keys
		if g.jwksURL != "" {
			g.jwks = &gateway.JWKSFetcher{Source: g.jwksURL, Refresh: g.jwksRefresh, Keys: keys}
		}
	}
	gw, err := gateway.New(c)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid configuration: %w", err)
	}
	return gw, map[string]server.Handler{"/echo": server.Echo{}, gatewayPath: gw}, nil
}

// checkAPIExposure refuses an API listening beyond loopback without a
// key, unless --api-insecure, and then warns: anyone who reaches it could
// publish and read presence.
func (g *gatewayOptions) checkAPIExposure(log *zap.Logger) error {
	if g.apiAddr == "" || g.cfg.APIKey != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(g.apiAddr)
	if err != nil {
		return fmt.Errorf("--api-addr %q: %w", g.apiAddr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	if !g.apiInsecure {
		return fmt.Errorf("--api-addr %s listens beyond loopback without --api-key: anyone who reaches it could publish; set --api-key (or --api-insecure to accept that)", g.apiAddr)
	}
	log.Warn("API LISTENS BEYOND LOOPBACK WITHOUT A KEY: anyone who reaches it can publish and read presence", zap.String("api_addr", g.apiAddr))
	return nil
}

// startJWKS loads --jwks-url once and keeps reloading it on one goroutine
// until the returned stop is called. A failed first load of a URL is
// logged, not fatal (the identity provider may come up later, and tokens
// are refused until it does); a file must load.
func (g *gatewayOptions) startJWKS(log *zap.Logger) (stop func(), err error) {
	if g.jwks == nil {
		return func() {}, nil
	}
	g.jwks.Log = log
	ctx, cancel := context.WithCancel(context.Background())
	lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
	err = g.jwks.Load(lctx)
	lcancel()
	if err != nil {
		if !isURL(g.jwksURL) {
			cancel()
			return nil, fmt.Errorf("--jwks-url %s: %w", g.jwksURL, err)
		}
		log.Warn("jwks not loaded; tokens are refused until it is", zap.String("source", g.jwksURL), zap.Error(err))
	}
	done := make(chan struct{})
	go func() { g.jwks.Run(ctx); close(done) }()
	return func() { cancel(); <-done }, nil
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}
