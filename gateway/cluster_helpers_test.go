package gateway

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// node is one gateway cluster node of a test: a server with a Gateway on
// /ws, its API, and its own broker client.
type node struct {
	srv *server.Server
	g   *Gateway
	bc  *broker.Client
}

// startBroker runs an embedded nats-server on a free loopback port
// (port 0) or on port.
func startBroker(t *testing.T, port int) *broker.Server {
	t.Helper()
	bs, err := broker.StartServer(broker.ServerConfig{Port: port}, zap.NewNop())
	if err != nil {
		t.Fatalf("broker: %v", err)
	}
	t.Cleanup(bs.Shutdown)
	return bs
}

// startNode starts a gateway node on the broker at url. nodes is the
// cluster size the node expects to answer queries; bcfg may set the
// broker client's reconnect buffer.
func startNode(t *testing.T, url string, nodes int, gcfg Config, bcfg broker.Config) *node {
	t.Helper()
	return startNodeWith(t, url, gcfg, bcfg, ClusterConfig{Nodes: nodes})
}

// startNodeWith is startNode with the node's whole ClusterConfig.
func startNodeWith(t *testing.T, url string, gcfg Config, bcfg broker.Config, ccfg ClusterConfig) *node {
	t.Helper()
	return startNodeOpts(t, url, nodeOpts{}, gcfg, bcfg, ccfg)
}

// nodeOpts are the less common choices of a test node.
type nodeOpts struct {
	loops int                   // event loops; 0 means 2
	wrap  func(Cluster) Cluster // wraps the broker client the gateway joins with
}

// startNodeOpts is startNodeWith with the choices of o.
func startNodeOpts(t *testing.T, url string, o nodeOpts, gcfg Config, bcfg broker.Config, ccfg ClusterConfig) *node {
	t.Helper()
	if o.loops == 0 {
		o.loops = 2
	}
	g, err := New(gcfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	bcfg.URL = url
	bcfg.Deliver = g.Receive
	bcfg.ReconnectMin, bcfg.ReconnectMax = 10*time.Millisecond, 50*time.Millisecond
	if bcfg.GatherWait == 0 {
		bcfg.GatherWait = ioTimeout
	}
	bc, err := broker.Connect(bcfg, zap.NewNop())
	if err != nil {
		t.Fatalf("broker.Connect: %v", err)
	}
	t.Cleanup(func() { _ = bc.Close() })
	var link Cluster = bc
	if o.wrap != nil {
		link = o.wrap(bc)
	}
	if err := g.JoinCluster(link, ccfg); err != nil {
		t.Fatalf("JoinCluster: %v", err)
	}
	cfg := server.Config{Loops: o.loops, Routes: map[string]server.Handler{"/ws": g}}
	srv, _ := servertest.Start(t, cfg, g.Attach)
	api := httptest.NewServer(g.APIHandler())
	t.Cleanup(api.Close)
	apiURLs.Store(g, api.URL)
	t.Cleanup(func() { apiURLs.Delete(g) })
	return &node{srv: srv, g: g, bc: bc}
}

// startCluster starts a broker and n nodes on it.
func startCluster(t *testing.T, n int, gcfg Config) (*broker.Server, []*node) {
	t.Helper()
	bs := startBroker(t, 0)
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = startNode(t, bs.URL(), n, gcfg, broker.Config{})
	}
	return bs, nodes
}

// settle waits until the node has handed its interest changes to its
// broker client and the broker has processed everything the node sent so
// far, its subscriptions included: after it, publishes from any node
// reach the node's subscribers.
func (n *node) settle(t *testing.T) {
	t.Helper()
	servertest.Eventually(t, func() bool { ls, _ := n.g.LinkStats(); return ls.InterestQueued == 0 }, "interest changes handed to the broker client")
	if err := n.bc.Flush(ioTimeout); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// publishCluster publishes data to topic through n's Go API and fails
// unless the broker accepted it.
func (n *node) publishCluster(t *testing.T, topic, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	res, err := n.g.PublishCluster(ctx, []string{topic}, json.RawMessage(data))
	if err != nil || !res.Accepted {
		t.Errorf("PublishCluster: %+v, %v", res, err)
	}
}

// waitState polls until every node's broker client is in state s.
func waitState(t *testing.T, nodes []*node, s broker.State) {
	t.Helper()
	servertest.Eventually(t, func() bool {
		for _, n := range nodes {
			if n.bc.State() != s {
				return false
			}
		}
		return true
	}, "broker state "+s.String())
}
