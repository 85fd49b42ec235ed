package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// startMyriad runs a myriad server on a loopback port for the test.
func startMyriad(t *testing.T) (*server.Server, string) {
	t.Helper()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Logger: zap.NewNop(), Routes: map[string]server.Handler{"/echo": server.Echo{}}})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case <-srv.Ready():
	case err := <-served:
		t.Fatalf("Serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
	})
	return srv, "ws://" + srv.Addr().String() + "/echo"
}

func TestIdleAgainstMyriad(t *testing.T) {
	const conns = 300
	srv, url := startMyriad(t)
	p := testPlan("idle", conns, url)
	sc, _ := NewScenario("idle")
	// While the connections are held, the server must count as many
	// upgraded connections as the load generator holds open.
	var heldOpen, serverUpgraded atomic.Int64
	heldOpen.Store(-1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, p, sc, Options{Progress: func(pr Progress) {
		if pr.Phase == "holding" && heldOpen.Load() < 0 {
			serverUpgraded.Store(srv.Stats().Upgraded)
			heldOpen.Store(pr.Open)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	wantCounter(t, rep, CounterUpgraded, conns)
	wantCounter(t, rep, CounterFailed, 0)
	wantCounter(t, rep, CounterDropped, 0)
	if heldOpen.Load() != conns || serverUpgraded.Load() != conns {
		t.Errorf("while holding: loadgen open %d, server upgraded %d, want %d", heldOpen.Load(), serverUpgraded.Load(), conns)
	}
	eventually(t, "server connections closed", func() bool { return srv.Stats().Upgraded == 0 })
	if got := srv.Stats().Upgrades; got != conns {
		t.Errorf("server counted %d upgrades, want %d", got, conns)
	}
}

func TestEchoAgainstMyriad(t *testing.T) {
	srv, url := startMyriad(t)
	p := testPlan("echo", 50, url)
	p.MsgRate = 20
	p.Size = 64
	rep := runPlan(t, p)

	sent, recv := rep.Counters[CounterMsgsOut], rep.Counters[CounterMsgsIn]
	if sent == 0 {
		t.Fatalf("no messages sent: %v", rep.Counters)
	}
	wantCounter(t, rep, CounterUpgraded, 50)
	wantCounter(t, rep, CounterMsgsIn, sent)
	wantCounter(t, rep, CounterEchoGaps, 0)
	wantCounter(t, rep, CounterEchoLost, 0)
	eventually(t, "server message counts", func() bool {
		st := srv.Stats()
		return st.MessagesIn == uint64(sent) && st.MessagesOut == uint64(recv)
	})
	eventually(t, "server connections closed", func() bool { return srv.Stats().Upgraded == 0 })
}

func TestChurnAgainstMyriad(t *testing.T) {
	srv, url := startMyriad(t)
	p := testPlan("churn", 10, url)
	p.Rate = 100
	rep := runPlan(t, p)
	wantCounter(t, rep, CounterUpgraded, 100)
	wantCounter(t, rep, CounterClosed, 100)
	wantCounter(t, rep, CounterCloseTimedOut, 0)
	wantCounter(t, rep, CounterFailed, 0)
	eventually(t, "server connections closed", func() bool { return srv.Stats().Upgraded == 0 })
	if got := srv.Stats().Upgrades; got != 100 {
		t.Errorf("server counted %d upgrades, want 100", got)
	}
}

// startMyriadGateway runs a myriad server with the pub/sub gateway on /ws
// (and its streams, /sse and /poll) and its publish API on another
// loopback port, with a history of the default bounds as the myriad
// command keeps, and returns the server, the subscribe URL and the API's
// base URL. edit, if given, changes the server's configuration.
func startMyriadGateway(t *testing.T, edit ...func(*server.Config)) (*server.Server, string, string) {
	t.Helper()
	gw, err := gateway.New(gateway.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := history.NewLocal(history.Config{})
	if err == nil {
		err = gw.UseHistory(st)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := server.Config{
		Addr:    "127.0.0.1:0",
		Logger:  zap.NewNop(),
		Routes:  map[string]server.Handler{"/ws": gw},
		Streams: gw.Streams(),
	}
	for _, e := range edit {
		e(&cfg)
	}
	srv, apiURL := serveGateway(t, gw, cfg)
	return srv, "ws://" + srv.Addr().String() + "/ws", apiURL
}

// gatewayStats is the body of the gateway API's GET /stats.
type gatewayStats struct {
	server.Stats
	Hub gateway.HubStats `json:"hub"`
}

// fetchStats reads GET /stats from the gateway's API; any goroutine may
// call it.
func fetchStats(api string) (gatewayStats, error) {
	var st gatewayStats
	resp, err := http.Get(api + "/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /stats: %s", resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

func myriadStats(t *testing.T, api string) gatewayStats {
	t.Helper()
	st, err := fetchStats(api)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestBroadcastAgainstMyriad runs broadcast against the real gateway and
// checks the report against the gateway's own counts from /stats.
func TestBroadcastAgainstMyriad(t *testing.T) {
	const conns, rate = 300, 20
	_, wsURL, api := startMyriadGateway(t)
	u, err := SubscribeURL(wsURL, "bench")
	if err != nil {
		t.Fatal(err)
	}
	p := testPlan("broadcast", conns, u)
	p.Size = 64

	// While publishing, the gateway must hold one subscription per
	// subscriber.
	var subscriptions atomic.Int64
	subscriptions.Store(-1)
	sc := &Broadcast{BroadcastParams: BroadcastParams{API: api + "/publish", PubRate: rate}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, p, sc, Options{Progress: func(pr Progress) {
		if pr.Phase == "publishing" && subscriptions.Load() < 0 {
			if st, err := fetchStats(api); err == nil {
				subscriptions.Store(st.Hub.Subscriptions)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	const published = rate
	wantCounter(t, rep, CounterUpgraded, conns)
	wantCounter(t, rep, CounterBcastPublished, published)
	wantCounter(t, rep, CounterBcastReceived, published*conns)
	wantCounter(t, rep, CounterPublishDelivered, published*conns)
	wantCounter(t, rep, CounterBcastLost, 0)
	wantCounter(t, rep, CounterBcastDuplicated, 0)
	wantCounter(t, rep, CounterBcastOutOfOrder, 0)
	wantCounter(t, rep, CounterBcastUnparsed, 0)
	wantCounter(t, rep, CounterPublishErrors, 0)
	wantCount(t, rep, HistLastSubscriber, published)
	if got := subscriptions.Load(); got != conns {
		t.Errorf("gateway subscriptions while publishing = %d, want %d", got, conns)
	}
	st := myriadStats(t, api)
	if st.Hub.Publishes != published || st.Hub.Delivered != published*conns {
		t.Errorf("gateway counted %d publishes and %d deliveries, want %d and %d", st.Hub.Publishes, st.Hub.Delivered, published, published*conns)
	}
	if st.Hub.Dropped != 0 || st.Hub.SlowClosed != 0 || st.Hub.Busy != 0 {
		t.Errorf("gateway dropped %d, slow-closed %d, refused %d as busy", st.Hub.Dropped, st.Hub.SlowClosed, st.Hub.Busy)
	}
	eventually(t, "subscriptions gone", func() bool { return myriadStats(t, api).Hub.Subscriptions == 0 })
}

// serveGateway runs a server with cfg (its routes naming gw) on a free
// loopback port, attaches gw, and serves gw's API on an httptest server;
// both stop when the test ends. It returns the server and the API's URL.
func serveGateway(t *testing.T, gw *gateway.Gateway, cfg server.Config) (*server.Server, string) {
	t.Helper()
	srv, _ := servertest.Start(t, cfg, gw.Attach)
	api := httptest.NewServer(gw.APIHandler())
	t.Cleanup(api.Close)
	return srv, api.URL
}
