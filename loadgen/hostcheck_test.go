package loadgen

import (
	"net/netip"
	"strings"
	"testing"
)

func TestFDAdvice(t *testing.T) {
	p := Plan{Conns: 38000, Loops: 2, DialWorkers: 32}
	tests := []struct {
		name       string
		procs      int
		soft, hard int64
		want       string // substring; "" means no warning
	}{
		{name: "fits", procs: 2, soft: 20000, hard: 20000, want: ""},
		{name: "needs more processes", procs: 1, soft: 20000, hard: 20000, want: "add --procs 2"},
		{name: "soft limit low", procs: 2, soft: 1024, hard: 20000, want: "ulimit -n 20000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fdAdvice(p, tc.procs, tc.soft, tc.hard)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("fdAdvice = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPortAdvice(t *testing.T) {
	one := []string{"ws://127.0.0.1:8080/echo"}
	two := []string{"ws://127.0.0.1:8080/echo", "ws://127.0.0.1:8081/echo"}
	tests := []struct {
		name    string
		plan    Plan
		lo, hi  int
		twReuse int
		want    []string // substrings; nil means no warning
	}{
		{name: "fits the default range", plan: Plan{Targets: one, Conns: 19000}, lo: 32768, hi: 60999},
		{name: "two targets double the ports", plan: Plan{Targets: two, Conns: 100000}, lo: 1024, hi: 65535},
		{
			name: "narrow range",
			plan: Plan{Targets: one, Conns: 40000}, lo: 32768, hi: 60999,
			want: []string{`ip_local_port_range="1024 65535"`},
		},
		{
			name: "past one pair's ports",
			plan: Plan{Targets: one, Conns: 200000}, lo: 1024, hi: 65535,
			want: []string{"add --source 127.0.0.2-127.0.0.5"},
		},
		{
			name: "churn without TIME_WAIT reuse",
			plan: Plan{Scenario: "churn", Targets: one, Conns: 1000, Rate: 2000}, lo: 1024, hi: 65535, twReuse: 0,
			want: []string{"tcp_tw_reuse=1"},
		},
		{
			name: "churn with reuse",
			plan: Plan{Scenario: "churn", Targets: one, Conns: 1000, Rate: 2000}, lo: 1024, hi: 65535, twReuse: 1,
		},
		{
			name: "sources already enough",
			plan: Plan{Targets: one, Conns: 200000, Sources: mustSources(t, "127.0.0.2-127.0.0.6")}, lo: 1024, hi: 65535,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := portAdvice(tc.plan, tc.lo, tc.hi, tc.twReuse)
			if tc.want == nil {
				if got != "" {
					t.Fatalf("unexpected warning %q", got)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Fatalf("portAdvice = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

func mustSources(t *testing.T, s string) []netip.Addr {
	t.Helper()
	a, err := ParseSources(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCPUWatch(t *testing.T) {
	w := &cpuWatch{cores: 2}
	// One busy second is not enough; three in a row are.
	w.observe(1900, 1)
	if w.warning(1) != "" {
		t.Fatal("warned after one saturated sample")
	}
	w.observe(1900+100, 2) // idle second breaks the run
	w.observe(2000+1900, 3)
	w.observe(3900+1950, 4)
	w.observe(5850+1990, 5)
	got := w.warning(1)
	if !strings.Contains(got, "add --procs") || !strings.Contains(got, "3s") {
		t.Fatalf("warning %q", got)
	}
}
