package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	gorilla "github.com/gorilla/websocket"

	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// ioTimeout bounds every blocking step of a test (see servertest).
const ioTimeout = servertest.IOTimeout

// apiURLs maps each test's Gateway to the base URL of the httptest server
// that serves its API, as the myriad command serves it on --api-addr.
var apiURLs sync.Map

// startGateway runs a server with a Gateway on /ws (and Echo on /echo),
// built the way an embedder does (New, server.New, Attach), with its API
// on an HTTP server on a free loopback port.
func startGateway(t *testing.T, cfg server.Config, gcfg Config) (*server.Server, *Gateway) {
	t.Helper()
	g, err := New(gcfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	cfg.Routes = map[string]server.Handler{"/echo": server.Echo{}, "/ws": g}
	srv, _ := servertest.Start(t, cfg, g.Attach)
	api := httptest.NewServer(g.APIHandler())
	t.Cleanup(api.Close)
	apiURLs.Store(g, api.URL)
	t.Cleanup(func() { apiURLs.Delete(g) })
	return srv, g
}

// apiURL is the base URL of g's API.
func apiURL(t *testing.T, g *Gateway) string {
	t.Helper()
	u, ok := apiURLs.Load(g)
	if !ok {
		t.Fatal("gateway has no API server")
	}
	return u.(string)
}

// waitFor polls cond until it holds (see servertest.Eventually).
func waitFor(t *testing.T, what string, _ time.Duration, cond func() bool) {
	t.Helper()
	servertest.Eventually(t, cond, what)
}

// wsURL is the ws:// URL of path on srv.
func wsURL(srv *server.Server, path string) string {
	return "ws://" + srv.Addr().String() + path
}

// slowConfig makes a subscriber that does not read fill every buffer on
// the way quickly: small socket buffers and a 64 KiB outbound bound.
func slowConfig() server.Config {
	return server.Config{
		CloseTimeout:     300 * time.Millisecond,
		MaxOutbound:      64 << 10,
		SocketSendBuffer: 4 << 10,
		SocketRecvBuffer: 4 << 10,
	}
}

// gwMsg is any message a gateway client receives.
type gwMsg struct {
	Type   string          `json:"type"`
	Topic  string          `json:"topic"`
	Topics []string        `json:"topics"`
	Data   json.RawMessage `json:"data"`
	User   string          `json:"user"`
	Error  string          `json:"error"`
	Ref    json.RawMessage `json:"ref"`

	Duplicate bool `json:"duplicate"`
}

// gwClient is a gateway client on gorilla/websocket.
type gwClient struct {
	t *testing.T
	c *gorilla.Conn
}

// dialGateway connects to /ws with the query and header given, failing the
// test unless the upgrade succeeds.
func dialGateway(t *testing.T, srv *server.Server, query string, hdr http.Header) *gwClient {
	t.Helper()
	c, status, err := tryDialGateway(t, srv, query, hdr)
	if err != nil {
		t.Fatalf("dial /ws?%s: status %d: %v", query, status, err)
	}
	return c
}

// tryDialGateway connects to /ws and returns the HTTP status of a refused
// upgrade.
func tryDialGateway(t *testing.T, srv *server.Server, query string, hdr http.Header) (*gwClient, int, error) {
	t.Helper()
	u := wsURL(srv, "/ws")
	if query != "" {
		u += "?" + query
	}
	d := gorilla.Dialer{HandshakeTimeout: ioTimeout}
	c, resp, err := d.Dial(u, hdr)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, status, err
	}
	t.Cleanup(func() { _ = c.Close() })
	return &gwClient{t: t, c: c}, http.StatusSwitchingProtocols, nil
}

// send writes one JSON text message.
func (c *gwClient) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(gorilla.TextMessage, b)
}

func (c *gwClient) sendRaw(op int, b []byte) {
	c.t.Helper()
	_ = c.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if err := c.c.WriteMessage(op, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read reads one message.
func (c *gwClient) read() gwMsg {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	op, b, err := c.c.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if op != gorilla.TextMessage {
		c.t.Fatalf("got message type %d, want text", op)
	}
	var m gwMsg
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("message %q is not JSON: %v", b, err)
	}
	return m
}

// expect reads one message and checks its type.
func (c *gwClient) expect(typ string) gwMsg {
	c.t.Helper()
	m := c.read()
	if m.Type != typ {
		c.t.Fatalf("got %+v, want type %q", m, typ)
	}
	return m
}

// subscribe subscribes and waits for the acknowledgement, after which
// publishes reach the connection.
func (c *gwClient) subscribe(topics ...string) {
	c.t.Helper()
	c.send(map[string]any{"type": "subscribe", "topics": topics})
	c.expect("subscribed")
}

// expectData reads one published message and checks topic and data.
func (c *gwClient) expectData(topic, data string) {
	c.t.Helper()
	m := c.expect("message")
	if m.Topic != topic || string(m.Data) != data {
		c.t.Fatalf("got topic %q data %s, want topic %q data %s", m.Topic, m.Data, topic, data)
	}
}

// expectCloseCode reads until the connection closes and checks the code.
func (c *gwClient) expectCloseCode(code int) {
	c.t.Helper()
	for {
		_ = c.c.SetReadDeadline(time.Now().Add(ioTimeout))
		_, _, err := c.c.ReadMessage()
		if err == nil {
			continue
		}
		if !gorilla.IsCloseError(err, code) {
			c.t.Fatalf("got %v, want close %d", err, code)
		}
		return
	}
}

// publish publishes through the Go API and returns the delivered count.
func publish(t *testing.T, g *Gateway, data string, topics ...string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	n, err := g.Publish(ctx, topics, json.RawMessage(data))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return n
}

// apiCall makes one API request and decodes the JSON answer.
func apiCall(t *testing.T, g *Gateway, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, apiURL(t, g)+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	status, m, _ := apiDo(t, req)
	return status, m
}

// apiDo makes one prepared API request and decodes the JSON answer.
func apiDo(t *testing.T, req *http.Request) (int, map[string]any, http.Header) {
	t.Helper()
	method, path := req.Method, req.URL.Path
	cl := http.Client{Timeout: ioTimeout}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %q", method, path, ct, b)
	}
	var m map[string]any
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&m); err != nil {
		t.Fatalf("%s %s: body %q: %v", method, path, b, err)
	}
	return resp.StatusCode, m, resp.Header
}

// apiStatsOf fetches GET /stats.
func apiStatsOf(t *testing.T, g *Gateway) apiStats {
	t.Helper()
	resp, err := (&http.Client{Timeout: ioTimeout}).Get(apiURL(t, g) + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st apiStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitHub polls the hub's counters until cond holds.
func waitHub(t *testing.T, g *Gateway, what string, cond func(HubStats) bool) {
	t.Helper()
	waitFor(t, what, ioTimeout, func() bool { return cond(g.Stats()) })
}

// shardSizes runs on every loop and reports the sizes of its maps.
type shardSize struct {
	topics, topicsPeak, conns, connsPeak int
}

func shardSizes(t *testing.T, g *Gateway) []shardSize {
	t.Helper()
	out := make([]shardSize, len(g.shards))
	j := &job{done: make(chan struct{}), run: func(sh *shard) int {
		out[sh.idx] = shardSize{len(sh.topics), sh.topicsPeak, len(sh.conns), sh.connsPeak}
		return 0
	}}
	if err := g.dispatch(j); err != nil {
		t.Fatal(err)
	}
	select {
	case <-j.done:
	case <-time.After(ioTimeout):
		t.Fatal("loops did not answer")
	}
	return out
}

var testSecret = []byte("test-secret-0123456789abcdef")

// token signs claims with HS256 and testSecret.
func token(t *testing.T, cl Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, cl).SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// userClaims are claims for user valid for an hour.
func userClaims(user string) Claims {
	return Claims{RegisteredClaims: jwt.RegisteredClaims{
		Subject:   user,
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}}
}

func strs(s ...string) *[]string { return &s }
