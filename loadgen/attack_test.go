package loadgen

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/server"
)

// startAttacked starts a server with cfg and the gateway on /ws, and
// returns it with its base ws:// URL and the API's URL.
func startAttacked(t *testing.T, cfg server.Config) (*server.Server, string, string) {
	t.Helper()
	gw, err := gateway.New(gateway.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = zap.NewNop()
	cfg.Routes = map[string]server.Handler{"/ws": gw, "/echo": server.Echo{}}
	srv, apiURL := serveGateway(t, gw, cfg)
	return srv, "ws://" + srv.Addr().String(), apiURL
}

// TestAttackScenarios runs each attack at small scale against a server
// configured to shed it, and checks that the report shows the server
// closing every attack connection and still upgrading a fresh client.
func TestAttackScenarios(t *testing.T) {
	const conns = 30
	cases := []struct {
		name    string
		sc      *Attack
		cfg     server.Config
		path    string
		publish bool // publish to topic t while the attack holds
	}{
		{"flood", NewFlood(), server.Config{MaxConns: 10, HandshakeTimeout: 200 * time.Millisecond}, "/echo", false},
		{"slowloris", &Attack{kind: attackSlowloris, Interval: 20 * time.Millisecond}, server.Config{HandshakeTimeout: 300 * time.Millisecond}, "/echo", false},
		{"slow-readers", NewSlowReaders(), server.Config{MaxOutbound: 64 << 10, SocketSendBuffer: 4 << 10, CloseTimeout: 300 * time.Millisecond}, "/ws?topics=t", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, base, api := startAttacked(t, tc.cfg)
			stop := make(chan struct{})
			defer close(stop)
			if tc.publish {
				go publishLoop(api, stop)
			}
			p := testPlan(tc.sc.Name(), conns, base+tc.path)
			rep := runScenario(t, p, tc.sc)
			wantCounter(t, rep, CounterAttackOpened, conns)
			wantCounter(t, rep, CounterAttackClosed, conns)
			wantCounter(t, rep, CounterAttackOpenEnd, 0)
			wantCounter(t, rep, CounterAttackProbeOK, 1)
			st := srv.Stats()
			if tc.name == "flood" && st.Shed == 0 {
				t.Errorf("flood past MaxConns shed nothing: %+v", st)
			}
			if tc.name == "slow-readers" && st.SlowConsumers != conns {
				t.Errorf("SlowConsumers = %d, want %d", st.SlowConsumers, conns)
			}
		})
	}
}

// publishLoop publishes 8 KiB messages to topic t until stop is closed.
func publishLoop(api string, stop <-chan struct{}) {
	body := `{"topic":"t","data":"` + strings.Repeat("x", 8<<10) + `"}`
	for {
		select {
		case <-stop:
			return
		default:
		}
		resp, err := http.Post(api+"/publish", "application/json", strings.NewReader(body))
		if err == nil {
			_ = resp.Body.Close()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAttackRefusesRemoteTargets keeps the attacks on this host.
func TestAttackRefusesRemoteTargets(t *testing.T) {
	for _, sc := range []*Attack{NewFlood(), NewSlowloris(), NewSlowReaders()} {
		p := testPlan(sc.Name(), 1, "ws://192.0.2.1:80/")
		if err := sc.Check(p); err == nil {
			t.Errorf("%s accepted a non-loopback target", sc.Name())
		}
		p = testPlan(sc.Name(), MaxAttackConns+1, "ws://127.0.0.1:80/")
		if err := sc.Check(p); err == nil {
			t.Errorf("%s accepted %d connections", sc.Name(), p.Conns)
		}
	}
}
