package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/myriadws/myriad/server"
)

// topicList returns a JSON array of n topic names with prefix.
func topicList(prefix string, n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%q", fmt.Sprintf("%s%d", prefix, i))
	}
	return "[" + strings.Join(names, ",") + "]"
}

// TestPublishAmplification checks that a publish costs frames only for
// topics with subscribers, that the topic list is capped, and that the
// bytes built are accounted: a 2,000-topic POST under the body limit once
// built a full frame per topic (1.9 GiB).
func TestPublishAmplification(t *testing.T) {
	srv, g := startGateway(t, server.Config{}, Config{})
	sub := dialGateway(t, srv, "topics=live", nil)
	data := `"` + strings.Repeat("x", 1000) + `"`
	cases := []struct {
		name      string
		body      string
		status    int
		wantErr   string
		delivered float64
		frames    uint64 // frames built by this publish
	}{
		{name: "2000 topics", body: `{"topics":` + topicList("t", 2000) + `,"data":` + data + `}`, status: 400, wantErr: "2000 topics in one publish; at most 16"},
		{name: "17 topics", body: `{"topics":` + topicList("t", 17) + `,"data":1}`, status: 400, wantErr: "at most 16"},
		{name: "16 empty topics", body: `{"topics":` + topicList("empty", 16) + `,"data":` + data + `}`, status: 200},
		{name: "one live among empty", body: `{"topics":["live","e1","e2","e3","live"],"data":` + data + `}`, status: 200, delivered: 1, frames: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := g.Stats()
			status, body := apiCall(t, g, "POST", "/publish", "", tc.body)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, body, tc.status)
			}
			if msg, _ := body["error"].(string); tc.wantErr != "" && !strings.Contains(msg, tc.wantErr) {
				t.Fatalf("error %q, want %q", msg, tc.wantErr)
			}
			if status == 200 && body["delivered"] != tc.delivered {
				t.Fatalf("delivered %v, want %v", body["delivered"], tc.delivered)
			}
			after := g.Stats()
			if got := after.Encoded - before.Encoded; got != tc.frames {
				t.Fatalf("built %d frames, want %d", got, tc.frames)
			}
			wantBytes := uint64(0)
			if tc.frames > 0 {
				m := sub.expect("message")
				wantBytes = tc.frames * uint64(len(`{"type":"message","topic":"live","data":}`)+len(m.Data))
			}
			if got := after.EncodedBytes - before.EncodedBytes; got != wantBytes {
				t.Fatalf("accounted %d bytes, want %d", got, wantBytes)
			}
		})
	}
	publish(t, g, `"end"`, "live")
	sub.expectData("live", `"end"`)
}

// TestPublishInvalidUTF8 refuses data that is not UTF-8, which a browser
// would close on in a text frame, disconnecting every subscriber.
func TestPublishInvalidUTF8(t *testing.T) {
	srv, g := startGateway(t, server.Config{}, Config{ClientPublish: true})
	sub := dialGateway(t, srv, "topics=t", nil)
	cases := []struct {
		name string
		body string
	}{
		{"in a string", "{\"topic\":\"t\",\"data\":\"a\xffb\"}"},
		{"truncated sequence", "{\"topic\":\"t\",\"data\":[\"\xe2\x82\"]}"},
		{"surrogate", "{\"topic\":\"t\",\"data\":\"\xed\xa0\x80\"}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := apiCall(t, g, "POST", "/publish", "", tc.body)
			if msg, _ := body["error"].(string); status != 400 || !strings.Contains(msg, "UTF-8") {
				t.Fatalf("status %d %v, want 400 about UTF-8", status, body)
			}
		})
	}
	// A binary frame carrying the same bytes gets an error reply.
	pub := dialGateway(t, srv, "", nil)
	pub.sendRaw(2, []byte("{\"type\":\"publish\",\"topic\":\"t\",\"data\":\"\xff\"}"))
	if m := pub.expect("error"); !strings.Contains(m.Error, "binary") {
		t.Fatalf("error %q", m.Error)
	}
	publish(t, g, `"end"`, "t")
	sub.expectData("t", `"end"`)
}

// TestAPIBrowserGuards checks that a web page cannot drive the API: JSON
// only, Host names checked against DNS rebinding, no CORS unless
// configured, and the key checked before the path.
func TestAPIBrowserGuards(t *testing.T) {
	const key = "guard-key-1234"
	_, g := startGateway(t, server.Config{}, Config{APIKey: key, APICORSOrigins: []string{"https://app.example"}})
	_, open := startGateway(t, server.Config{}, Config{APIAllowedHosts: []string{"api.example"}})
	cases := []struct {
		name    string
		open    bool // ask the gateway without a key
		method  string
		path    string
		host    string
		origin  string
		ctype   string
		key     string
		status  int
		wantErr string
		acao    string
	}{
		{name: "json", method: "POST", path: "/publish", ctype: "application/json", key: key, status: 200},
		{name: "json with charset", method: "POST", path: "/publish", ctype: "application/json; charset=utf-8", key: key, status: 200},
		{name: "text/plain", method: "POST", path: "/publish", ctype: "text/plain", key: key, status: 415, wantErr: "application/json"},
		{name: "form", method: "POST", path: "/publish", ctype: "application/x-www-form-urlencoded", key: key, status: 415},
		{name: "no content type", method: "POST", path: "/publish", key: key, status: 415},
		{name: "rebinding host", open: true, method: "GET", path: "/stats", host: "evil.example:8081", status: 421, wantErr: "Host"},
		{name: "rebinding host trailing dot", open: true, method: "GET", path: "/stats", host: "evil.example.", status: 421},
		{name: "localhost", open: true, method: "GET", path: "/stats", host: "localhost:8081", status: 200},
		{name: "ipv6 literal", open: true, method: "GET", path: "/stats", host: "[::1]:8081", status: 200},
		{name: "listed host", open: true, method: "GET", path: "/stats", host: "API.example", status: 200},
		{name: "any host with a key", method: "GET", path: "/stats", host: "myriad-api.svc:8081", key: key, status: 200},
		{name: "no CORS by default", open: true, method: "GET", path: "/stats", origin: "http://localhost:3000", status: 403},
		{name: "foreign origin", method: "GET", path: "/stats", origin: "https://evil.example", key: key, status: 403, wantErr: "Origin"},
		{name: "allowed origin", method: "GET", path: "/stats", origin: "https://app.example", key: key, status: 200, acao: "https://app.example"},
		{name: "unknown path without key", method: "GET", path: "/admin", status: 401},
		{name: "unknown path with key", method: "GET", path: "/admin", key: key, status: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := g
			if tc.open {
				gw = open
			}
			req, err := http.NewRequest(tc.method, apiURL(t, gw)+tc.path, strings.NewReader(`{"topic":"t","data":1}`))
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			status, body, hdr := apiDo(t, req)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, body, tc.status)
			}
			if msg, _ := body["error"].(string); tc.wantErr != "" && !strings.Contains(msg, tc.wantErr) {
				t.Fatalf("error %q, want %q", msg, tc.wantErr)
			}
			if got := hdr.Get("Access-Control-Allow-Origin"); got != tc.acao {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tc.acao)
			}
		})
	}
	t.Run("preflight", func(t *testing.T) {
		req, _ := http.NewRequest("OPTIONS", apiURL(t, g)+"/publish", nil)
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := (&http.Client{Timeout: ioTimeout}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
			t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
		}
	})
}

// TestPublishIdempotency checks that a retried publish with the same id
// is published once and answered with the first answer, from the API
// and from clients alike.
func TestPublishIdempotency(t *testing.T) {
	srv, g := startGateway(t, server.Config{}, Config{ClientPublish: true})
	sub := dialGateway(t, srv, "topics=t", nil)
	body := `{"id":"req-1","topic":"t","data":"once"}`
	for i := range 3 {
		status, ans := apiCall(t, g, "POST", "/publish", "", body)
		if status != 200 || ans["delivered"] != 1.0 || (i > 0) != (ans["duplicate"] == true) {
			t.Fatalf("try %d: %d %v", i, status, ans)
		}
	}
	// A client reusing the id publishes nothing either.
	pub := dialGateway(t, srv, "", nil)
	pub.send(map[string]any{"type": "publish", "id": "req-1", "topic": "t", "data": "again", "ref": 7})
	if m := pub.expect("published"); !m.Duplicate {
		t.Fatalf("client publish with a used id: %+v", m)
	}
	// A publish refused for its input is forgotten: its corrected retry
	// goes out.
	if status, ans := apiCall(t, g, "POST", "/publish", "", `{"id":"req-2","topic":"t"}`); status != 400 {
		t.Fatalf("bad publish: %d %v", status, ans)
	}
	if status, ans := apiCall(t, g, "POST", "/publish", "", `{"id":"req-2","topic":"t","data":"fixed"}`); status != 200 || ans["duplicate"] != nil {
		t.Fatalf("fixed publish: %d %v", status, ans)
	}
	sub.expectData("t", `"once"`)
	sub.expectData("t", `"fixed"`)
	publish(t, g, `"end"`, "t")
	sub.expectData("t", `"end"`)
	if d := g.Stats().Duplicates; d != 3 {
		t.Fatalf("duplicates %d, want 3", d)
	}
}

// TestDrainWritesDelivered checks that a message answered as delivered
// reaches a subscriber that reads late, when a drain begins right after:
// the close frame is queued behind it, and the subscriber sees the message
// and then 1001.
func TestDrainWritesDelivered(t *testing.T) {
	cfg := slowConfig()
	cfg.MaxOutbound = 4 << 20
	cfg.DrainTimeout = time.Second
	cfg.CloseTimeout = time.Second
	srv, g := startGateway(t, cfg, Config{})
	sub := dialGateway(t, srv, "topics=t", nil)
	big := `"` + strings.Repeat("y", 512<<10) + `"` // far more than the socket buffers
	if n := publish(t, g, big, "t"); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
	drained := make(chan server.DrainReport, 1)
	go func() {
		rep, _ := srv.Drain(context.Background())
		drained <- rep
	}()
	m := sub.expect("message")
	if len(m.Data) != len(big) {
		t.Fatalf("got %d bytes of data, want %d", len(m.Data), len(big))
	}
	sub.expectCloseCode(1001)
	if rep := <-drained; rep.Left != 0 || rep.TimedOut {
		t.Fatalf("drain left %d connections (timed out: %v), want every close answered", rep.Left, rep.TimedOut)
	}
}
