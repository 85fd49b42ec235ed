package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/internal/broker/brokertest"
	"github.com/myriadws/myriad/server/servertest"
)

// TestClusterQueriesStuckBroker asks a node whose broker link is stuck
// (nats.go's writer blocked on a full socket, holding the connection's
// lock) for the cluster /stats and /presence, alternately: each answers
// within the gather bound (not after nats.go's minute), first with this
// node's part alone, marked partial with the stuck link as the reason,
// then, once MaxGathers queries are left waiting for the link, with 503
// and this node's part; the queries in flight never exceed MaxGathers
// however many more are asked. After the release the left-behind queries
// end and both answers cover the two nodes again.
func TestClusterQueriesStuckBroker(t *testing.T) {
	const most = 8
	bs := startBroker(t, 0)
	proxy := brokertest.StartStallProxy(t, bs.URL())
	cfg := Config{ClientRate: -1}
	bcfg := broker.Config{GatherWait: 200 * time.Millisecond, MaxGathers: most}
	stuck := startNodeWith(t, proxy.URL(), cfg, bcfg, ClusterConfig{Nodes: 2})
	other := startNode(t, bs.URL(), 2, cfg, broker.Config{})
	for _, n := range []*node{stuck, other} {
		dialGateway(t, n.srv, "", nil).subscribe("room")
		n.settle(t)
	}
	whole := func(when string) {
		t.Helper()
		status, body := apiCall(t, stuck.g, http.MethodGet, "/stats", "", "")
		cl, _ := body["cluster"].(map[string]any)
		if status != http.StatusOK || cl["nodes"] != float64(2) || cl["partial"] != nil || cl["reason"] != nil {
			t.Fatalf("/stats %s: %d %v, want both nodes", when, status, cl)
		}
		status, body = apiCall(t, stuck.g, http.MethodGet, "/presence?topic=room", "", "")
		if status != http.StatusOK || body["count"] != float64(2) || body["nodes"] != float64(2) || body["partial"] != nil {
			t.Fatalf("/presence %s: %d %v, want 2 subscribers on 2 nodes", when, status, body)
		}
	}
	whole("before the stall")

	filled, release := jam(t, proxy, stuck)
	var stuckStats, stuckPresence, busy int
	for k := 0; busy < 20; k++ {
		if k == 4000 {
			t.Fatalf("%d queries over a stuck link: %d and %d stuck, %d refused", k, stuckStats, stuckPresence, busy)
		}
		path := "/stats"
		if k%2 == 1 {
			path = "/presence?topic=room"
		}
		status, body := apiCall(t, stuck.g, http.MethodGet, path, "", "") // fails past ioTimeout
		if n := stuck.bc.Stats().Gathers; n > most {
			t.Fatalf("%d cluster queries in flight, want at most %d", n, most)
		}
		view := body
		if path == "/stats" {
			view, _ = body["cluster"].(map[string]any)
		}
		reason, _ := view["reason"].(string)
		switch {
		case status == http.StatusServiceUnavailable:
			ownPart(t, stuck, path, body)
			if e, _ := body["error"].(string); !strings.Contains(e, "too many cluster queries") || view["partial"] != true {
				t.Fatalf("%s refused: %v", path, body)
			}
			if n := stuck.bc.Stats().Gathers; n != most {
				t.Fatalf("%s refused with %d queries in flight, want %d", path, n, most)
			}
			busy++
		case status != http.StatusOK:
			t.Fatalf("%s: %d %v", path, status, body)
		case strings.Contains(reason, "broker link stuck") && busy == 0:
			ownPart(t, stuck, path, body)
			if view["partial"] != true {
				t.Fatalf("%s over the stuck link: %v, want partial", path, body)
			}
			if path == "/stats" {
				stuckStats++
			} else {
				stuckPresence++
			}
		case stuckStats+stuckPresence+busy > 0:
			t.Fatalf("%s over the stuck link: %v", path, body)
		}
	}
	if stuckStats == 0 || stuckPresence == 0 {
		t.Fatalf("%d /stats and %d /presence answered over the stuck link before the refusals, want some of each", stuckStats, stuckPresence)
	}
	select {
	case <-filled:
		t.Fatal("the jam's publishes went out: the broker link was not stuck")
	default:
	}
	t.Logf("%d /stats and %d /presence answered partial over the stuck link, then %d refused", stuckStats, stuckPresence, busy)

	release()
	waitFilled(t, filled)
	servertest.Eventually(t, func() bool { return stuck.bc.Stats().Gathers == 0 }, "the left-behind cluster queries to end")
	whole("after the release")
}

// ownPart checks that an answer of the node n to a cluster /stats or
// /presence over a stuck link is n's own part alone, in the usual shape:
// for /stats n's counters at the top and as the one node of "cluster",
// for /presence the one subscriber n has.
func ownPart(t *testing.T, n *node, path string, body map[string]any) {
	t.Helper()
	if path != "/stats" {
		if body["topic"] != "room" || body["nodes"] != float64(1) || body["count"] != float64(1) {
			t.Fatalf("%s: %v, want this node's one subscriber", path, body)
		}
		return
	}
	cl, _ := body["cluster"].(map[string]any)
	per, _ := cl["per_node"].([]any)
	totals, _ := cl["totals"].(map[string]any)
	hub, _ := body["hub"].(map[string]any)
	if cl["nodes"] != float64(1) || len(per) != 1 || hub["subscriptions"] != float64(1) || totals["subscriptions"] != float64(1) {
		t.Fatalf("%s: %v, want this node's counters and the cluster of it alone", path, body)
	}
	if self, _ := per[0].(map[string]any); self["node"] != n.bc.NodeID() || cl["node"] != n.bc.NodeID() {
		t.Fatalf("%s: %v, want this node's part", path, cl)
	}
}
