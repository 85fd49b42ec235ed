package gateway

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/myriadws/myriad/server"
)

func presenceOf(t *testing.T, g *Gateway, topic string) Presence {
	t.Helper()
	p, err := g.Presence(context.Background(), topic)
	if err != nil {
		t.Fatalf("Presence: %v", err)
	}
	return p
}

// TestPresenceCountsAndUsers subscribes users over several loops (one of
// them twice) and checks counts and user lists as they come and go,
// through the Go API and GET /presence.
func TestPresenceCountsAndUsers(t *testing.T) {
	srv, g := startGateway(t, server.Config{Loops: 3}, Config{JWTSecret: testSecret})
	dial := func(user, topics string) *gwClient {
		return dialGateway(t, srv, "topics="+topics+"&token="+token(t, userClaims(user)), nil)
	}
	ann1 := dial("ann", "room")
	dial("ann", "room")
	bob := dial("bob", "room,hall")
	dial("", "room") // a token without sub: counted, not listed
	waitHub(t, g, "subscriptions", func(s HubStats) bool { return s.Subscriptions == 5 })

	cases := []struct {
		name  string
		topic string
		count int
		users []string
	}{
		{"room", "room", 4, []string{"ann", "bob"}},
		{"hall", "hall", 1, []string{"bob"}},
		{"unknown", "nobody-here", 0, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := presenceOf(t, g, tc.topic)
			if p.Topic != tc.topic || p.Count != tc.count || !slices.Equal(p.Users, tc.users) {
				t.Fatalf("presence %+v, want count %d users %v", p, tc.count, tc.users)
			}
			status, body := apiCall(t, g, "GET", "/presence?topic="+tc.topic, "", "")
			if status != http.StatusOK || body["count"].(float64) != float64(tc.count) || len(body["users"].([]any)) != len(tc.users) {
				t.Fatalf("GET /presence: %d %v", status, body)
			}
		})
	}

	// ann leaves on one connection: still listed through the other.
	ann1.send(map[string]any{"type": "unsubscribe", "topic": "room"})
	ann1.expect("unsubscribed")
	if p := presenceOf(t, g, "room"); p.Count != 3 || !slices.Equal(p.Users, []string{"ann", "bob"}) {
		t.Fatalf("after one of ann's leaves: %+v", p)
	}
	_ = bob.c.Close()
	waitFor(t, "bob gone", ioTimeout, func() bool {
		p := presenceOf(t, g, "room")
		return p.Count == 2 && slices.Equal(p.Users, []string{"ann"})
	})
	if p := presenceOf(t, g, "hall"); p.Count != 0 || len(p.Users) != 0 {
		t.Fatalf("hall after bob left: %+v", p)
	}
}

// TestPresenceUserLimit cuts the user list at MaxPresenceUsers.
func TestPresenceUserLimit(t *testing.T) {
	srv, g := startGateway(t, server.Config{Loops: 2}, Config{JWTSecret: testSecret, MaxPresenceUsers: 2})
	for _, u := range []string{"d", "c", "b", "a"} {
		dialGateway(t, srv, "topics=t&token="+token(t, userClaims(u)), nil)
	}
	waitHub(t, g, "subscriptions", func(s HubStats) bool { return s.Subscriptions == 4 })
	p := presenceOf(t, g, "t")
	if p.Count != 4 || !p.Truncated || !slices.Equal(p.Users, []string{"a", "b"}) {
		t.Fatalf("presence %+v, want count 4, users [a b], truncated", p)
	}
}

// TestPresenceEvents pushes join and leave events to a topic's
// subscribers when PresenceEvents is on, and none when it is off.
func TestPresenceEvents(t *testing.T) {
	cases := []struct {
		name string
		on   bool
	}{{"on", true}, {"off", false}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, g := startGateway(t, server.Config{Loops: 2}, Config{JWTSecret: testSecret, PresenceEvents: tc.on, PresenceInterval: 20 * time.Millisecond})
			watcher := dialGateway(t, srv, "token="+token(t, userClaims("w")), nil)
			watcher.subscribe("room")
			if tc.on {
				watcher.expect("join") // its own
			}
			ann := dialGateway(t, srv, "topics=room&token="+token(t, userClaims("ann")), nil)
			if tc.on {
				if m := watcher.expect("join"); m.Topic != "room" || m.User != "ann" {
					t.Fatalf("join %+v", m)
				}
			}
			_ = ann.c.Close()
			if tc.on {
				if m := watcher.expect("leave"); m.Topic != "room" || m.User != "ann" {
					t.Fatalf("leave %+v", m)
				}
			} else {
				waitHub(t, g, "ann gone", func(s HubStats) bool { return s.Subscriptions == 1 })
			}
			// Whatever came before, the next message is this one: no
			// event was left unread.
			publish(t, g, `"end"`, "room")
			watcher.expectData("room", `"end"`)
		})
	}
}
