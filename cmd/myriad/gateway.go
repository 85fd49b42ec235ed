package main

import (
	"flag"
	"fmt"

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
	cfg        gateway.Config
	apiAddr    string
	jwtSecret  string
	slowPolicy string
}

// addGatewayFlags declares the gateway's flags on fs, bound to g.
func addGatewayFlags(fs *flag.FlagSet, g *gatewayOptions) {
	c := &g.cfg
	c.APIMaxBody = gateway.DefaultAPIMaxBody
	fs.StringVar(&g.apiAddr, "api-addr", defaultAPIAddr, "HTTP listen address of the publish API, /metrics, /healthz, /readyz and the dashboard (empty: none)")
	fs.StringVar(&c.APIKey, "api-key", "", "require Authorization: Bearer <key> on every API request (empty: no key)")
	fs.Var(byteSize{p64: &c.APIMaxBody}, "api-max-body", "largest API request body; larger gets 413")
	fs.StringVar(&g.jwtSecret, "jwt-secret", "", "HS256 secret; when set, "+gatewayPath+" requires a token (?token= or Authorization: Bearer)")
	fs.BoolVar(&c.ClientPublish, "client-publish", false, "let clients without a token publish (token holders follow their pub_topics claim)")
	fs.IntVar(&c.MaxTopicsPerConn, "max-topics-per-conn", gateway.DefaultMaxTopicsPerConn, "most topics one connection may subscribe to")
	fs.BoolVar(&c.PresenceEvents, "presence-events", false, "push join and leave events to a topic's subscribers")
	fs.DurationVar(&c.PollTimeout, "poll-timeout", gateway.DefaultPollTimeout, "longest GET /poll holds a request with nothing to answer yet")
	fs.StringVar(&g.slowPolicy, "slow-policy", string(gateway.SlowClose), "a subscriber whose outbound queue is full: close it, or drop the message for it")
}

// build makes the gateway and returns it with the server's routes: echo
// on /echo and the gateway on /ws. The gateway still has to be attached
// to the server made with these routes.
func (g *gatewayOptions) build() (*gateway.Gateway, map[string]server.Handler, error) {
	c := g.cfg
	c.SlowPolicy = gateway.SlowPolicy(g.slowPolicy)
	if g.jwtSecret != "" {
		c.JWTSecret = []byte(g.jwtSecret)
	}
	gw, err := gateway.New(c)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid configuration: %w", err)
	}
	return gw, map[string]server.Handler{"/echo": server.Echo{}, gatewayPath: gw}, nil
}
