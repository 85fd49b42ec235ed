package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestQuickRun runs the whole harness at smoke size: it builds every
// binary, starts every server for every kind of run and reads the load
// generator's reports. It asserts that the table has every row and every
// server with a positive figure, never what the figures are.
func TestQuickRun(t *testing.T) {
	cfg := Quick()
	cfg.WorkDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.Metrics) == 0 {
		t.Fatal("no metrics")
	}
	for _, m := range res.Metrics {
		for _, s := range AllServers() {
			st := res.Stat(m.Key, s)
			if st.N != cfg.Rounds {
				t.Errorf("%s %s: %d values, want %d", m.Key, s, st.N, cfg.Rounds)
			}
			if !(st.Median > 0) {
				t.Errorf("%s %s: median %v, want > 0", m.Key, s, st.Median)
			}
		}
	}
	var b strings.Builder
	if err := res.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	table := b.String()
	for _, m := range res.Metrics {
		line := lineWith(table, m.Label)
		if line == "" {
			t.Errorf("table has no row %q:\n%s", m.Label, table)
			continue
		}
		if strings.Contains(line, " - ") || strings.HasSuffix(line, " -") {
			t.Errorf("row %q has an empty cell: %s", m.Label, line)
		}
		if n := strings.Count(line, "×"); n != len(AllServers())-1 {
			t.Errorf("row %q has %d ratios, want %d: %s", m.Label, n, len(AllServers())-1, line)
		}
	}
	header := lineWith(table, "metric")
	for _, s := range AllServers() {
		if !strings.Contains(header, s) {
			t.Errorf("table header lacks %s: %q", s, header)
		}
	}
	if len(res.Problems) > 0 {
		t.Logf("problems (not failures at smoke size on a shared machine):\n%s", strings.Join(res.Problems, "\n"))
	}
	t.Logf("\n%s", table)
}

// lineWith returns the first line of s starting with prefix.
func lineWith(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix+" ") {
			return l
		}
	}
	return ""
}
