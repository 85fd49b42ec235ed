package gateway

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// startHistoryNode starts a cluster node whose history is the broker's
// JetStream stream, republished onto the topic subjects.
func startHistoryNode(t *testing.T, url string) *node {
	t.Helper()
	return startHistoryNodeWith(t, url, nil, nil)
}

// startHistoryNodeWith is startHistoryNode with the gateway's link and
// store wrapped by wrap and wrapStore, when they are not nil.
func startHistoryNodeWith(t *testing.T, url string, wrap func(Cluster) Cluster, wrapStore func(history.Store) history.Store) *node {
	t.Helper()
	g, err := New(Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	bc, err := broker.Connect(broker.Config{URL: url, Deliver: g.Receive, GatherWait: ioTimeout}, zap.NewNop())
	if err != nil {
		t.Fatalf("broker.Connect: %v", err)
	}
	t.Cleanup(func() { _ = bc.Close() })
	var link Cluster = bc
	if wrap != nil {
		link = wrap(bc)
	}
	if err := g.JoinCluster(link, ClusterConfig{Nodes: 2}); err != nil {
		t.Fatalf("JoinCluster: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	st, err := history.NewJetStream(ctx, history.JetStreamConfig{Conn: bc.Conn(), Republish: broker.DefaultTopicPrefix})
	if err != nil {
		t.Fatalf("NewJetStream: %v", err)
	}
	var store history.Store = st
	if wrapStore != nil {
		store = wrapStore(st)
	}
	if err := g.UseHistory(store); err != nil {
		t.Fatalf("UseHistory: %v", err)
	}
	g2, _ := New(Config{})
	if err := g2.UseHistory(st); err == nil {
		t.Fatal("a shared history without a cluster was taken")
	}
	cfg := server.Config{Loops: 2, Routes: map[string]server.Handler{"/ws": g}, Streams: g.Streams()}
	srv, _ := servertest.Start(t, cfg, g.Attach)
	api := httptest.NewServer(g.APIHandler())
	t.Cleanup(api.Close)
	apiURLs.Store(g, api.URL)
	t.Cleanup(func() { apiURLs.Delete(g) })
	return &node{srv: srv, g: g, bc: bc}
}

// TestClusterRecoverOnAnotherNode: a client leaves node A during a burst
// of publishes made on node B and recovers every message, exactly once
// and in order, on node B: offsets are the stream's, the same on every
// node.
func TestClusterRecoverOnAnotherNode(t *testing.T) {
	bs, err := broker.StartServer(broker.ServerConfig{JetStream: true, StoreDir: t.TempDir()}, zap.NewNop())
	if err != nil {
		t.Fatalf("broker: %v", err)
	}
	t.Cleanup(bs.Shutdown)
	a, b := startHistoryNode(t, bs.URL()), startHistoryNode(t, bs.URL())
	c := dialGateway(t, a.srv, "", nil)
	c.subscribe("game")
	a.settle(t)
	const n = 60
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			if _, err := b.g.PublishCluster(ctx, []string{"game"}, []byte(strconv.Itoa(i))); err != nil {
				t.Errorf("publish %d: %v", i, err)
			}
			cancel()
		}
	}()
	var last histMsg
	next := 0
	for next < n/3 {
		m := c.readHist()
		if string(m.Data) != strconv.Itoa(next) || m.Epoch == "" {
			t.Fatalf("on A: %+v, want %d with a position", m, next)
		}
		last, next = m, next+1
	}
	_ = c.c.Close()
	c2 := dialGateway(t, b.srv, "", nil)
	c2.send(map[string]any{"type": "subscribe", "topic": "game", "since": map[string]any{"offset": last.Offset, "epoch": last.Epoch}})
	if r := c2.readHist(); r.Type != "subscribed" || r.Recovered == nil || !*r.Recovered {
		t.Fatalf("on B: %+v, want recovered: true", r)
	}
	for next < n {
		m := c2.readHist()
		if string(m.Data) != strconv.Itoa(next) || m.Offset <= last.Offset || m.Epoch != last.Epoch {
			t.Fatalf("on B: %+v after offset %d, want %d (gap or duplicate)", m, last.Offset, next)
		}
		last, next = m, next+1
	}
	select {
	case <-done:
	case <-time.After(ioTimeout):
		t.Fatal("publisher stuck")
	}
}
