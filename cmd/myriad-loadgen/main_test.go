package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
		{name: "help", args: []string{"help"}, code: exitOK, stdoutHas: []string{"idle", "echo", "churn", "--url", "--procs", "--source", "merge"}},
		{name: "--help", args: []string{"--help"}, code: exitOK, stdoutHas: []string{"scenarios:"}},
		{name: "nothing", args: nil, code: exitUsage, stderrHas: []string{"missing scenario"}},
		{name: "unknown scenario", args: []string{"stampede", "--url", "ws://127.0.0.1:1/"}, code: exitUsage, stderrHas: []string{`unknown scenario "stampede"`, "churn, echo, idle"}},
		{name: "flag before scenario", args: []string{"--conns", "5", "idle"}, code: exitUsage, stderrHas: []string{"scenario comes first"}},
		{name: "unknown flag", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "--bogus"}, code: exitUsage, stderrHas: []string{"bogus"}},
		{name: "no url", args: []string{"idle", "--conns", "5"}, code: exitUsage, stderrHas: []string{"no target"}},
		{name: "bad url", args: []string{"idle", "--url", "http://127.0.0.1:1/"}, code: exitUsage, stderrHas: []string{"ws://"}},
		{name: "bad source", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "--source", "127.0.0.9-127.0.0.2"}, code: exitUsage, stderrHas: []string{"source"}},
		{name: "bad server pid", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "--server-pid", "x"}, code: exitUsage, stderrHas: []string{"process id"}},
		{name: "echo payload too small", args: []string{"echo", "--url", "ws://127.0.0.1:1/", "--size", "8"}, code: exitUsage, stderrHas: []string{"--size"}},
		{name: "churn without rate", args: []string{"churn", "--url", "ws://127.0.0.1:1/"}, code: exitUsage, stderrHas: []string{"--rate"}},
		{name: "stray argument", args: []string{"idle", "--url", "ws://127.0.0.1:1/", "extra"}, code: exitUsage, stderrHas: []string{`"extra"`}},
		{name: "merge nothing", args: []string{"merge"}, code: exitUsage, stderrHas: []string{"reports to merge"}},
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
