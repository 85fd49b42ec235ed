package loadgen

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/myriadws/myriad/server"
)

// sseTarget is the stream URL of a gateway started by startMyriadGateway.
func sseTarget(t *testing.T, wsURL string) string {
	t.Helper()
	u, err := SSEURL(wsURL, "bench")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSSEIdleAgainstMyriad holds SSE streams open on the real gateway:
// every one is accepted as a stream, none drops, the heartbeats of a short
// ping interval arrive, and all are gone from the server afterwards.
func TestSSEIdleAgainstMyriad(t *testing.T) {
	const conns = 200
	srv, wsURL, _ := startMyriadGateway(t, func(c *server.Config) { c.PingInterval = 50 * time.Millisecond })
	p := testPlan("sse", conns, sseTarget(t, wsURL))
	var heldOpen, serverStreams atomic.Int64
	heldOpen.Store(-1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, p, &SSE{}, Options{Progress: func(pr Progress) {
		if pr.Phase == "holding" && heldOpen.Load() < 0 {
			serverStreams.Store(int64(srv.Stats().Streams))
			heldOpen.Store(pr.Open)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	wantCounter(t, rep, CounterUpgraded, conns)
	wantCounter(t, rep, CounterFailed, 0)
	wantCounter(t, rep, CounterDropped, 0)
	wantCounter(t, rep, CounterClosed, conns)
	if rep.Counters[CounterSSEHeartbeats] == 0 {
		t.Errorf("no heartbeats in %v", rep.Counters)
	}
	if heldOpen.Load() != conns || serverStreams.Load() != conns {
		t.Errorf("while holding: loadgen open %d, server streams %d, want %d", heldOpen.Load(), serverStreams.Load(), conns)
	}
	eventually(t, "server connections closed", func() bool { return srv.Stats().Open == 0 })
}

// TestSSEBroadcastAgainstMyriad runs broadcast over SSE streams: every
// client gets every message once and in order.
func TestSSEBroadcastAgainstMyriad(t *testing.T) {
	const conns, rate = 200, 20
	_, wsURL, api := startMyriadGateway(t)
	p := testPlan("sse", conns, sseTarget(t, wsURL))
	p.Size = 64
	sc := &SSE{SSEParams: SSEParams{Mode: SSEBroadcast, BroadcastParams: BroadcastParams{API: api + "/publish", PubRate: rate}}}
	rep := runScenario(t, p, sc)
	const published = rate
	wantCounter(t, rep, CounterUpgraded, conns)
	wantCounter(t, rep, CounterBcastPublished, published)
	wantCounter(t, rep, CounterBcastSubscribers, conns)
	wantCounter(t, rep, CounterBcastReceived, published*conns)
	wantCounter(t, rep, CounterPublishDelivered, published*conns)
	wantCounter(t, rep, CounterBcastLost, 0)
	wantCounter(t, rep, CounterBcastDuplicated, 0)
	wantCounter(t, rep, CounterBcastOutOfOrder, 0)
	wantCounter(t, rep, CounterBcastUnparsed, 0)
	wantCounter(t, rep, CounterPublishErrors, 0)
	wantCount(t, rep, HistLastSubscriber, published)
	st := myriadStats(t, api)
	if st.Hub.Dropped != 0 || st.Hub.SlowClosed != 0 {
		t.Errorf("gateway dropped %d, slow-closed %d", st.Hub.Dropped, st.Hub.SlowClosed)
	}
}

// TestReconnectAgainstMyriad drops every subscriber in a wave while the
// publisher runs: each comes back with its position and recovers what was
// published meanwhile, with nothing lost or repeated.
func TestReconnectAgainstMyriad(t *testing.T) {
	const conns, rate = 200, 50
	_, wsURL, api := startMyriadGateway(t)
	u, err := SubscribeURL(wsURL, "bench")
	if err != nil {
		t.Fatal(err)
	}
	p := testPlan("reconnect", conns, u)
	p.Duration = 2 * time.Second
	p.Size = 64
	sc := &Reconnect{ReconnectParams: ReconnectParams{
		BroadcastParams: BroadcastParams{API: api + "/publish", PubRate: rate},
		WaveAt:          500 * time.Millisecond,
		WaveSpread:      200 * time.Millisecond,
		ReconnectDelay:  200 * time.Millisecond,
	}}
	rep := runScenario(t, p, sc)
	published := rep.Counters[CounterRcPublished]
	if published == 0 {
		t.Fatalf("nothing published: %v", rep.Counters)
	}
	wantCounter(t, rep, CounterUpgraded, 2*conns)
	wantCounter(t, rep, CounterFailed, 0)
	wantCounter(t, rep, CounterDropped, 0)
	wantCounter(t, rep, CounterPublishErrors, 0)
	wantCounter(t, rep, CounterRcSubscribers, conns)
	wantCounter(t, rep, CounterRcDropped, conns)
	wantCounter(t, rep, CounterRcBack, conns)
	wantCounter(t, rep, CounterRcNotRecovered, 0)
	wantCounter(t, rep, CounterRcLost, 0)
	wantCounter(t, rep, CounterRcGaps, 0)
	wantCounter(t, rep, CounterRcDuplicated, 0)
	wantCounter(t, rep, CounterRcUnparsed, 0)
	wantCounter(t, rep, CounterRcEpochChanged, 0)
	wantCount(t, rep, HistResume, conns)
	t.Logf("recovered %d, wave %d ms", rep.Counters[CounterRcRecovered], rep.Counters[CounterRcAllBackMs])
	if rep.Counters[CounterRcRecovered] == 0 {
		t.Errorf("no message was recovered: %v", rep.Counters)
	}
	if _, ok := rep.Counters[CounterRcAllBackMs]; !ok {
		t.Errorf("no wave time: %v", rep.Counters)
	}
}
