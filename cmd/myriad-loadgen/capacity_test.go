package main

import (
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/loadgen"
	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// TestCapacityCommandOverProcs runs capacity over two worker processes
// against a real myriad: the parent steps both workers, and the result
// is the ceiling when the SLOs hold, or the first step when one cannot.
func TestCapacityCommandOverProcs(t *testing.T) {
	_, addr := servertest.Start(t, server.Config{Logger: zap.NewNop()})
	url := "ws://" + addr + "/echo"
	cases := []struct {
		name      string
		extra     []string
		wantBroke string
		wantHeld  int64
		wantSteps int
	}{
		{name: "slo met up to --conns", extra: []string{"--slo-p99", "30s"}, wantBroke: loadgen.SLOMaxConns, wantHeld: 40, wantSteps: 2},
		{name: "p99 that cannot be met", extra: []string{"--slo-p99", "1ns"}, wantBroke: loadgen.SLOP99, wantHeld: 0, wantSteps: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "c.json")
			args := append([]string{"capacity", "--url", url, "--conns", "40", "--step", "20", "--step-hold", "100ms",
				"--procs", "2", "--quiet", "--json", out}, tc.extra...)
			code, stdout, stderr := runCmd(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			rep, err := loadgen.ReadReportFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var res loadgen.CapacityResult
			if ok, err := rep.ReportPart(loadgen.CapacityPart, &res); !ok || err != nil {
				t.Fatalf("no capacity part (%v) in %v", err, rep.Parts)
			}
			if res.Broke != tc.wantBroke || res.Held != tc.wantHeld || len(res.Steps) != tc.wantSteps || rep.Procs != 2 {
				t.Fatalf("result %+v over %d procs, want broke %s held %d in %d steps", res, rep.Procs, tc.wantBroke, tc.wantHeld, tc.wantSteps)
			}
			if !strings.Contains(stdout, "capacity: held") {
				t.Errorf("no capacity summary in the table:\n%s", stdout)
			}
		})
	}
}

func TestByteSizeFlag(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2KiB", 2048, true}, {"900B", 900, true}, {"1.5MiB", 3 << 19, true}, {"0", 0, true}, {"12", 12, true},
		{"-1KiB", 0, false}, {"KiB", 0, false}, {"2KB", 0, false}, {"1e30GiB", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			var b byteSize
			err := b.Set(tc.in)
			if (err == nil) != tc.ok || (tc.ok && int64(b) != tc.want) {
				t.Fatalf("Set(%q) = %d, %v", tc.in, b, err)
			}
		})
	}
}

// TestAutoSizingPrinted: --procs auto and --sources auto say what they
// chose before the run, and a small run needs one process and no sources.
func TestAutoSizingPrinted(t *testing.T) {
	_, addr := servertest.Start(t, server.Config{Logger: zap.NewNop()})
	code, stdout, stderr := runCmd(t, "idle", "--url", "ws://"+addr+"/echo", "--conns", "10", "--duration", "50ms",
		"--settle", "10ms", "--procs", "auto", "--sources", "auto", "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "auto: procs 1:") || !strings.Contains(stderr, "sources: default") {
		t.Fatalf("auto sizing not printed:\n%s", stderr)
	}
	if !strings.Contains(stdout, "procs 1") {
		t.Fatalf("report not from one process:\n%s", stdout)
	}
}
