package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRunProcs runs idle over two worker processes (this test binary,
// re-executed; see TestMain) and checks the merged report against the
// server's count.
func TestRunProcs(t *testing.T) {
	const conns = 100
	srv := startGorilla(t, false, 0)
	p := testPlan("idle", conns, srv.URL)
	p.ServerPIDs = []int{os.Getpid()} // the server runs in this process
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress []Progress
	rep, err := RunProcs(ctx, p, new(Idle), 2, Workers{
		Exe: os.Args[0],
		Env: []string{"LOADGEN_TEST_WORKER=1"},
	}, Options{Progress: func(pr Progress) { progress = append(progress, pr) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Procs != 2 {
		t.Errorf("procs = %d, want 2", rep.Procs)
	}
	wantCounter(t, rep, CounterUpgraded, conns)
	wantCounter(t, rep, CounterFailed, 0)
	eventually(t, "server upgrades", func() bool { return srv.upgraded.Load() == conns })
	if got := rep.Latency[HistConnect].Summary().Count; got != conns {
		t.Errorf("merged connect histogram holds %d values, want %d", got, conns)
	}
	if len(rep.Memory.Servers) != 1 || rep.Memory.Servers[0].Conns != conns || rep.Memory.Servers[0].RSSAfter <= 0 {
		t.Errorf("server memory %+v, want one sample after %d connections", rep.Memory.Servers, conns)
	}
	if rep.Memory.LoadgenConns != conns {
		t.Errorf("loadgen memory sampled with %d conns, want %d", rep.Memory.LoadgenConns, conns)
	}
	if len(progress) == 0 || progress[len(progress)-1].Procs != 2 {
		t.Errorf("no merged progress from both workers: %+v", progress)
	}
}

// TestServeWorkerRefusesBadStarts feeds ServeWorker first lines a parent
// would never send: each must fail before connecting anywhere, and say why
// on stdout when it got far enough to have a plan.
func TestServeWorkerRefusesBadStarts(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantOut string // in the error line; "" for no line
	}{
		{name: "not JSON", in: "plan please\n"},
		{name: "unknown scenario", in: `{"plan":{"scenario":"nope","targets":["ws://127.0.0.1:1/"],"conns":1}}` + "\n", wantOut: "unknown scenario"},
		{
			name:    "parameters of the wrong type",
			in:      `{"plan":{"scenario":"broadcast","targets":["ws://127.0.0.1:1/"],"conns":1},"params":{"pub_rate":"fast"}}` + "\n",
			wantOut: "scenario's parameters",
		},
		{
			name:    "parameters the scenario refuses",
			in:      `{"plan":{"scenario":"broadcast","targets":["ws://127.0.0.1:1/"],"conns":1},"params":{"api":"ftp://x/"}}` + "\n",
			wantOut: "error",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := ServeWorker(ctx, strings.NewReader(tc.in), &out, nil); err == nil {
				t.Fatal("ServeWorker accepted it")
			}
			if tc.wantOut == "" {
				if out.Len() != 0 {
					t.Errorf("wrote %q", out.String())
				}
				return
			}
			var m workerMsg
			if err := json.Unmarshal(out.Bytes(), &m); err != nil || m.Error == "" || m.Report != nil {
				t.Fatalf("output %q is not one error line", out.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("error line %q does not mention %q", out.String(), tc.wantOut)
			}
		})
	}
}
