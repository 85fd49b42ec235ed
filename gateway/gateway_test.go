package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"

	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// TestGatewayPublishAcrossLoops subscribes clients spread over four event
// loops, through messages and through the URL, and publishes through the
// Go API, the HTTP API and a client: every subscriber gets each message
// once, and nobody else gets it.
func TestGatewayPublishAcrossLoops(t *testing.T) {
	srv, g := startGateway(t, server.Config{Loops: 4}, Config{ClientPublish: true})
	const n = 24
	var subs []*gwClient
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			c := dialGateway(t, srv, "", nil)
			c.subscribe("news")
			subs = append(subs, c)
		} else {
			subs = append(subs, dialGateway(t, srv, "topics=news,other", nil))
		}
	}
	outsider := dialGateway(t, srv, "topics=other", nil)
	waitHub(t, g, "subscriptions", func(s HubStats) bool { return s.Subscriptions == n+n/2+1 })
	if used := loopsWithConns(srv); used < 2 {
		t.Fatalf("connections landed on %d loop(s), want several", used)
	}

	cases := []struct {
		name    string
		publish func(data string) int // returns delivered, or -1 when not reported
	}{
		{"go api", func(data string) int { return publish(t, g, data, "news") }},
		{"http api", func(data string) int {
			status, body := apiCall(t, g, "POST", "/publish", "", `{"topic":"news","data":`+data+`}`)
			if status != http.StatusOK {
				t.Fatalf("status %d %v", status, body)
			}
			return int(body["delivered"].(float64))
		}},
		{"client", func(data string) int {
			outsider.send(map[string]any{"type": "publish", "topic": "news", "data": json.RawMessage(data), "ref": 7})
			ack := outsider.expect("published")
			if string(ack.Ref) != "7" {
				t.Fatalf("ack ref %s, want 7", ack.Ref)
			}
			return -1
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := fmt.Sprintf(`{"n":%d,"text":"hello \"world\""}`, i)
			if got := tc.publish(data); got != -1 && got != n {
				t.Fatalf("delivered %d, want %d", got, n)
			}
			for _, c := range subs {
				c.expectData("news", data)
			}
		})
	}
	// The outsider got nothing but its acks: a message on its own topic
	// is the next thing it reads.
	publish(t, g, `"ping"`, "other")
	outsider.expectData("other", `"ping"`)
}

// loopsWithConns counts the loops that have served a connection.
func loopsWithConns(srv *server.Server) int {
	n := 0
	for _, l := range srv.Loops() {
		if !errors.Is(l.Post(func() {}), server.ErrUnbound) {
			n++
		}
	}
	return n
}

// TestGatewayMultiTopicPublish publishes one message to two topics: a
// subscriber of both gets it twice, once per topic.
func TestGatewayMultiTopicPublish(t *testing.T) {
	srv, g := startGateway(t, server.Config{}, Config{})
	both := dialGateway(t, srv, "topics=a,b", nil)
	onlyB := dialGateway(t, srv, "topics=b", nil)
	if got := publish(t, g, `[1,2]`, "a", "b", "a"); got != 3 {
		t.Fatalf("delivered %d, want 3", got)
	}
	got := map[string]bool{}
	for i := 0; i < 2; i++ {
		m := both.expect("message")
		got[m.Topic] = true
	}
	if !got["a"] || !got["b"] {
		t.Fatalf("subscriber of both got %v", got)
	}
	onlyB.expectData("b", `[1,2]`)
	if st := g.Stats(); st.Publishes != 2 || st.Delivered != 3 {
		t.Fatalf("stats %+v, want 2 publishes, 3 delivered", st)
	}
}

// TestGatewayUnsubscribe stops delivery on unsubscribe, and leaves the
// connection's other topics alone.
func TestGatewayUnsubscribe(t *testing.T) {
	srv, g := startGateway(t, server.Config{}, Config{})
	c := dialGateway(t, srv, "topics=a,b", nil)
	c.send(map[string]any{"type": "unsubscribe", "topic": "a", "ref": "u1"})
	if m := c.expect("unsubscribed"); string(m.Ref) != `"u1"` {
		t.Fatalf("ref %s", m.Ref)
	}
	if got := publish(t, g, `1`, "a"); got != 0 {
		t.Fatalf("delivered %d after unsubscribe, want 0", got)
	}
	if got := publish(t, g, `2`, "b"); got != 1 {
		t.Fatalf("delivered %d on the remaining topic, want 1", got)
	}
	c.expectData("b", `2`)
	if st := g.Stats(); st.Topics != 1 || st.Subscriptions != 1 {
		t.Fatalf("stats %+v, want 1 topic, 1 subscription", st)
	}
}

// TestGatewayCloseLeavesNothing closes subscribed connections, abruptly
// and with a close handshake, and checks through GET /stats that no
// subscription or topic remains.
func TestGatewayCloseLeavesNothing(t *testing.T) {
	srv, g := startGateway(t, server.Config{Loops: 2}, Config{})
	var clients []*gwClient
	for i := 0; i < 10; i++ {
		c := dialGateway(t, srv, "topics=t"+strconv.Itoa(i%3)+",common", nil)
		clients = append(clients, c)
	}
	// The counters move just after the 101 is written.
	waitFor(t, "subscriptions", ioTimeout, func() bool {
		st := apiStatsOf(t, g)
		return st.Hub.Subscriptions == 20 && st.Hub.Topics == 4 && st.Upgraded == 10
	})
	for i, c := range clients {
		if i%2 == 0 {
			_ = c.c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""))
		}
		_ = c.c.Close()
	}
	waitFor(t, "connections gone", ioTimeout, func() bool {
		st := apiStatsOf(t, g)
		return st.Upgraded == 0 && st.Hub.Subscriptions == 0 && st.Hub.Topics == 0
	})
	for i, s := range shardSizes(t, g) {
		if s.topics != 0 || s.conns != 0 {
			t.Fatalf("loop %d keeps %+v", i, s)
		}
	}
}

// TestGatewayAnonymousIdleCostsNothing checks that a /ws connection that
// subscribes to nothing, and any /echo connection, has no gateway state
// once idle.
func TestGatewayAnonymousIdleCostsNothing(t *testing.T) {
	srv, g := startGateway(t, server.Config{Loops: 1}, Config{})
	dialGateway(t, srv, "", nil)
	e := servertest.Dial(t, srv.Addr().String(), "/echo")
	e.Send(true, 1, []byte("x"))
	e.ExpectMessage(1, []byte("x"))
	c := dialGateway(t, srv, "topics=a", nil)
	c.send(map[string]any{"type": "unsubscribe", "topic": "a"})
	c.expect("unsubscribed")
	// A client that sent messages keeps its rate bucket until it has
	// refilled, and no longer.
	waitFor(t, "no state for idle connections", ioTimeout, func() bool {
		s := shardSizes(t, g)[0]
		return s.conns == 0 && s.topics == 0
	})
}

// TestGatewayClientErrors sends bad requests: each gets an error reply
// that carries the request's ref, and the connection stays usable.
func TestGatewayClientErrors(t *testing.T) {
	long := strings.Repeat("x", DefaultMaxTopicLen+1)
	many := make([]string, 5)
	for i := range many {
		many[i] = "m" + strconv.Itoa(i)
	}
	cases := []struct {
		name    string
		raw     string // sent as is
		binary  bool
		msg     any
		wantErr string
		wantRef string
	}{
		{name: "not json", raw: "hello", wantErr: "invalid JSON"},
		{name: "binary", raw: "{}", binary: true, wantErr: "binary"},
		{name: "no type", msg: map[string]any{"topic": "a", "ref": 1}, wantErr: "missing \"type\"", wantRef: "1"},
		{name: "unknown type", msg: map[string]any{"type": "dance", "ref": "r"}, wantErr: "unknown type", wantRef: `"r"`},
		{name: "no topic", msg: map[string]any{"type": "subscribe", "ref": 2}, wantErr: "no topic", wantRef: "2"},
		{name: "bad charset", msg: map[string]any{"type": "subscribe", "topic": "a b", "ref": 3}, wantErr: "only letters", wantRef: "3"},
		{name: "wildcard is not a topic", msg: map[string]any{"type": "subscribe", "topic": "a*"}, wantErr: "only letters"},
		{name: "too long", msg: map[string]any{"type": "subscribe", "topic": long}, wantErr: "longer than"},
		{name: "too many topics", msg: map[string]any{"type": "subscribe", "topics": many}, wantErr: "at most 4 topics"},
		{name: "publish not allowed", msg: map[string]any{"type": "publish", "topic": "a", "data": 1, "ref": 4}, wantErr: `not allowed to publish to "a": clients without a token may publish only when the server runs with --client-publish; or connect with a token whose pub_topics claim allows`, wantRef: "4"},
		{name: "oversized", raw: `{"type":"ping","pad":"` + strings.Repeat("p", 600) + `"}`, wantErr: "larger than 512 bytes"},
	}
	srv, g := startGateway(t, server.Config{}, Config{MaxTopicsPerConn: 4, MaxClientMessage: 512, MaxClientErrors: 100})
	c := dialGateway(t, srv, "", nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			switch {
			case tc.binary:
				c.sendRaw(gorilla.BinaryMessage, []byte(tc.raw))
			case tc.raw != "":
				c.sendRaw(gorilla.TextMessage, []byte(tc.raw))
			default:
				c.send(tc.msg)
			}
			m := c.expect("error")
			if !strings.Contains(m.Error, tc.wantErr) {
				t.Fatalf("error %q, want it to mention %q", m.Error, tc.wantErr)
			}
			if string(m.Ref) != tc.wantRef {
				t.Fatalf("ref %s, want %s", m.Ref, tc.wantRef)
			}
		})
	}
	c.send(map[string]any{"type": "ping", "ref": 9})
	if m := c.expect("pong"); string(m.Ref) != "9" {
		t.Fatalf("pong ref %s", m.Ref)
	}
	if st := g.Stats(); st.ClientErrors != uint64(len(cases)) {
		t.Fatalf("client_errors %d, want %d", st.ClientErrors, len(cases))
	}
}

// TestGatewayTopicLimit refuses a subscription past MaxTopicsPerConn as a
// whole, and counts topics already held only once.
func TestGatewayTopicLimit(t *testing.T) {
	srv, g := startGateway(t, server.Config{}, Config{MaxTopicsPerConn: 3})
	c := dialGateway(t, srv, "topics=a,b", nil)
	c.subscribe("a", "b", "c") // a and b again: one new
	c.send(map[string]any{"type": "subscribe", "topics": []string{"d"}})
	if m := c.expect("error"); !strings.Contains(m.Error, "at most 3 topics per connection") {
		t.Fatalf("error %q", m.Error)
	}
	if st := g.Stats(); st.Subscriptions != 3 {
		t.Fatalf("subscriptions %d, want 3", st.Subscriptions)
	}
}

// TestGatewayAbuseCloses closes a connection that keeps sending junk with
// 1008 after MaxClientErrors error replies within the window, even when
// each bad request is followed by a good one.
func TestGatewayAbuseCloses(t *testing.T) {
	srv, g := startGateway(t, server.Config{}, Config{MaxClientErrors: 3})
	c := dialGateway(t, srv, "", nil)
	for i := 0; i < 2; i++ {
		c.sendRaw(gorilla.TextMessage, []byte("junk"))
		c.expect("error")
		c.send(map[string]any{"type": "ping"})
		c.expect("pong")
	}
	c.sendRaw(gorilla.TextMessage, []byte("junk"))
	c.expect("error")
	c.expectCloseCode(gorilla.ClosePolicyViolation)
	waitFor(t, "session gone", ioTimeout, func() bool { return srv.Stats().Upgraded == 0 })
	if s := shardSizes(t, g); s[0].conns+s[1].conns != 0 {
		t.Fatalf("sessions left: %+v", s)
	}
}

// TestGatewayURLTopicsRefused answers bad ?topics= with 400.
func TestGatewayURLTopicsRefused(t *testing.T) {
	srv, _ := startGateway(t, server.Config{}, Config{MaxTopicsPerConn: 2})
	cases := []struct {
		name, query string
		status      int
	}{
		{"bad charset", "topics=a%20b", http.StatusBadRequest},
		{"too long", "topics=" + strings.Repeat("x", DefaultMaxTopicLen+1), http.StatusBadRequest},
		{"too many", "topics=a,b,c", http.StatusBadRequest},
		{"malformed query", "topics=%zz", http.StatusBadRequest},
		{"fine", "topics=a,,b", http.StatusSwitchingProtocols},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, status, _ := tryDialGateway(t, srv, tc.query, nil)
			if status != tc.status {
				t.Fatalf("status %d, want %d", status, tc.status)
			}
		})
	}
}
