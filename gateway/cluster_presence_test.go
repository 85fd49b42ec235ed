package gateway

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/server/servertest"
)

// presenceCluster is the configuration of the cluster presence tests:
// events on, short intervals, and a node timeout long enough that no
// live node is ever taken for dead on a loaded host.
func presenceCluster() (Config, ClusterConfig) {
	return Config{JWTSecret: testSecret, PresenceEvents: true, PresenceInterval: 20 * time.Millisecond},
		ClusterConfig{PresenceHeartbeat: 50 * time.Millisecond, PresenceTimeout: 3 * time.Second}
}

// startPresenceCluster starts a broker and n nodes with cfg and ccfg.
func startPresenceCluster(t *testing.T, n int, cfg Config, ccfg ClusterConfig) (*broker.Server, []*node) {
	t.Helper()
	bs := startBroker(t, 0)
	ccfg.Nodes = n
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = startNodeWith(t, bs.URL(), cfg, broker.Config{}, ccfg)
	}
	waitSynced(t, nodes)
	return bs, nodes
}

// waitSynced waits until every node has every other node's presence:
// from then on each user's arrival anywhere is told everywhere. (Users
// a node learns from another's first snapshot while it starts are taken
// to have been there before, and are not told.)
func waitSynced(t *testing.T, nodes []*node) {
	t.Helper()
	servertest.Eventually(t, func() bool {
		for _, n := range nodes {
			ps := n.g.presence
			ps.mu.Lock()
			ok := true
			for _, o := range nodes {
				if p := ps.nodes[o.bc.NodeID()]; p == nil || !p.synced {
					ok = false
				}
			}
			ps.mu.Unlock()
			if !ok {
				return false
			}
		}
		return true
	}, "every node to have every other's presence")
}

// watch connects a subscriber of topic without a user id to n: it is
// told about users and counts only as an anonymous connection itself,
// whose events nextUserEvent skips.
func watch(t *testing.T, n *node, topic string) *gwClient {
	t.Helper()
	anon := Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}}
	c := dialGateway(t, n.srv, "topics="+topic+"&token="+token(t, anon), nil)
	c.send(map[string]any{"type": "ping"})
	c.expect("pong")
	return c
}

// join connects user to n subscribed to topic and waits until the
// subscription is in.
func join(t *testing.T, n *node, user, topic string) *gwClient {
	t.Helper()
	c := dialGateway(t, n.srv, "topics="+topic+"&token="+token(t, userClaims(user)), nil)
	c.send(map[string]any{"type": "ping"})
	for c.read().Type != "pong" { // its own events may come first
	}
	return c
}

// nextUserEvent reads up to the next join or leave of a user, skipping
// anonymous connections' events; anything else fails the test.
func (c *gwClient) nextUserEvent() gwMsg {
	c.t.Helper()
	for {
		m := c.read()
		if (m.Type == "join" || m.Type == "leave") && m.User == "" {
			continue
		}
		if m.Type != "join" && m.Type != "leave" {
			c.t.Fatalf("got %+v, want a join or a leave", m)
		}
		return m
	}
}

// expectUserEvent fails unless the next user event is kind of user.
func (c *gwClient) expectUserEvent(kind, user string) {
	c.t.Helper()
	if m := c.nextUserEvent(); m.Type != kind || m.User != user {
		c.t.Fatalf("got %s of %q on %q, want %s of %q", m.Type, m.User, m.Topic, kind, user)
	}
}

// waitHolding waits until every node knows user on topic to be held by
// want nodes.
func waitHolding(t *testing.T, nodes []*node, topic, user string, want int) {
	t.Helper()
	servertest.Eventually(t, func() bool {
		for _, n := range nodes {
			if n.g.presence.holding(topic, user) != want {
				return false
			}
		}
		return true
	}, fmt.Sprintf("every node to know %s on %s held by %d nodes", user, topic, want))
}

// TestClusterPresenceOncePerUser connects one user to a topic on two
// nodes, one after the other, and leaves the same way: every subscriber
// on every node is told one join, when the first connection anywhere
// came, and one leave, when the last one went; nothing for the
// connections in between.
func TestClusterPresenceOncePerUser(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes int
	}{{"two nodes", 2}, {"three nodes", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ccfg := presenceCluster()
			_, nodes := startPresenceCluster(t, tc.nodes, cfg, ccfg)
			var watchers []*gwClient
			for _, n := range nodes {
				watchers = append(watchers, watch(t, n, "room"))
			}
			first := join(t, nodes[0], "ann", "room")
			for _, w := range watchers {
				w.expectUserEvent("join", "ann")
			}
			second := join(t, nodes[1], "ann", "room")
			waitHolding(t, nodes, "room", "ann", 2)
			_ = first.c.Close()
			waitHolding(t, nodes, "room", "ann", 1)
			_ = second.c.Close()
			for _, w := range watchers {
				w.expectUserEvent("leave", "ann")
			}
			// The next user event anywhere is bob's: ann's second
			// connection and first leave were told to nobody.
			join(t, nodes[tc.nodes-1], "bob", "room")
			for _, w := range watchers {
				w.expectUserEvent("join", "bob")
			}
		})
	}
}

// TestClusterPresenceNodeKilled closes a node's broker link without a
// word, as a crash would: the other nodes stop hearing its heartbeat,
// and once PresenceTimeout has passed its users leave (and only its).
func TestClusterPresenceNodeKilled(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes int
	}{{"two nodes", 2}, {"three nodes", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ccfg := presenceCluster()
			ccfg.PresenceTimeout = 500 * time.Millisecond
			_, nodes := startPresenceCluster(t, tc.nodes, cfg, ccfg)
			w := watch(t, nodes[0], "room")
			join(t, nodes[0], "carol", "room")
			w.expectUserEvent("join", "carol")
			join(t, nodes[1], "ann", "room")
			w.expectUserEvent("join", "ann")
			join(t, nodes[1], "carol", "room") // carol on the dying node too
			waitHolding(t, nodes, "room", "carol", 2)

			_ = nodes[1].bc.Close() // no goodbye
			w.expectUserEvent("leave", "ann")
			waitHolding(t, []*node{nodes[0]}, "room", "carol", 1)
			if ls, _ := nodes[0].g.LinkStats(); ls.PresenceExpired != 1 || ls.PresenceNodes != tc.nodes-1 {
				t.Fatalf("link stats %+v, want 1 node expired and %d left", ls, tc.nodes-1)
			}
			// carol is still there through node 0: no leave for her.
			join(t, nodes[0], "dave", "room")
			w.expectUserEvent("join", "dave")
		})
	}
}

// TestClusterPresenceLateNode starts a node after users are present: it
// learns them from the others' snapshots without telling its subscribers
// they joined (they were there first), and then tells of their leaves;
// the older node learns of the new node's users.
func TestClusterPresenceLateNode(t *testing.T) {
	cfg, ccfg := presenceCluster()
	bs, nodes := startPresenceCluster(t, 1, cfg, ccfg)
	old := watch(t, nodes[0], "room")
	ann := join(t, nodes[0], "ann", "room")
	old.expectUserEvent("join", "ann")
	join(t, nodes[0], "bob", "room")
	old.expectUserEvent("join", "bob")

	ccfg.Nodes = 2
	late := startNodeWith(t, bs.URL(), cfg, broker.Config{}, ccfg)
	lw := watch(t, late, "room")
	all := []*node{nodes[0], late}
	waitSynced(t, all)
	waitHolding(t, all, "room", "ann", 1)
	waitHolding(t, all, "room", "bob", 1)

	_ = ann.c.Close()
	lw.expectUserEvent("leave", "ann") // the first user event there
	old.expectUserEvent("leave", "ann")
	join(t, late, "carol", "room")
	old.expectUserEvent("join", "carol")
	lw.expectUserEvent("join", "carol")

	status, body := apiCall(t, late.g, http.MethodGet, "/presence?topic=room", "", "")
	if status != http.StatusOK || fmt.Sprint(body["users"]) != "[bob carol]" {
		t.Fatalf("/presence on the late node: %d %v", status, body)
	}
}

// TestClusterPresenceFlapping has one user flap a subscription on two
// nodes at once: the subscribers are told at most one change per
// interval (never two per flap), in a consistent order (a join, then a
// leave, and so on), and a client flapping past its rate is closed.
func TestClusterPresenceFlapping(t *testing.T) {
	cfg, ccfg := presenceCluster()
	cfg.PresenceInterval = 200 * time.Millisecond
	_, nodes := startPresenceCluster(t, 3, cfg, ccfg)
	w := watch(t, nodes[2], "room")
	const flaps = 40 // 80 messages per client: under the default burst of 100
	fs := []*gwClient{
		dialGateway(t, nodes[0].srv, "token="+token(t, userClaims("mal")), nil),
		dialGateway(t, nodes[1].srv, "token="+token(t, userClaims("mal")), nil),
	}
	for range flaps {
		for _, f := range fs {
			f.send(map[string]any{"type": "subscribe", "topic": "room"})
		}
		for _, f := range fs {
			f.send(map[string]any{"type": "unsubscribe", "topic": "room"})
		}
	}
	for _, f := range fs {
		for n := 0; n < flaps; {
			if f.read().Type == "unsubscribed" {
				n++
			}
		}
	}
	waitHolding(t, nodes, "room", "mal", 0)
	join(t, nodes[0], "marker", "room")
	events, present := 0, false
	for {
		m := w.nextUserEvent()
		if m.User == "marker" {
			break
		}
		if m.User != "mal" || (m.Type == "join") == present {
			t.Fatalf("event %d: %+v after mal present=%v", events, m, present)
		}
		present = m.Type == "join"
		events++
	}
	if events >= 2*flaps {
		t.Fatalf("%d events for %d flaps on each of two nodes: not coalesced", events, flaps)
	}
	t.Logf("%d presence events for %d flaps on each of two nodes", events, flaps)

	// Past the rate limit the flapper is cut off, whatever node it is on.
	f := dialGateway(t, nodes[1].srv, "token="+token(t, userClaims("mal")), nil)
	for range DefaultClientBurst {
		f.send(map[string]any{"type": "subscribe", "topic": "room"})
		f.send(map[string]any{"type": "unsubscribe", "topic": "room"})
	}
	f.expectCloseCode(1008)
}
