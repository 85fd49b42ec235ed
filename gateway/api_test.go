package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/myriadws/myriad/server"
)

// TestAPI checks the publish and admin API's answers, statuses and
// errors, with and without a key.
func TestAPI(t *testing.T) {
	const key = "sekrit-key-42"
	srv, g := startGateway(t, server.Config{}, Config{APIKey: key, APIMaxBody: 256})
	sub := dialGateway(t, srv, "topics=t", nil)
	cases := []struct {
		name      string
		method    string
		path      string
		key       string
		body      string
		status    int
		wantField string // a field the answer must have
		wantErr   string // part of the error message
	}{
		{name: "publish", method: "POST", path: "/publish", key: key, body: `{"topic":"t","data":{"a":1}}`, status: 200, wantField: "delivered"},
		{name: "publish to topics", method: "POST", path: "/publish", key: key, body: `{"topics":["t","u"],"data":2}`, status: 200, wantField: "delivered"},
		{name: "unknown topic", method: "POST", path: "/publish", key: key, body: `{"topic":"nobody","data":1}`, status: 200, wantField: "delivered"},
		{name: "bad json", method: "POST", path: "/publish", key: key, body: `{"topic":`, status: 400, wantErr: "invalid JSON"},
		{name: "missing topic", method: "POST", path: "/publish", key: key, body: `{"data":1}`, status: 400, wantErr: "no topic"},
		{name: "bad topic", method: "POST", path: "/publish", key: key, body: `{"topic":"a b","data":1}`, status: 400, wantErr: "topic"},
		{name: "missing data", method: "POST", path: "/publish", key: key, body: `{"topic":"t"}`, status: 400, wantErr: "data"},
		{name: "oversized body", method: "POST", path: "/publish", key: key, body: `{"topic":"t","data":"` + strings.Repeat("x", 300) + `"}`, status: 413, wantErr: "larger than 256"},
		{name: "missing key", method: "POST", path: "/publish", body: `{"topic":"t","data":1}`, status: 401, wantErr: "API key"},
		{name: "wrong key", method: "POST", path: "/publish", key: "nope-nope-nope", body: `{"topic":"t","data":1}`, status: 401, wantErr: "API key"},
		{name: "wrong method", method: "GET", path: "/publish", key: key, status: 405, wantErr: "POST"},
		{name: "unknown path", method: "GET", path: "/nope", key: key, status: 404, wantErr: "no such endpoint"},
		{name: "presence", method: "GET", path: "/presence?topic=t", key: key, status: 200, wantField: "users"},
		{name: "presence without topic", method: "GET", path: "/presence", key: key, status: 400, wantErr: "topic"},
		{name: "presence bad topic", method: "GET", path: "/presence?topic=a*", key: key, status: 400, wantErr: "topic"},
		{name: "presence wrong method", method: "POST", path: "/presence?topic=t", key: key, status: 405},
		{name: "stats", method: "GET", path: "/stats", key: key, status: 200, wantField: "hub"},
		{name: "stats without key", method: "GET", path: "/stats", status: 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := apiCall(t, g, tc.method, tc.path, tc.key, tc.body)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, body, tc.status)
			}
			if tc.wantField != "" {
				if _, ok := body[tc.wantField]; !ok {
					t.Fatalf("answer %v lacks %q", body, tc.wantField)
				}
			}
			if status >= 400 {
				msg, _ := body["error"].(string)
				if msg == "" || !strings.Contains(msg, tc.wantErr) {
					t.Fatalf("error %q, want it to mention %q", msg, tc.wantErr)
				}
			}
		})
	}
	// Exactly the two good publishes to t reached the subscriber.
	sub.expectData("t", `{"a":1}`)
	sub.expectData("t", `2`)
	st := g.Stats()
	if st.Publishes != 4 || st.Delivered != 2 {
		t.Fatalf("hub stats %+v, want 4 publishes, 2 delivered", st)
	}
}

// TestAPIDelivered checks the delivered count, including a topic nobody
// subscribed to.
func TestAPIDelivered(t *testing.T) {
	srv, g := startGateway(t, server.Config{Loops: 3}, Config{})
	for i := 0; i < 7; i++ {
		dialGateway(t, srv, "topics=t", nil)
	}
	waitHub(t, g, "subscriptions", func(s HubStats) bool { return s.Subscriptions == 7 })
	cases := []struct {
		name, body string
		delivered  float64
	}{
		{"seven", `{"topic":"t","data":null}`, 7},
		{"none", `{"topic":"empty","data":[]}`, 0},
		{"both", `{"topics":["t","empty"],"data":"x"}`, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := apiCall(t, g, "POST", "/publish", "", tc.body)
			if status != http.StatusOK || body["delivered"] != tc.delivered {
				t.Fatalf("%d %v, want delivered %v", status, body, tc.delivered)
			}
		})
	}
}

// TestAPIErrorsAreNotHTMLEscaped reads an error answer as bytes: the JSON
// says "Bearer <key>", not "Bearer \u003ckey\u003e".
func TestAPIErrorsAreNotHTMLEscaped(t *testing.T) {
	_, g := startGateway(t, server.Config{}, Config{APIKey: "sekrit-key-42"})
	resp, err := http.Post(apiURL(t, g)+"/publish", "application/json", strings.NewReader(`{"topic":"t","data":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "Bearer <key>") || strings.Contains(string(b), `\u003c`) {
		t.Fatalf("%d %q, want 401 saying Bearer <key> unescaped", resp.StatusCode, b)
	}
	if resp.ContentLength != int64(len(b)) {
		t.Fatalf("Content-Length %d, body %d bytes", resp.ContentLength, len(b))
	}
}
