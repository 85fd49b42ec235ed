package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/loadgen"
	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// TestCSVAndPlot runs echo with --csv against myriad, checks the series'
// columns and rows, and plots it.
func TestCSVAndPlot(t *testing.T) {
	_, addr := servertest.Start(t, server.Config{Logger: zap.NewNop()})
	dir := t.TempDir()
	csvPath, pngPath := filepath.Join(dir, "run.csv"), filepath.Join(dir, "run.png")
	code, stdout, stderr := runCmd(t, "echo", "--url", "ws://"+addr+"/echo", "--conns", "20", "--in-flight", "1",
		"--duration", "2500ms", "--server-pid", strconv.Itoa(os.Getpid()), "--csv", csvPath)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress redrawn in place though stderr is not a terminal")
	}
	raw, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if head := strings.SplitN(string(raw), "\n", 2)[0]; head != strings.Join(loadgen.SeriesColumns(), ",") {
		t.Fatalf("header %q", head)
	}
	rows, err := loadgen.ReadSeries(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 {
		t.Fatalf("%d rows, want one a second:\n%s", len(rows), raw)
	}
	var sending bool
	for i, r := range rows {
		if i > 0 && r.Elapsed <= rows[i-1].Elapsed {
			t.Errorf("row %d goes back in time: %+v", i, r)
		}
		if r.ServerRSS <= 0 {
			t.Errorf("row %d has no server RSS: %+v", i, r)
		}
		if r.Phase == "sending" && r.Conns == 20 && r.MsgsInPerSec > 0 && r.Latency == loadgen.HistRTT && r.P99 >= r.P50 {
			sending = true
		}
	}
	if !sending {
		t.Errorf("no row shows the echo traffic:\n%s", raw)
	}

	code, _, stderr = runCmd(t, "plot", "--csv", csvPath, "--out", pngPath, "--width", "720", "--height", "480")
	if code != exitOK {
		t.Fatalf("plot exit %d: %s", code, stderr)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 720 || b.Dy() != 480 {
		t.Fatalf("png %v, want 720x480", b)
	}
}

func TestPlotArguments(t *testing.T) {
	dir := t.TempDir()
	notCSV := filepath.Join(dir, "x.csv")
	if err := os.WriteFile(notCSV, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "o.png")
	cases := []struct {
		name string
		args []string
		code int
		has  string
	}{
		{name: "nothing", args: []string{"plot"}, code: exitUsage, has: "--csv"},
		{name: "no out", args: []string{"plot", "--csv", notCSV}, code: exitUsage, has: "--out"},
		{name: "tiny", args: []string{"plot", "--csv", notCSV, "--out", out, "--width", "10"}, code: exitUsage, has: "size"},
		{name: "missing file", args: []string{"plot", "--csv", filepath.Join(dir, "none.csv"), "--out", out}, code: exitRun, has: "no such file"},
		{name: "not a series", args: []string{"plot", "--csv", notCSV, "--out", out}, code: exitRun, has: "header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.has) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.has)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("a failed plot left a file")
			}
		})
	}
}
