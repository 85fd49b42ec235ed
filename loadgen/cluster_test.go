package loadgen

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/server"
)

// startClusterNode runs a myriad gateway node on a loopback port, joined
// to the NATS broker at brokerURL in a cluster of nodes, and returns its
// WebSocket URL and API base URL.
func startClusterNode(t *testing.T, brokerURL string, nodes int) (string, string) {
	t.Helper()
	gw, err := gateway.New(gateway.Config{})
	if err != nil {
		t.Fatal(err)
	}
	bc, err := broker.Connect(broker.Config{URL: brokerURL, Deliver: gw.Receive}, zap.NewNop())
	if err != nil {
		t.Fatalf("broker.Connect: %v", err)
	}
	t.Cleanup(func() { _ = bc.Close() })
	if err := gw.JoinCluster(bc, gateway.ClusterConfig{Nodes: nodes}); err != nil {
		t.Fatalf("JoinCluster: %v", err)
	}
	srv, apiURL := serveGateway(t, gw, server.Config{
		Addr:   "127.0.0.1:0",
		Logger: zap.NewNop(),
		Routes: map[string]server.Handler{"/ws": gw},
	})
	return "ws://" + srv.Addr().String() + "/ws", apiURL
}

// TestBroadcastAgainstCluster spreads the subscribers over two cluster
// nodes and publishes to one of them: every subscriber must get every
// message once and in order, both nodes must have delivered (so the
// other node's share came through the broker), and the publisher must
// count the nodes' "accepted" answers as cluster answers, not as
// failures or zero deliveries.
func TestBroadcastAgainstCluster(t *testing.T) {
	const conns, rate = 200, 10
	bs, err := broker.StartServer(broker.ServerConfig{}, zap.NewNop())
	if err != nil {
		t.Fatalf("broker: %v", err)
	}
	t.Cleanup(bs.Shutdown)
	wsA, apiA := startClusterNode(t, bs.URL(), 2)
	wsB, apiB := startClusterNode(t, bs.URL(), 2)
	var urls []string
	for _, u := range []string{wsA, wsB} {
		s, err := SubscribeURL(u, "bench")
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, s)
	}
	p := testPlan("broadcast", conns, urls...)
	// Time for each node's new interest to reach the broker before the
	// first publish; a message published before it is lost by design.
	p.Settle = time.Second
	sc := &Broadcast{BroadcastParams: BroadcastParams{API: apiA + "/publish", PubRate: rate}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, p, sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const published = rate
	wantCounter(t, rep, CounterUpgraded, conns)
	wantCounter(t, rep, CounterBcastPublished, published)
	wantCounter(t, rep, CounterBcastReceived, published*conns)
	wantCounter(t, rep, CounterBcastLost, 0)
	wantCounter(t, rep, CounterBcastDuplicated, 0)
	wantCounter(t, rep, CounterBcastOutOfOrder, 0)
	wantCounter(t, rep, CounterPublishErrors, 0)
	wantCounter(t, rep, CounterPublishCluster, published)
	wantCounter(t, rep, CounterPublishDelivered, 0)
	wantCount(t, rep, HistLastSubscriber, published)
	a, b := myriadStats(t, apiA), myriadStats(t, apiB)
	if a.Hub.Delivered == 0 || b.Hub.Delivered == 0 || a.Hub.Delivered+b.Hub.Delivered != published*conns {
		t.Errorf("nodes delivered %d and %d, want both some and %d together", a.Hub.Delivered, b.Hub.Delivered, published*conns)
	}
}
