package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/broker"
)

// seqMsg is the data of an ordered test publish.
type seqMsg struct {
	P   string `json:"p"`
	N   int    `json:"n"`
	End bool   `json:"end"`
}

// TestClusterDeliversOnceInOrder publishes from every node (through the
// API and from a WebSocket client) and checks that every subscriber on
// every node gets each message once, each publisher's in order.
func TestClusterDeliversOnceInOrder(t *testing.T) {
	const perPublisher = 25
	for _, tc := range []struct {
		name  string
		nodes int
	}{{"two nodes", 2}, {"three nodes", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			_, nodes := startCluster(t, tc.nodes, Config{ClientPublish: true})
			var subs []*gwClient
			for _, n := range nodes {
				for range 2 {
					c := dialGateway(t, n.srv, "topics=room", nil)
					c.send(map[string]any{"type": "ping"})
					c.expect("pong") // the subscription from the URL is in place
					subs = append(subs, c)
				}
				n.settle(t)
			}
			pub := dialGateway(t, nodes[len(nodes)-1].srv, "", nil)

			var wg sync.WaitGroup
			for i, n := range nodes {
				wg.Go(func() {
					for k := range perPublisher {
						n.publishCluster(t, "room", fmt.Sprintf(`{"p":"api%d","n":%d}`, i, k))
					}
				})
			}
			for k := range perPublisher {
				pub.send(map[string]any{"type": "publish", "topic": "room", "data": seqMsg{P: "ws", N: k}})
			}
			wg.Wait()
			pub.send(map[string]any{"type": "publish", "topic": "room", "data": seqMsg{P: "ws", N: perPublisher}, "ref": 1})
			pub.expect("published")
			nodes[len(nodes)-1].settle(t)
			nodes[0].publishCluster(t, "room", `{"p":"end","n":0,"end":true}`)

			want := (len(nodes) + 1) * perPublisher
			for si, c := range subs {
				next := map[string]int{}
				for got := 0; ; got++ {
					m := c.expect("message")
					var d seqMsg
					if err := json.Unmarshal(m.Data, &d); err != nil {
						t.Fatalf("subscriber %d: data %s: %v", si, m.Data, err)
					}
					if d.End {
						if got != want+1 { // the ws publisher's extra message
							t.Fatalf("subscriber %d: %d messages before the end, want %d", si, got, want+1)
						}
						break
					}
					if d.N != next[d.P] {
						t.Fatalf("subscriber %d: from %s got #%d, want #%d (lost, repeated or reordered)", si, d.P, d.N, next[d.P])
					}
					next[d.P]++
				}
			}
		})
	}
}

// TestClusterInterestFollowsSubscribers checks that a node holds broker
// interest only while it has a local subscriber, so a node without one
// receives none of the topic's traffic.
func TestClusterInterestFollowsSubscribers(t *testing.T) {
	_, nodes := startCluster(t, 3, Config{})
	a := dialGateway(t, nodes[1].srv, "topics=room", nil)
	a.send(map[string]any{"type": "ping"})
	a.expect("pong")
	b := dialGateway(t, nodes[1].srv, "topics=room,other", nil) // same node, maybe another loop
	b.send(map[string]any{"type": "ping"})
	b.expect("pong")
	nodes[1].settle(t)
	if got := nodes[1].bc.Interested("room"); got != 1 {
		t.Fatalf("node 1 holds %d references to room, want 1 for the node however many loops", got)
	}

	nodes[0].publishCluster(t, "room", `"hello"`)
	a.expectData("room", `"hello"`)
	b.expectData("room", `"hello"`)
	nodes[0].settle(t)
	nodes[2].settle(t)
	for _, i := range []int{0, 2} {
		if st := nodes[i].bc.Stats(); st.Received != 0 || st.Topics != 0 {
			t.Errorf("node %d without subscribers: %+v, want nothing received and no topics", i, st)
		}
	}

	a.send(map[string]any{"type": "unsubscribe", "topic": "room"})
	a.expect("unsubscribed")
	if got := nodes[1].bc.Interested("room"); got != 1 {
		t.Fatalf("room still has a subscriber on node 1, but the node holds %d references", got)
	}
	_ = b.c.Close()
	waitFor(t, "node 1 drops its interest", 0, func() bool { return nodes[1].bc.Stats().Topics == 0 })
	nodes[1].settle(t)
	before := nodes[1].bc.Stats().Received
	nodes[0].publishCluster(t, "room", `"nobody"`)
	nodes[0].publishCluster(t, "other", `"nobody"`)
	nodes[1].settle(t)
	if got := nodes[1].bc.Stats().Received; got != before {
		t.Fatalf("node 1 received %d messages after its last subscriber left", got-before)
	}
}

// TestClusterPresence checks /presence and join/leave events across nodes.
func TestClusterPresence(t *testing.T) {
	cfg, ccfg := presenceCluster()
	_, nodes := startPresenceCluster(t, 2, cfg, ccfg)
	watcher := dialGateway(t, nodes[0].srv, "topics=room&token="+token(t, userClaims("watch")), nil)
	if m := watcher.expect("join"); m.User != "watch" {
		t.Fatalf("own join: %+v", m)
	}
	nodes[0].settle(t)
	for i, u := range []string{"ann", "bob", "ann", "carol"} {
		c := dialGateway(t, nodes[i%2].srv, "topics=room&token="+token(t, userClaims(u)), nil)
		if i == 2 {
			// ann's second connection: she is there already, so nobody
			// is told; a marker request shows the subscription is in.
			c.send(map[string]any{"type": "ping"})
			c.expect("pong")
			continue
		}
		c.expect("join")
		if m := watcher.expect("join"); m.User != u {
			t.Fatalf("watcher saw %+v, want join of %s from node %d", m, u, i%2)
		}
		if u == "carol" {
			_ = c.c.Close()
			if m := watcher.expect("leave"); m.User != "carol" {
				t.Fatalf("watcher saw %+v, want carol leaving", m)
			}
		}
	}
	for i, n := range nodes {
		status, body := apiCall(t, n.g, http.MethodGet, "/presence?topic=room", "", "")
		if status != http.StatusOK {
			t.Fatalf("node %d: /presence %d %v", i, status, body)
		}
		users := fmt.Sprint(body["users"])
		if body["count"] != float64(4) || users != "[ann bob watch]" || body["nodes"] != float64(2) || body["partial"] != nil {
			t.Fatalf("node %d: /presence %v, want 4 connections of ann, bob, watch over 2 nodes", i, body)
		}
	}
	if status, body := apiCall(t, nodes[1].g, http.MethodGet, "/presence?topic=bad%20topic", "", ""); status != http.StatusBadRequest {
		t.Fatalf("bad topic: %d %v, want 400", status, body)
	}
}

// TestClusterAPI checks the publish answer and cluster /stats.
func TestClusterAPI(t *testing.T) {
	_, nodes := startCluster(t, 2, Config{})
	c := dialGateway(t, nodes[1].srv, "topics=news", nil)
	c.send(map[string]any{"type": "ping"})
	c.expect("pong")
	nodes[1].settle(t)
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"accepted", `{"topic":"news","data":{"a":1}}`, http.StatusOK, `map[accepted:true broker:connected cluster:true]`},
		{"no subscriber anywhere", `{"topic":"void","data":1}`, http.StatusOK, `map[accepted:true broker:connected cluster:true]`},
		{"bad data", `{"topic":"news","data":nope}`, http.StatusBadRequest, ``},
		{"bad topic", `{"topic":"a b","data":1}`, http.StatusBadRequest, ``},
		{"no data", `{"topic":"news"}`, http.StatusBadRequest, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := apiCall(t, nodes[0].g, http.MethodPost, "/publish", "", tc.body)
			if status != tc.status || (tc.want != "" && fmt.Sprint(body) != tc.want) {
				t.Fatalf("got %d %v, want %d %s", status, body, tc.status, tc.want)
			}
		})
	}
	c.expectData("news", `{"a":1}`)
	waitFor(t, "node 1 counts its delivery", 0, func() bool { return nodes[1].g.Stats().Delivered == 1 })

	_, body := apiCall(t, nodes[0].g, http.MethodGet, "/stats", "", "")
	cl, _ := body["cluster"].(map[string]any)
	totals, _ := cl["totals"].(map[string]any)
	per, _ := cl["per_node"].([]any)
	if cl["nodes"] != float64(2) || len(per) != 2 || totals["upgraded"] != float64(1) || totals["delivered"] != float64(1) || totals["publishes"] != float64(2) {
		t.Fatalf("cluster stats %v", cl)
	}
	if b, _ := cl["broker"].(map[string]any); b["state"] != "connected" {
		t.Fatalf("broker stats %v", cl["broker"])
	}
}

// TestClusterBrokerRestart stops the broker in the middle: a publish
// during the outage reaches the publisher's node at once and is counted
// (unsent without a reconnect buffer, buffered with one), and delivery
// through the broker resumes once it is back.
func TestClusterBrokerRestart(t *testing.T) {
	for _, tc := range []struct {
		name      string
		buf       int
		status    int
		countedAs string
	}{
		{"no reconnect buffer: lost and counted unsent", -1, http.StatusServiceUnavailable, "unsent"},
		{"reconnect buffer: buffered for the other node", 0, http.StatusOK, "buffered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bs := startBroker(t, 0)
			port, url := bs.Port(), bs.URL()
			nodes := []*node{
				startNode(t, url, 2, Config{}, broker.Config{ReconnectBuf: tc.buf}),
				startNode(t, url, 2, Config{}, broker.Config{ReconnectBuf: tc.buf}),
			}
			subs := []*gwClient{dialGateway(t, nodes[0].srv, "topics=t", nil), dialGateway(t, nodes[1].srv, "topics=t", nil)}
			for i, c := range subs {
				c.send(map[string]any{"type": "ping"})
				c.expect("pong")
				nodes[i].settle(t)
			}
			nodes[0].publishCluster(t, "t", `"before"`)
			for _, c := range subs {
				c.expectData("t", `"before"`)
			}

			bs.Shutdown()
			waitState(t, nodes, broker.StateReconnecting)
			status, body := apiCall(t, nodes[0].g, http.MethodPost, "/publish", "", `{"topic":"t","data":"during"}`)
			if status != tc.status || body[tc.countedAs] != float64(1) || body["broker"] != "reconnecting" {
				t.Fatalf("publish during the outage: %d %v, want %d with %s 1", status, body, tc.status, tc.countedAs)
			}
			subs[0].expectData("t", `"during"`) // local delivery goes on
			st := nodes[0].bc.Stats()
			if got := map[string]uint64{"unsent": st.Unsent, "buffered": st.Buffered}[tc.countedAs]; got != 1 {
				t.Fatalf("broker stats %+v, want %s 1", st, tc.countedAs)
			}

			startBroker(t, port)
			waitState(t, nodes, broker.StateConnected)
			for _, n := range nodes {
				n.settle(t)
			}
			nodes[1].publishCluster(t, "t", `"after"`)
			subs[0].expectData("t", `"after"`) // its own "during" was not delivered twice
			m := subs[1].expect("message")
			if string(m.Data) == `"during"` { // buffered: at most once
				if tc.countedAs != "buffered" {
					t.Fatalf("node 1 got an unsent message")
				}
				m = subs[1].expect("message")
			}
			if string(m.Data) != `"after"` {
				t.Fatalf("node 1 got %s, want \"after\"", m.Data)
			}
		})
	}
}

// TestClusterIgnoresForeignMessages checks that what a stray publisher
// puts on a topic's subject reaches no client unless it is what a
// gateway would publish.
func TestClusterIgnoresForeignMessages(t *testing.T) {
	bs, nodes := startCluster(t, 1, Config{})
	c := dialGateway(t, nodes[0].srv, "topics=t", nil)
	c.send(map[string]any{"type": "ping"})
	c.expect("pong")
	nodes[0].settle(t)
	stray, err := broker.Connect(broker.Config{URL: bs.URL()}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer stray.Close()
	for _, tc := range []struct {
		name, payload, kind string
	}{
		{"not JSON", `{"a":`, ""},
		{"unknown kind", `1`, "drop-table"},
		{"empty payload", ``, ""},
	} {
		h := map[string][]string{}
		if tc.kind != "" {
			h[headerKind] = []string{tc.kind}
		}
		if err := stray.Publish("t", []byte(tc.payload), h); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	if err := stray.Publish("t", []byte(`"ok"`), nil); err != nil {
		t.Fatal(err)
	}
	c.expectData("t", `"ok"`)
	if got := nodes[0].nodeStatsLink().Rejected; got != 3 {
		t.Fatalf("rejected %d, want 3", got)
	}
	if st := nodes[0].bc.State(); st != broker.StateConnected {
		t.Fatalf("node's broker connection is %v after stray messages", st)
	}
}

func (n *node) nodeStatsLink() LinkStats { return n.g.nodeStats().Link }
