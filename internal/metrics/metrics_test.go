package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// node is a server with a gateway on /ws and echo on /echo, and the
// metrics handler on an HTTP server of its own.
type node struct {
	srv  *server.Server
	addr string
	gw   *gateway.Gateway
	url  string // base URL of the metrics server
}

func startNode(t *testing.T) *node {
	t.Helper()
	gw, err := gateway.New(gateway.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv, addr := servertest.Start(t, server.Config{Loops: 2, Routes: map[string]server.Handler{"/echo": server.Echo{}, "/ws": gw}}, gw.Attach)
	h := Handler(NewCollector(Sources{Server: srv, Gateway: gw}), zap.NewNop())
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return &node{srv: srv, addr: addr, gw: gw, url: hs.URL}
}

// scrape fetches the exposition over HTTP and parses it with
// Prometheus's own text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := (&http.Client{Timeout: servertest.IOTimeout}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: %d %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams
}

// value returns the value of the sample of family name whose labels
// include want ("k=v" pairs), or -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// sum adds the values of every sample of family name.
func sum(fams map[string]*dto.MetricFamily, name string) float64 {
	var s float64
	for _, m := range fams[name].GetMetric() {
		s += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return s
}

func TestScrapeMovesWithTraffic(t *testing.T) {
	n := startNode(t)
	before := scrape(t, n.url)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "myriad_handshake_duration_seconds"} {
		if before[name] == nil {
			t.Errorf("%s missing from the exposition", name)
		}
	}
	if v := value(before, "myriad_connections_open", "route=/ws"); v != 0 {
		t.Fatalf("open on /ws before any client: %v", v)
	}
	if _, ok := before["myriad_memory_per_connection_bytes"]; ok {
		t.Error("memory per connection reported with no connection")
	}

	echo := servertest.Dial(t, n.addr, "/echo")
	subs := []*servertest.Client{servertest.Dial(t, n.addr, "/ws?topics=news"), servertest.Dial(t, n.addr, "/ws?topics=news")}
	bad := servertest.DialTCP(t, n.addr)
	bad.Write([]byte(servertest.UpgradeRequest("/nowhere", servertest.NewKey(t))))
	if resp := bad.ReadResponse(); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
	servertest.Eventually(t, func() bool { return n.gw.Stats().Subscriptions == 2 }, "two subscriptions")
	echo.Send(true, ws.OpText, []byte("ping!"))
	echo.ExpectMessage(ws.OpText, []byte("ping!"))
	if got, err := n.gw.Publish(context.Background(), []string{"news"}, []byte(`"hello"`)); err != nil || got != 2 {
		t.Fatalf("publish delivered %d, %v", got, err)
	}
	for _, s := range subs {
		s.ReadFrame()
	}
	echo.Send(true, ws.OpClose, []byte{0x03, 0xe8})
	echo.ExpectClose(1000)
	servertest.Eventually(t, func() bool { return n.srv.Stats().Upgraded == 2 }, "the echo client to close")

	after := scrape(t, n.url)
	checks := []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"subscribers open", "myriad_connections_open", []string{"route=/ws"}, 2},
		{"echo closed", "myriad_connections_open", []string{"route=/echo"}, 0},
		{"upgrades", "myriad_upgrades_total", []string{"result=101"}, 3},
		{"refusal", "myriad_upgrades_total", []string{"result=404"}, 1},
		{"close by reason and code", "myriad_closes_total", []string{"reason=peer_close", "code=1000"}, 1},
		{"messages in", "myriad_messages_in_total", nil, 1},
		{"bytes in", "myriad_messages_in_bytes_total", nil, 5},
		{"topics", "myriad_topics", nil, 1},
		{"subscriptions", "myriad_subscriptions", nil, 2},
		{"publishes", "myriad_publishes_total", nil, 1},
		{"deliveries", "myriad_deliveries_total", nil, 2},
		{"handshakes observed", "myriad_handshake_duration_seconds", nil, 3},
		{"not draining", "myriad_draining", nil, 0},
		{"frames built for the one publish", "myriad_publish_frames_total", nil, 1},
		{"nothing shed", "myriad_connections_shed_total", nil, 0},
		{"a cap in force", "myriad_connections_max", nil, float64(n.srv.Stats().MaxConns)},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			if got := value(after, tc.metric, tc.labels...); got != tc.want {
				t.Fatalf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
			}
		})
	}
	// Echo and the two deliveries; the server counts a send just after
	// writing it, so these may trail the clients by a moment.
	servertest.Eventually(t, func() bool {
		f := scrape(t, n.url)
		return value(f, "myriad_messages_out_total") == 3 && sum(f, "myriad_loop_messages_total") == 4
	}, "messages out to reach 3")
	if v := value(after, "myriad_memory_per_connection_bytes"); v <= 0 {
		t.Errorf("memory per connection %v with connections open", v)
	}
	if got := sum(after, "myriad_loop_connections"); got != float64(n.srv.Stats().Open) {
		t.Errorf("loops hold %v connections, server %d", got, n.srv.Stats().Open)
	}
}

func TestSnapshot(t *testing.T) {
	n := startNode(t)
	servertest.Dial(t, n.addr, "/ws?topics=a,b")
	servertest.Dial(t, n.addr, "/ws?topics=a")
	servertest.Eventually(t, func() bool { return n.gw.Stats().Subscriptions == 3 }, "three subscriptions")
	ctx, cancel := context.WithTimeout(context.Background(), servertest.IOTimeout)
	defer cancel()
	s := Take(ctx, Sources{Server: n.srv, Gateway: n.gw, RSS: func() (uint64, error) { return 4 << 20, nil }})
	if s.Server.Upgraded != 2 || len(s.Loops) != 2 || s.Hub == nil || s.Hub.Topics != 2 {
		t.Fatalf("snapshot %+v", s)
	}
	if len(s.TopTopics) != 2 || s.TopTopics[0] != (gateway.TopicCount{Topic: "a", Subscribers: 2}) {
		t.Fatalf("top topics %+v", s.TopTopics)
	}
	if s.RSS != 4<<20 || s.MemPerConn != float64(4<<20)/float64(s.Server.Open) {
		t.Fatalf("rss %d, per connection %v", s.RSS, s.MemPerConn)
	}
	if s.Time.IsZero() || s.Broker != "none" {
		t.Fatalf("time %v, broker %q", s.Time, s.Broker)
	}
}

func TestReadRSS(t *testing.T) {
	rss, err := ReadRSS()
	if err != nil || rss == 0 {
		t.Fatalf("ReadRSS = %d, %v", rss, err)
	}
}
