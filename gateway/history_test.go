package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server"
)

// publisher publishes "0".."n-1" to topic on another goroutine and
// reports the first error on the returned channel, closed at the end.
func publisher(g *Gateway, topic string, n int) <-chan error {
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for i := range n {
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			_, err := g.Publish(ctx, []string{topic}, json.RawMessage(strconv.Itoa(i)))
			cancel()
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	return errs
}

// TestRecoverDuringBurst: a gorilla client that drops out in the middle
// of a burst of publishes and comes back with its cursor gets every
// message exactly once and in order, first from history, then live.
func TestRecoverDuringBurst(t *testing.T) {
	const n = 400
	for _, via := range []string{"message", "url"} {
		t.Run(via, func(t *testing.T) {
			srv, g := startHistoryGateway(t, server.Config{}, Config{}, history.Config{Size: n})
			c := dialGateway(t, srv, "", nil)
			c.subscribe("burst")
			errs := publisher(g, "burst", n)
			next := 0
			var last histMsg
			for next < n/4 { // drop out a quarter of the way through
				m := c.readHist()
				if m.Type != "message" || string(m.Data) != strconv.Itoa(next) {
					t.Fatalf("before the drop: got %+v, want message %d", m, next)
				}
				last, next = m, next+1
			}
			_ = c.c.Close()

			var c2 *gwClient
			if via == "url" {
				c2 = dialGateway(t, srv, "topics=burst&since.burst="+url.QueryEscape(fmt.Sprintf("%s/%d", last.Epoch, last.Offset)), nil)
			} else {
				c2 = dialGateway(t, srv, "", nil)
				c2.send(map[string]any{"type": "subscribe", "topic": "burst", "since": map[string]any{"offset": last.Offset, "epoch": last.Epoch}})
			}
			r := c2.readHist()
			if r.Type != "subscribed" || r.Recovered == nil || !*r.Recovered {
				t.Fatalf("resubscribe answer %+v, want recovered: true", r)
			}
			for next < n {
				m := c2.readHist()
				if m.Type != "message" || string(m.Data) != strconv.Itoa(next) {
					t.Fatalf("after the drop: got %+v, want message %d (duplicate or gap)", m, next)
				}
				if m.Offset <= last.Offset || m.Epoch != last.Epoch {
					t.Fatalf("offset %d epoch %q after %d %q", m.Offset, m.Epoch, last.Offset, last.Epoch)
				}
				last, next = m, next+1
			}
			if err := <-errs; err != nil {
				t.Fatalf("publish: %v", err)
			}
			// Nothing more: one extra publish is the very next message.
			publish(t, g, `"end"`, "burst")
			if m := c2.readHist(); string(m.Data) != `"end"` || m.Offset != last.Offset+1 {
				t.Fatalf("after the burst: %+v", m)
			}
		})
	}
}

// TestRecoverAfterEviction: a cursor the history no longer reaches says
// recovered: false, and the client goes on from the topic's position.
func TestRecoverAfterEviction(t *testing.T) {
	srv, g := startHistoryGateway(t, server.Config{}, Config{}, history.Config{Size: 5})
	c := dialGateway(t, srv, "", nil)
	c.subscribe("ev")
	publish(t, g, "0", "ev")
	first := c.readHist()
	for i := 1; i < 20; i++ {
		publish(t, g, strconv.Itoa(i), "ev")
	}
	cases := []struct {
		name  string
		since map[string]any
	}{
		{"evicted", map[string]any{"offset": first.Offset, "epoch": first.Epoch}},
		{"other epoch", map[string]any{"offset": first.Offset + 18, "epoch": "zzzz"}},
		{"from the future", map[string]any{"offset": first.Offset + 1000, "epoch": first.Epoch}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c2 := dialGateway(t, srv, "", nil)
			c2.send(map[string]any{"type": "subscribe", "topic": "ev", "since": tc.since})
			r := c2.readHist()
			if r.Type != "subscribed" || r.Recovered == nil || *r.Recovered {
				t.Fatalf("answer %+v, want recovered: false", r)
			}
			pos := r.Positions["ev"]
			if pos.Offset < first.Offset+19 || pos.Epoch != first.Epoch {
				t.Fatalf("position %+v, want the topic's current one", pos)
			}
			publish(t, g, `"next"`, "ev")
			if m := c2.readHist(); string(m.Data) != `"next"` || m.Offset != pos.Offset+1 {
				t.Fatalf("got %+v, want the next live message after %d", m, pos.Offset)
			}
		})
	}
}

// TestRecoverBadInput: malformed cursors are refused, never guessed.
func TestRecoverBadInput(t *testing.T) {
	srv, _ := startHistoryGateway(t, server.Config{}, Config{}, history.Config{})
	t.Run("subscribe", func(t *testing.T) {
		for _, since := range []any{
			"abc",
			map[string]any{"offset": 1, "epoch": "bad epoch"},
			map[string]any{"offset": -1, "epoch": "e"},
			map[string]any{"other": map[string]any{"offset": 1, "epoch": "e"}},
		} {
			c := dialGateway(t, srv, "", nil)
			c.send(map[string]any{"type": "subscribe", "topic": "a", "since": since})
			if m := c.readHist(); m.Type != "error" {
				t.Fatalf("since %v: got %+v, want an error", since, m)
			}
		}
	})
	t.Run("url", func(t *testing.T) {
		for _, q := range []string{
			"topics=a&since.a=nocursor",
			"topics=a&since.a=e/-1",
			"topics=a&since.a=e/99999999999999999999999",
			"topics=a&since.b=e/1",
			"topics=a&since.a=" + url.QueryEscape("e\r\nX: y/1"),
		} {
			if _, status, _ := tryDialGateway(t, srv, q, nil); status != 400 {
				t.Fatalf("%s: status %d, want 400", q, status)
			}
		}
	})
}

// TestHistoryAPI reads GET /history: pages, cursor, bounds and refusals.
func TestHistoryAPI(t *testing.T) {
	_, g := startHistoryGateway(t, server.Config{}, Config{APIKey: "k"}, history.Config{Size: 10})
	for i := range 12 {
		publish(t, g, strconv.Itoa(i), "h")
	}
	status, body := apiCall(t, g, "GET", "/history?topic=h", "k", "")
	pos, _ := body["position"].(map[string]any)
	if status != 200 || pos["offset"] != float64(12) {
		t.Fatalf("position: %d %v", status, body)
	}
	epoch, _ := pos["epoch"].(string)
	status, body = apiCall(t, g, "GET", "/history?topic=h&limit=3&since="+epoch+"/4", "k", "")
	msgs, _ := body["messages"].([]any)
	if status != 200 || len(msgs) != 3 || body["recovered"] != true || body["next"] != epoch+"/7" {
		t.Fatalf("page: %d %v", status, body)
	}
	if m, _ := msgs[0].(map[string]any); m["data"] != float64(4) || m["offset"] != float64(5) {
		t.Fatalf("first message %v", msgs[0])
	}
	status, body = apiCall(t, g, "GET", "/history?topic=h&since="+epoch+"/0", "k", "")
	if status != 200 || body["recovered"] != false {
		t.Fatalf("evicted: %d %v", status, body)
	}
	for _, tc := range []struct {
		name, path, key string
		status          int
	}{
		{"no key", "/history?topic=h", "", 401},
		{"no topic", "/history", "k", 400},
		{"bad topic", "/history?topic=a%20b", "k", 400},
		{"bad since", "/history?topic=h&since=x", "k", 400},
		{"bad limit", "/history?topic=h&limit=0", "k", 400},
		{"huge limit", "/history?topic=h&limit=100000", "k", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := apiCall(t, g, "GET", tc.path, tc.key, ""); status != tc.status {
				t.Fatalf("status %d %v, want %d", status, body, tc.status)
			}
		})
	}
	t.Run("history off", func(t *testing.T) {
		_, g := startGateway(t, server.Config{}, Config{})
		if status, _ := apiCall(t, g, "GET", "/history?topic=h", "", ""); status != 404 {
			t.Fatalf("status %d, want 404", status)
		}
	})
}

// TestSSE reads /sse with a raw HTTP client: events with their cursor as
// id, resume with Last-Event-ID, multi-topic ids, and refusals.
func TestSSE(t *testing.T) {
	srv, g := startHistoryGateway(t, server.Config{PingInterval: 200 * time.Millisecond}, Config{JWTSecret: testSecret},
		history.Config{})
	tok := token(t, userClaims("u"))
	c := dialSSE(t, srv, "/sse?topics=a&token="+tok)
	if ct := c.resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	waitHub(t, g, "SSE subscription", func(h HubStats) bool { return h.Subscriptions == 1 })
	for i := range 3 {
		publish(t, g, strconv.Itoa(i), "a")
	}
	var last sseEvent
	for i := range 3 {
		ev := c.next()
		m := ev.message(t)
		if string(m.Data) != strconv.Itoa(i) || ev.id != fmt.Sprintf("%s/%d", m.Epoch, m.Offset) {
			t.Fatalf("event %+v", ev)
		}
		last = ev
	}
	_ = c.conn.Close()
	waitHub(t, g, "SSE gone", func(h HubStats) bool { return h.Subscriptions == 0 })
	for i := 3; i < 6; i++ {
		publish(t, g, strconv.Itoa(i), "a")
	}
	c = dialSSE(t, srv, "/sse?topics=a&token="+tok, "Last-Event-ID: "+last.id)
	if ev := c.next(); ev.event != "recovery" || ev.data != `{"topic":"a","recovered":true}` {
		t.Fatalf("first event %+v, want recovery", ev)
	}
	for i := 3; i < 6; i++ {
		if m := c.next().message(t); string(m.Data) != strconv.Itoa(i) {
			t.Fatalf("resumed %+v, want %d", m, i)
		}
	}

	t.Run("several topics", func(t *testing.T) {
		c := dialSSE(t, srv, "/sse?topics=x,y&token="+tok)
		waitHub(t, g, "subscriptions", func(h HubStats) bool { return h.Subscriptions == 3 })
		publish(t, g, "1", "x")
		publish(t, g, "2", "y")
		c.next()
		ev := c.next()
		mx := ev.message(t)
		if ev.id == "" || ev.id[:2] != "x=" || mx.Topic != "y" {
			t.Fatalf("event %+v", ev)
		}
		publish(t, g, "3", "x")
		_ = c.conn.Close()
		c = dialSSE(t, srv, "/sse?topics=x,y&token="+tok, "Last-Event-ID: "+ev.id)
		if ev := c.next(); ev.data != `{"topic":"x","recovered":true}` {
			t.Fatalf("first event %+v", ev)
		}
		if m := c.next().message(t); string(m.Data) != "3" || m.Topic != "x" {
			t.Fatalf("resumed %+v", m)
		}
		if ev := c.next(); ev.data != `{"topic":"y","recovered":true}` {
			t.Fatalf("third event %+v", ev)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name, path string
			header     []string
			status     int
		}{
			{"no token", "/sse?topics=a", nil, 401},
			{"no topics", "/sse?token=" + tok, nil, 400},
			{"bad last-event-id", "/sse?topics=a&token=" + tok, []string{"Last-Event-ID: nope"}, 400},
			{"bare id for two topics", "/sse?topics=a,b&token=" + tok, []string{"Last-Event-ID: e/1"}, 400},
			{"id of another topic", "/sse?topics=a&token=" + tok, []string{"Last-Event-ID: b=e/1"}, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := dialSSE(t, srv, tc.path, tc.header...)
				if c.resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d", c.resp.StatusCode, tc.status)
				}
			})
		}
	})
}

// TestLongPoll polls with net/http: held until a message, at once when
// something is newer than the cursor, empty after PollTimeout, and
// recovered: false for a lost cursor.
func TestLongPoll(t *testing.T) {
	srv, g := startHistoryGateway(t, server.Config{}, Config{PollTimeout: 300 * time.Millisecond}, history.Config{Size: 3})

	held := make(chan pollAnswer, 1)
	go func() { _, a := poll(t, srv, "topics=p"); held <- a }()
	waitHub(t, g, "poll held", func(h HubStats) bool { return h.Subscriptions == 1 })
	publish(t, g, `"first"`, "p")
	a := <-held
	if len(a.Messages) != 1 || string(a.Messages[0].Data) != `"first"` || a.Next["p"] == "" {
		t.Fatalf("held answer %+v", a)
	}
	publish(t, g, `"second"`, "p")
	publish(t, g, `"third"`, "p")
	status, a := poll(t, srv, "topics=p&since.p="+url.QueryEscape(a.Next["p"]))
	if status != 200 || len(a.Messages) != 2 || string(a.Messages[1].Data) != `"third"` || a.Recovered == nil || !*a.Recovered {
		t.Fatalf("answer at once: %d %+v", status, a)
	}
	_, empty := poll(t, srv, "topics=p&since.p="+url.QueryEscape(a.Next["p"]))
	if len(empty.Messages) != 0 || empty.Next["p"] != a.Next["p"] {
		t.Fatalf("timeout answer %+v, want none and the same cursor", empty)
	}
	first := a.Messages[0]
	for i := range 5 {
		publish(t, g, strconv.Itoa(i), "p")
	}
	_, lost := poll(t, srv, fmt.Sprintf("topics=p&since.p=%s/%d", first.Epoch, first.Offset))
	if lost.Recovered == nil || *lost.Recovered || len(lost.Messages) != 0 {
		t.Fatalf("lost cursor: %+v, want recovered: false", lost)
	}
	for _, q := range []string{"", "topics=a%20b", "topics=p&since.p=x", "topics=p&since.q=e/1"} {
		if status, _ := poll(t, srv, q); status != 400 {
			t.Fatalf("%q: status %d, want 400", q, status)
		}
	}
}

// TestTransportsSameMessage: one publish reaches a WebSocket, an SSE and a
// long-poll subscriber with the same offset and epoch.
func TestTransportsSameMessage(t *testing.T) {
	srv, g := startHistoryGateway(t, server.Config{}, Config{}, history.Config{})
	ws := dialGateway(t, srv, "", nil)
	ws.subscribe("all")
	sse := dialSSE(t, srv, "/sse?topics=all")
	held := make(chan pollAnswer, 1)
	go func() { _, a := poll(t, srv, "topics=all"); held <- a }()
	waitHub(t, g, "three subscribers", func(h HubStats) bool { return h.Subscriptions == 3 })
	publish(t, g, `{"score":1}`, "all")
	w := ws.readHist()
	s := sse.next().message(t)
	p := <-held
	if len(p.Messages) != 1 {
		t.Fatalf("poll answer %+v", p)
	}
	for name, m := range map[string]histMsg{"sse": s, "poll": p.Messages[0]} {
		if string(m.Data) != string(w.Data) || m.Offset != w.Offset || m.Epoch != w.Epoch || m.Epoch == "" {
			t.Fatalf("%s got %+v, websocket %+v", name, m, w)
		}
	}
}

// TestStreamBounds: SSE and long-poll clients get the WebSocket's bounds:
// a stream that does not read is closed as slow past MaxOutbound, and
// too many topics are refused.
func TestStreamBounds(t *testing.T) {
	srv, g := startHistoryGateway(t, slowConfig(), Config{MaxTopicsPerConn: 2}, history.Config{})
	c := dialSSE(t, srv, "/sse?topics=flood")
	waitHub(t, g, "SSE subscription", func(h HubStats) bool { return h.Subscriptions == 1 })
	big := `"` + strings.Repeat("x", 16<<10) + `"`
	for i := 0; i < 64 && g.Stats().SlowClosed == 0; i++ {
		publish(t, g, big, "flood")
	}
	waitHub(t, g, "the unread stream closed as slow", func(h HubStats) bool { return h.SlowClosed == 1 && h.Subscriptions == 0 })
	_ = c.conn.Close()
	for _, path := range []string{"/sse?topics=a,b,c", "/poll?topics=a,b,c", "/sse?topics=a&since.a=" + strings.Repeat("e", 40) + "/1"} {
		if c := dialSSE(t, srv, path); c.resp.StatusCode != 400 {
			t.Fatalf("%s: status %d, want 400", path, c.resp.StatusCode)
		}
	}
}
