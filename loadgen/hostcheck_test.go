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
	tests := []struct {
		name    string
		samples []int64 // cumulative CPU ms, one per wall second
		want    string
	}{
		{name: "idle", samples: []int64{100, 200, 300}},
		{name: "one busy second", samples: []int64{1900, 2000, 2100}},
		{name: "three busy seconds", samples: []int64{1900, 2000, 3900, 5850, 7840}, want: "for 3s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &cpuWatch{cores: 2}
			// Feed the process samples only: the host's own load is not
			// the test's to control.
			for _, ms := range tc.samples {
				w.own.add(float64(ms-w.lastCPU)/1000/float64(w.cores), 1)
				w.lastCPU = ms
			}
			got := w.warning()
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("warning %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHostCPU(t *testing.T) {
	busy, total, err := hostCPU()
	if err != nil {
		t.Skipf("no /proc/stat: %v", err)
	}
	if busy <= 0 || total < busy {
		t.Fatalf("busy %d of %d", busy, total)
	}
}
