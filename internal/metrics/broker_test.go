package metrics

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/internal/broker/brokertest"
	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// clusterNode is a gateway node joined to an embedded nats-server, with
// its metrics handler.
type clusterNode struct {
	node
	brk *broker.Server
	bc  *broker.Client
}

func startClusterNode(t *testing.T) *clusterNode {
	t.Helper()
	brk := startBroker(t)
	return joinClusterNode(t, brk, brk.URL())
}

func startBroker(t *testing.T) *broker.Server {
	t.Helper()
	brk, err := broker.StartServer(broker.ServerConfig{}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(brk.Shutdown)
	return brk
}

// joinClusterNode starts a node whose broker client dials url: brk's, or
// a proxy's in front of it.
func joinClusterNode(t *testing.T, brk *broker.Server, url string) *clusterNode {
	t.Helper()
	gw, err := gateway.New(gateway.Config{})
	if err != nil {
		t.Fatal(err)
	}
	bc, err := broker.Connect(broker.Config{URL: url, NodeID: "node-a", Deliver: gw.Receive}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bc.Close() })
	if err := gw.JoinCluster(bc, gateway.ClusterConfig{Nodes: 1}); err != nil {
		t.Fatal(err)
	}
	srv, addr := servertest.Start(t, server.Config{Loops: 2, Routes: map[string]server.Handler{"/ws": gw}}, gw.Attach)
	hs := httptest.NewServer(Handler(NewCollector(Sources{Server: srv, Gateway: gw, Broker: bc}), zap.NewNop()))
	t.Cleanup(hs.Close)
	return &clusterNode{node: node{srv: srv, addr: addr, gw: gw, url: hs.URL}, brk: brk, bc: bc}
}

// TestScrapeBrokerMetrics scrapes a cluster node over an embedded
// nats-server: connected, then a publish that went through the broker and
// back to a local subscriber, then the broker gone and a publish kept for
// the reconnect.
func TestScrapeBrokerMetrics(t *testing.T) {
	n := startClusterNode(t)
	servertest.Eventually(t, func() bool { return n.bc.State() == broker.StateConnected }, "the broker link")
	sub := servertest.Dial(t, n.addr, "/ws?topics=news")
	servertest.Eventually(t, func() bool { return n.bc.Stats().Topics == 1 }, "interest in news at the broker")
	if _, err := n.gw.Publish(context.Background(), []string{"news"}, []byte(`"hello"`)); err != nil {
		t.Fatal(err)
	}
	sub.ReadFrame()

	f := scrape(t, n.url)
	checks := []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"connected", "myriad_broker_state", []string{"state=connected"}, 1},
		{"not reconnecting", "myriad_broker_state", []string{"state=reconnecting"}, 0},
		{"not connecting", "myriad_broker_state", []string{"state=connecting"}, 0},
		{"not closed", "myriad_broker_state", []string{"state=closed"}, 0},
		{"published", "myriad_broker_messages_total", []string{"result=published"}, 1},
		{"received", "myriad_broker_messages_total", []string{"result=received"}, 1},
		{"nothing buffered", "myriad_broker_messages_total", []string{"result=buffered"}, 0},
		{"nothing unsent", "myriad_broker_messages_total", []string{"result=unsent"}, 0},
		{"nothing dropped", "myriad_broker_messages_total", []string{"result=dropped"}, 0},
		{"no reconnect", "myriad_broker_reconnects_total", nil, 0},
		{"one topic", "myriad_broker_topics", nil, 1},
		{"no cluster query in flight", "myriad_broker_gathers", nil, 0},
		{"delivered by the link", "myriad_cluster_link_messages_total", []string{"result=delivered"}, 1},
		{"none rejected", "myriad_cluster_link_messages_total", []string{"result=rejected"}, 0},
		{"no publish refused", "myriad_cluster_link_messages_total", []string{"result=queue_full"}, 0},
		{"nothing queued", "myriad_cluster_publish_queued", nil, 0},
		{"no interest change queued", "myriad_cluster_interest_queued", nil, 0},
		{"no node expired", "myriad_cluster_presence_total", []string{"result=expired"}, 0},
		{"presence off: no nodes kept", "myriad_cluster_presence_nodes", nil, 0},
		{"no interest error", "myriad_cluster_interest_errors_total", nil, 0},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			if got := value(f, tc.metric, tc.labels...); got != tc.want {
				t.Fatalf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
			}
		})
	}

	n.brk.Shutdown()
	servertest.Eventually(t, func() bool {
		f := scrape(t, n.url)
		return value(f, "myriad_broker_state", "state=reconnecting") == 1 && value(f, "myriad_broker_state", "state=connected") == 0
	}, "the state gauge to follow the broker's loss")
	_, _ = n.gw.Publish(context.Background(), []string{"news"}, []byte(`"away"`))
	f = scrape(t, n.url)
	if got := value(f, "myriad_broker_messages_total", "result=buffered"); got != 1 {
		t.Errorf("buffered %v after a publish while the broker is away, want 1", got)
	}
	if got := value(f, "myriad_cluster_link_messages_total", "result=local_first"); got != 1 {
		t.Errorf("local_first %v after a publish while the broker is away, want 1", got)
	}
}

// TestScrapeWithStuckBroker scrapes a cluster node whose broker link is
// stuck while clients subscribe to new topics: the node's interest
// goroutine waits in nats.go with the broker client's subscribe, and
// every scrape still answers, the interest changes queued behind it
// counted. After the release the broker holds every topic.
func TestScrapeWithStuckBroker(t *testing.T) {
	brk := startBroker(t)
	proxy := brokertest.StartStallProxy(t, brk.URL())
	n := joinClusterNode(t, brk, proxy.URL())
	servertest.Eventually(t, func() bool { return n.bc.State() == broker.StateConnected }, "the broker link")
	filled, release := brokertest.Jam(t, proxy, func(b []byte) error { return n.bc.Publish("fill", b, nil) })
	const queued, most = 4, 1000
	topics := 0
	for ; ; topics++ {
		if topics == most {
			t.Fatalf("%d topics subscribed over a stuck broker link, and fewer than %d interest changes queued", most, queued)
		}
		servertest.Dial(t, n.addr, "/ws?topics=t"+strconv.Itoa(topics))
		f := scrape(t, n.url) // fails the test if the scrape hangs
		if value(f, "myriad_cluster_interest_queued") >= queued {
			topics++
			break
		}
	}
	select {
	case <-filled:
		t.Fatal("the jam's publishes went out: the broker link was not stuck")
	default:
	}
	t.Logf("%d topics subscribed before %d interest changes queued behind the stuck link", topics, queued)
	release()
	servertest.Eventually(t, func() bool {
		f := scrape(t, n.url)
		return value(f, "myriad_cluster_interest_queued") == 0 && value(f, "myriad_broker_topics") == float64(topics)
	}, "every topic's interest at the broker")
	if got := value(scrape(t, n.url), "myriad_cluster_interest_errors_total"); got != 0 {
		t.Fatalf("%v interest errors, want 0", got)
	}
}

// TestSingleNodeHasNoBrokerMetrics checks that a node without a broker
// exports none of the broker families rather than zeros that would read
// as a broken link.
func TestSingleNodeHasNoBrokerMetrics(t *testing.T) {
	n := startNode(t)
	f := scrape(t, n.url)
	for _, name := range []string{"myriad_broker_state", "myriad_broker_messages_total", "myriad_broker_reconnects_total",
		"myriad_broker_topics", "myriad_broker_gathers", "myriad_cluster_link_messages_total", "myriad_cluster_interest_errors_total",
		"myriad_cluster_publish_queued", "myriad_cluster_interest_queued", "myriad_cluster_presence_total", "myriad_cluster_presence_nodes"} {
		if _, ok := f[name]; ok {
			t.Errorf("%s exported on a single node", name)
		}
	}
}
