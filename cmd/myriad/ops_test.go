package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/server"
)

// ioWait bounds every wait of these tests; it guards against hangs only.
const ioWait = 20 * time.Second

// runningNode is the myriad command running in-process on free ports.
type runningNode struct {
	addr, apiAddr string
	sigs          chan os.Signal
	exited        chan struct{} // closed when run has returned
	code          int           // run's exit code, once exited is closed
	stderr        *syncBuffer
}

// startCommand runs the command with args (plus --addr and --api-addr on
// free ports) and env, and waits until /healthz answers. Unless the test
// stops it first, it is drained and waited for when the test ends.
func startCommand(t *testing.T, env map[string]string, args ...string) *runningNode {
	t.Helper()
	n := &runningNode{addr: freePort(t), apiAddr: freePort(t), sigs: make(chan os.Signal, 2), exited: make(chan struct{}), stderr: &syncBuffer{}}
	args = append([]string{"--addr", n.addr, "--api-addr", n.apiAddr, "--drain-timeout", "1s", "--log-level", "warn"}, args...)
	go func() {
		defer close(n.exited)
		n.code = run(context.Background(), args, envFrom(env), io.Discard, n.stderr, n.sigs)
	}()
	t.Cleanup(func() {
		select {
		case n.sigs <- syscall.SIGTERM:
		default:
		}
		select {
		case <-n.exited:
		case <-time.After(ioWait):
			t.Error("command did not exit")
		}
	})
	eventually(t, "the API listener", func() bool { s, _ := n.get(t, "/healthz", ""); return s == http.StatusOK })
	return n
}

// get fetches path from the API listener with an optional bearer key; a
// refused connection is status 0.
func (n *runningNode) get(t *testing.T, path, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+n.apiAddr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := (&http.Client{Timeout: ioWait}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReadyzDuringDrain holds a client that never answers the close
// frame, so the drain lasts its whole timeout: /readyz says 503 while it
// runs and /healthz stays 200.
func TestReadyzDuringDrain(t *testing.T) {
	n := startCommand(t, nil, "--drain-timeout", "3s")
	eventually(t, "readiness", func() bool { s, _ := n.get(t, "/readyz", ""); return s == http.StatusOK })
	c := dialRetry(t, "ws://"+n.addr+"/echo")
	defer c.Close()
	n.sigs <- syscall.SIGTERM
	eventually(t, "/readyz to report the drain", func() bool {
		s, body := n.get(t, "/readyz", "")
		return s == http.StatusServiceUnavailable && strings.TrimSpace(body) == "draining"
	})
	if s, _ := n.get(t, "/healthz", ""); s != http.StatusOK {
		t.Fatalf("/healthz %d during the drain, want 200", s)
	}
	select {
	case <-n.exited:
		if n.code != 0 {
			t.Fatalf("exit code %d; stderr: %s", n.code, n.stderr.String())
		}
	case <-time.After(ioWait):
		t.Fatal("no exit after the drain")
	}
}

// TestReadinessStates checks the answers /readyz gives for servers that
// have not started, serve, and have stopped, and for a failing check (the
// hook a broker link will use).
func TestReadinessStates(t *testing.T) {
	newServer := func(t *testing.T) *server.Server {
		srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Routes: map[string]server.Handler{"/echo": server.Echo{}}})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	serve := func(t *testing.T, srv *server.Server) {
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve() }()
		select {
		case <-srv.Ready():
		case err := <-errc:
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close(); <-errc })
	}
	cases := []struct {
		name   string
		setup  func(t *testing.T, srv *server.Server)
		checks func(t *testing.T) []func() error
		status int
		body   string
	}{
		{"not started", func(*testing.T, *server.Server) {}, nil, 503, "not listening yet"},
		{"serving", serve, nil, 200, "ready"},
		{"broker unreachable", serve, unreachableBroker, 503, "broker connecting"},
		{"stopped", func(t *testing.T, srv *server.Server) {
			serve(t, srv)
			_ = srv.Close()
			<-srv.Done()
		}, nil, 503, "stopped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			tc.setup(t, srv)
			var checks []func() error
			if tc.checks != nil {
				checks = tc.checks(t)
			}
			hs := httptest.NewServer(&readiness{srv: srv, checks: checks})
			defer hs.Close()
			resp, err := http.Get(hs.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || strings.TrimSpace(string(b)) != tc.body {
				t.Fatalf("%d %q, want %d %q", resp.StatusCode, b, tc.status, tc.body)
			}
		})
	}
}

// unreachableBroker is the readiness check of a node whose broker has
// never answered: a real client dialling a loopback port nobody listens on.
func unreachableBroker(t *testing.T) []func() error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + ln.Addr().String()
	ln.Close()
	bc, err := broker.Connect(broker.Config{URL: url}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bc.Close() })
	return brokerChecks(bc)
}

// TestPprofFlag mounts pprof only with --pprof, behind the key.
func TestPprofFlag(t *testing.T) {
	const key = "pprof-test-key"
	cases := []struct {
		name   string
		args   []string
		key    string
		status int
	}{
		{"off by default", nil, key, http.StatusNotFound},
		{"on", []string{"--pprof"}, key, http.StatusOK},
		{"on without the key", []string{"--pprof"}, "", http.StatusUnauthorized},
		{"on with a wrong key", []string{"--pprof"}, "guess", http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := startCommand(t, map[string]string{"MYRIAD_API_KEY": key}, tc.args...)
			status, body := n.get(t, "/debug/pprof/", tc.key)
			if status != tc.status {
				t.Fatalf("/debug/pprof/: %d, want %d: %.200s", status, tc.status, body)
			}
			if status == http.StatusOK && !strings.Contains(body, "goroutine") {
				t.Fatalf("pprof index without profiles: %.200s", body)
			}
		})
	}
}

// TestAPIListenerRoutes checks who may see what with an API key set:
// health for anyone, metrics and readings only with the key, the page for
// anyone (it holds no data), and the publish API as before.
func TestAPIListenerRoutes(t *testing.T) {
	const key = "routes-test-key"
	n := startCommand(t, map[string]string{"MYRIAD_API_KEY": key})
	cases := []struct {
		name   string
		path   string
		key    string
		status int
		has    string
	}{
		{"healthz open", "/healthz", "", 200, "ok"},
		{"readyz open", "/readyz", "", 200, "ready"},
		{"metrics need the key", "/metrics", "", 401, ""},
		{"metrics wrong key", "/metrics", "nope", 401, ""},
		{"metrics", "/metrics", key, 200, "myriad_connections_open"},
		{"dashboard page open", "/", "", 200, "<title>myriad</title>"},
		{"dashboard says a key is needed", "/dashboard/auth", "", 200, `"required":true`},
		{"dashboard readings need the key", "/dashboard/data", "", 401, ""},
		{"dashboard readings", "/dashboard/data", key, 200, `"loops"`},
		{"gateway stats need the key", "/stats", "", 401, ""},
		{"gateway stats", "/stats", key, 200, `"hub"`},
		{"unknown path", "/nope", key, 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := n.get(t, tc.path, tc.key)
			if status != tc.status || !strings.Contains(body, tc.has) {
				t.Fatalf("GET %s: %d %.300q, want %d with %q", tc.path, status, body, tc.status, tc.has)
			}
		})
	}
	// The exposition parses with Prometheus's own parser and counts a
	// client once it has connected.
	c := dialRetry(t, "ws://"+n.addr+"/echo")
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte("x")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the metrics to count the client", func() bool {
		_, body := n.get(t, "/metrics", key)
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		for _, m := range fams["myriad_connections_open"].GetMetric() {
			if m.GetLabel()[0].GetValue() == "/echo" && m.GetGauge().GetValue() == 1 {
				return fams["myriad_messages_in_total"].GetMetric()[0].GetCounter().GetValue() == 1
			}
		}
		return false
	})
}
