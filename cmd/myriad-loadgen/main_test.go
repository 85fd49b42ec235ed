package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/myriadws/myriad/loadgen"
)

func TestMain(m *testing.M) {
	// --procs re-executes os.Executable(), which under test is this test
	// binary: act as the worker then.
	if len(os.Args) > 1 && os.Args[1] == workerCommand {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// runCmd runs the command line and returns its exit code and outputs.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestArguments(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		stdoutHas []string
		stderrHas []string
	}{
		{name: "help", args: []string{"help"}, code: exitOK, stdoutHas: []string{"idle", "echo", "churn", "broadcast", "--url", "--procs", "--source", "--topic", "--api", "--api-key", "--pub-rate", "merge", "sse", "reconnect", "--mode", "--wave-at", "--wave-spread", "--reconnect-delay"}},
		{name: "--help", args: []string{"--help"}, code: exitOK, stdoutHas: []string{"scenarios:"}},
		{name: "nothing", args: nil, code: exitUsage, stderrHas: []string{"missing scenario"}},
		{name: "unknown scenario", args: []string{"stampede", "--url", "ws://127.0.0.1:1/"}, code: exitUsage, stderrHas: []string{`unknown scenario "stampede"`, "churn, echo, flood, idle, reconnect, slow-readers, slowloris, sse"}},
		{name: "flag before scenario", args: []string{"--conns", "5", "idle"}, code: exitUsage, stderrHas: []string{"scenario comes first"}},
		{name: "unknown flag", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "--bogus"}, code: exitUsage, stderrHas: []string{"bogus"}},
		{name: "no url", args: []string{"idle", "--conns", "5"}, code: exitUsage, stderrHas: []string{"no target"}},
		{name: "bad url", args: []string{"idle", "--url", "http://127.0.0.1:1/"}, code: exitUsage, stderrHas: []string{"ws://"}},
		{name: "bad source", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "--source", "127.0.0.9-127.0.0.2"}, code: exitUsage, stderrHas: []string{"source"}},
		{name: "bad server pid", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "--server-pid", "x"}, code: exitUsage, stderrHas: []string{"process id"}},
		{name: "echo payload too small", args: []string{"echo", "--url", "ws://127.0.0.1:1/", "--size", "8"}, code: exitUsage, stderrHas: []string{"--size"}},
		{name: "broadcast api not http", args: []string{"broadcast", "--url", "ws://127.0.0.1:1/", "--api", "ws://127.0.0.1:1/publish"}, code: exitUsage, stderrHas: []string{"--api", "http://"}},
		{name: "sse unknown mode", args: []string{"sse", "--url", "ws://127.0.0.1:1/", "--mode", "flood"}, code: exitUsage, stderrHas: []string{"--mode", "idle", "broadcast"}},
		{name: "sse target not http", args: []string{"sse", "--url", "wss://127.0.0.1:1/"}, code: exitUsage, stderrHas: []string{"ws:// or http://"}},
		{name: "reconnect wave after the end", args: []string{"reconnect", "--url", "ws://127.0.0.1:1/", "--duration", "5s", "--wave-at", "5s"}, code: exitUsage, stderrHas: []string{"--wave-at", "--duration"}},
		{name: "reconnect negative delay", args: []string{"reconnect", "--url", "ws://127.0.0.1:1/", "--reconnect-delay", "-1s"}, code: exitUsage, stderrHas: []string{"--reconnect-delay"}},
		{name: "broadcast negative pub-rate", args: []string{"broadcast", "--url", "ws://127.0.0.1:1/", "--pub-rate", "-1"}, code: exitUsage, stderrHas: []string{"--pub-rate"}},
		{name: "churn without rate", args: []string{"churn", "--url", "ws://127.0.0.1:1/"}, code: exitUsage, stderrHas: []string{"--rate"}},
		{name: "stray argument", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "extra"}, code: exitUsage, stderrHas: []string{`"extra"`}},
		{name: "merge nothing", args: []string{"merge"}, code: exitUsage, stderrHas: []string{"reports to merge"}},
		{name: "procs zero", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "--procs", "0"}, code: exitUsage, stderrHas: []string{"auto"}},
		{name: "sources not auto", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "--sources", "127.0.0.2"}, code: exitUsage, stderrHas: []string{"--source"}},
		{name: "sources auto with --source", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "--sources", "auto", "--source", "127.0.0.2"}, code: exitUsage, stderrHas: []string{"exclude"}},
		{name: "capacity rss slo without pid", args: []string{"capacity", "--url", "ws://127.0.0.1:1/", "--slo-rss-per-conn", "2KiB"}, code: exitUsage, stderrHas: []string{"--server-pid"}},
		{name: "capacity bad size", args: []string{"capacity", "--url", "ws://127.0.0.1:1/", "--slo-rss-per-conn", "lots"}, code: exitUsage, stderrHas: []string{"size"}},
		{name: "in-flight negative", args: []string{"echo", "--url", "ws://127.0.0.1:1/", "--in-flight", "-2"}, code: exitUsage, stderrHas: []string{"--in-flight"}},
		{name: "merge missing file", args: []string{"merge", "/nonexistent/a.json"}, code: exitRun, stderrHas: []string{"nonexistent"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdoutHas {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.stderrHas {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

// echoServer is a gorilla/websocket echo server for end-to-end runs.
func echoServer(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(mt, p) != nil {
				return
			}
		}
	}))
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/"
}

// TestRunAndMerge runs two short scenarios end to end, one of them over
// two worker processes, then merges their JSON reports.
func TestRunAndMerge(t *testing.T) {
	url := echoServer(t)
	dir := t.TempDir()
	a, b, merged := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json"), filepath.Join(dir, "m.json")

	code, stdout, stderr := runCmd(t, "idle", "--url", url, "--conns", "20", "--duration", "300ms", "--settle", "50ms", "--json", a)
	if code != exitOK {
		t.Fatalf("idle: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "conns_upgraded") || !strings.Contains(stderr, "open 20") {
		t.Errorf("idle: no report table or progress line\nstdout: %s\nstderr: %s", stdout, stderr)
	}
	code, stdout, stderr = runCmd(t, "echo", "--url", url, "--conns", "10", "--msg-rate", "20", "--duration", "300ms", "--procs", "2", "--quiet", "--json", b)
	if code != exitOK {
		t.Fatalf("echo --procs 2: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCmd(t, "merge", a, b, "--json", merged)
	if code != exitOK {
		t.Fatalf("merge: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "idle+echo") {
		t.Errorf("merged table does not name both scenarios:\n%s", stdout)
	}
	ra, err := loadgen.ReadReportFile(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := loadgen.ReadReportFile(b)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := loadgen.ReadReportFile(merged)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Procs != 2 {
		t.Errorf("echo report procs = %d, want 2", rb.Procs)
	}
	if got, want := rm.Counters[loadgen.CounterUpgraded], ra.Counters[loadgen.CounterUpgraded]+rb.Counters[loadgen.CounterUpgraded]; got != want || want != 30 {
		t.Errorf("merged upgraded = %d, want %d (= 30)", got, want)
	}
	if rm.Counters[loadgen.CounterMsgsIn] == 0 || rm.Counters[loadgen.CounterMsgsIn] != rb.Counters[loadgen.CounterMsgsIn] {
		t.Errorf("merged messages %d, echo run %d", rm.Counters[loadgen.CounterMsgsIn], rb.Counters[loadgen.CounterMsgsIn])
	}
}

// gateway is a minimal pub/sub gateway (gorilla/websocket and net/http):
// /ws?topics=T subscribes, POST /publish {"topic","data"} sends
// {"topic","data"} to the topic's subscribers and answers {"delivered":N}.
type gateway struct {
	mu        sync.Mutex
	subs      map[string][]chan []byte
	publishes atomic.Int64
}

func startGateway(t *testing.T) (g *gateway, ws, api string) {
	t.Helper()
	g = &gateway{subs: map[string][]chan []byte{}}
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		topic := r.URL.Query().Get("topics")
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		out := make(chan []byte, 256)
		g.mu.Lock()
		g.subs[topic] = append(g.subs[topic], out)
		g.mu.Unlock()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
		for {
			select {
			case <-done:
				return
			case m := <-out:
				if c.WriteMessage(websocket.TextMessage, m) != nil {
					return
				}
			}
		}
	})
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		g.publishes.Add(1)
		var req struct {
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		msg, _ := json.Marshal(req)
		g.mu.Lock()
		subs := g.subs[req.Topic]
		for _, out := range subs {
			out <- msg
		}
		g.mu.Unlock()
		fmt.Fprintf(w, `{"delivered":%d}`, len(subs))
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return g, "ws" + strings.TrimPrefix(hs.URL, "http"), hs.URL + "/publish"
}

// TestBroadcastCommand runs broadcast from the command line over two
// worker processes: the subscribe URL is built from --topic, the parent
// publishes each message once, and every subscriber gets every message.
func TestBroadcastCommand(t *testing.T) {
	g, ws, api := startGateway(t)
	out := filepath.Join(t.TempDir(), "b.json")
	code, stdout, stderr := runCmd(t, "broadcast", "--url", ws, "--api", api, "--topic", "news",
		"--conns", "40", "--pub-rate", "20", "--duration", "500ms", "--settle", "100ms", "--procs", "2", "--quiet", "--json", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	rep, err := loadgen.ReadReportFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Targets) != 1 || !strings.HasSuffix(rep.Targets[0], "/ws?topics=news") {
		t.Errorf("targets %q, want the /ws?topics=news URL", rep.Targets)
	}
	want := map[string]int64{
		loadgen.CounterBcastPublished:   10,
		loadgen.CounterBcastSubscribers: 40,
		loadgen.CounterBcastReceived:    400,
		loadgen.CounterPublishDelivered: 400,
		loadgen.CounterBcastLost:        0,
		loadgen.CounterBcastDuplicated:  0,
		loadgen.CounterBcastOutOfOrder:  0,
	}
	for k, v := range want {
		if rep.Counters[k] != v {
			t.Errorf("counter %s = %d, want %d", k, rep.Counters[k], v)
		}
	}
	if n := g.publishes.Load(); n != 10 {
		t.Errorf("gateway saw %d publishes, want 10", n)
	}
	if !strings.Contains(stdout, "lost 0 (0 subscribers)") {
		t.Errorf("no broadcast summary in the table:\n%s", stdout)
	}
}
