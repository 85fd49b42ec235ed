package gateway

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/myriadws/myriad/server"
)

// TestClientRateLimit closes a client that sends past its rate with 1008,
// and keeps no state for a quiet anonymous client.
func TestClientRateLimit(t *testing.T) {
	srv, g := startGateway(t, server.Config{Loops: 1}, Config{ClientRate: 0.01, ClientBurst: 5})
	flood := dialGateway(t, srv, "", nil)
	for range 20 {
		flood.send(map[string]any{"type": "ping"})
	}
	for range 5 {
		flood.expect("pong")
	}
	flood.expectCloseCode(1008)
	waitHub(t, g, "rate limit counted", func(s HubStats) bool { return s.RateLimited == 1 })
	waitFor(t, "the flooder's session gone", ioTimeout, func() bool { return shardSizes(t, g)[0].conns == 0 })

	// A client that sent a few messages and went quiet costs nothing once
	// its bucket has refilled.
	srv2, g2 := startGateway(t, server.Config{Loops: 1}, Config{ClientRate: 1000, ClientBurst: 5})
	quiet := dialGateway(t, srv2, "", nil)
	for range 3 {
		quiet.send(map[string]any{"type": "ping"})
		quiet.expect("pong")
	}
	waitFor(t, "the quiet client's session released", ioTimeout, func() bool { return shardSizes(t, g2)[0].conns == 0 })
}

// TestPresenceCoalesced checks that a client flapping a subscription
// costs the topic's subscribers at most one event per user and interval,
// not two per flap, and that big topics get none (counted).
func TestPresenceCoalesced(t *testing.T) {
	srv, _ := startGateway(t, server.Config{Loops: 1}, Config{JWTSecret: testSecret, PresenceEvents: true, PresenceInterval: 200 * time.Millisecond, ClientRate: -1})
	watcher := dialGateway(t, srv, "topics=room&token="+token(t, userClaims("w")), nil)
	if m := watcher.expect("join"); m.User != "w" {
		t.Fatalf("first event %+v", m)
	}
	const flaps = 50
	flapper := dialGateway(t, srv, "token="+token(t, userClaims("f")), nil)
	for range flaps {
		flapper.subscribe("room")
		flapper.send(map[string]any{"type": "unsubscribe", "topic": "room"})
		flapper.expect("unsubscribed")
	}
	dialGateway(t, srv, "topics=room&token="+token(t, userClaims("marker")), nil)
	events := 0
	for {
		m := watcher.read()
		if m.User == "marker" {
			break
		}
		if m.User != "f" || (m.Type != "join" && m.Type != "leave") {
			t.Fatalf("unexpected %+v", m)
		}
		events++
	}
	// Uncoalesced, the watcher saw 2*flaps events; coalesced, a join and
	// a leave at most per interval the flapping spanned.
	if events >= 2*flaps {
		t.Fatalf("%d events for %d flaps: not coalesced", events, flaps)
	}
	t.Logf("%d presence events for %d flaps", events, flaps)
}

// TestPresenceSkippedForBigTopics sends no presence events to topics with
// more subscribers than PresenceMaxSubscribers, and counts them.
func TestPresenceSkippedForBigTopics(t *testing.T) {
	srv, g := startGateway(t, server.Config{Loops: 1}, Config{PresenceEvents: true, PresenceInterval: 10 * time.Millisecond, PresenceMaxSubscribers: 2})
	subs := make([]*gwClient, 3)
	for i := range subs {
		subs[i] = dialGateway(t, srv, "topics=big", nil)
	}
	waitHub(t, g, "presence dropped", func(s HubStats) bool { return s.PresenceDropped > 0 })
	publish(t, g, `"end"`, "big")
	for i, c := range subs {
		// Only events from before the topic grew past the bound may come.
		for {
			m := c.read()
			if m.Type == "message" {
				break
			}
			if m.Type != "join" {
				t.Fatalf("sub %d: %+v", i, m)
			}
		}
	}
}

// TestPresencePages lists a truncated presence sorted and stable, with a
// cursor to the next page.
func TestPresencePages(t *testing.T) {
	srv, g := startGateway(t, server.Config{Loops: 2}, Config{JWTSecret: testSecret, MaxPresenceUsers: 2})
	users := []string{"u5", "u1", "u4", "u2", "u3"}
	for _, u := range users {
		dialGateway(t, srv, "topics=room&token="+token(t, userClaims(u)), nil)
	}
	waitHub(t, g, "subscribed", func(s HubStats) bool { return s.Subscriptions == int64(len(users)) })
	var got []string
	after := ""
	for page := 0; ; page++ {
		p1 := presencePage(t, g, "room", after)
		p2 := presencePage(t, g, "room", after)
		if !slices.Equal(p1.Users, p2.Users) || p1.Next != p2.Next {
			t.Fatalf("page %d not stable: %v then %v", page, p1, p2)
		}
		if p1.Count != len(users) || len(p1.Users) > 2 {
			t.Fatalf("page %d: %+v", page, p1)
		}
		got = append(got, p1.Users...)
		if !p1.Truncated {
			break
		}
		after = p1.Next
	}
	if want := []string{"u1", "u2", "u3", "u4", "u5"}; !slices.Equal(got, want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}
}

// presencePage fetches one page of GET /presence.
func presencePage(t *testing.T, g *Gateway, topic, after string) Presence {
	t.Helper()
	status, body := apiCall(t, g, "GET", fmt.Sprintf("/presence?topic=%s&after=%s", topic, after), "", "")
	if status != 200 {
		t.Fatalf("presence: %d %v", status, body)
	}
	p := Presence{Count: int(body["count"].(float64)), Next: fmt.Sprint(body["next"])}
	if body["next"] == nil {
		p.Next = ""
	}
	p.Truncated, _ = body["truncated"].(bool)
	for _, u := range body["users"].([]any) {
		p.Users = append(p.Users, u.(string))
	}
	return p
}
