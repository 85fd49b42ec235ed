package loadgen

import (
	"errors"
	"testing"
	"time"
)

func TestCapacitySLOJudge(t *testing.T) {
	before := capacitySample{Upgraded: 100, Failures: 0, Open: 100}
	cases := []struct {
		name  string
		slo   CapacitySLO
		after capacitySample
		rss0  int64
		last  bool
		want  string
	}{
		{name: "all met", slo: CapacitySLO{FailRate: 0.01, P99: time.Millisecond, RSSPerConn: 2048}, after: capacitySample{Upgraded: 200, Open: 200, P99: 900, RSS: 1000 + 200*2000}, rss0: 1000},
		{name: "all met at the ceiling", slo: CapacitySLO{FailRate: 0.01}, after: capacitySample{Upgraded: 200, Open: 200}, last: true, want: SLOMaxConns},
		{name: "failures over the rate", slo: CapacitySLO{FailRate: 0.01}, after: capacitySample{Upgraded: 198, Failures: 2, Open: 198}, want: SLOFailRate},
		{name: "drops count as failures", slo: CapacitySLO{FailRate: 0.01}, after: capacitySample{Upgraded: 200, Dropped: 5, Open: 195}, want: SLOFailRate},
		{name: "failure rate off", after: capacitySample{Upgraded: 100, Failures: 100, Open: 100}},
		{name: "nothing tried but drops", slo: CapacitySLO{FailRate: 0.5}, after: capacitySample{Upgraded: 100, Dropped: 1, Open: 99}, want: SLOFailRate},
		{name: "p99 over", slo: CapacitySLO{P99: time.Millisecond}, after: capacitySample{Upgraded: 200, Open: 200, P99: 1001}, want: SLOP99},
		{name: "p99 at the bound", slo: CapacitySLO{P99: time.Millisecond}, after: capacitySample{Upgraded: 200, Open: 200, P99: 1000}},
		{name: "rss tiny breaks", slo: CapacitySLO{RSSPerConn: 1}, after: capacitySample{Upgraded: 200, Open: 200, RSS: 1 << 20}, rss0: 1 << 19, want: SLORSSPerConn},
		{name: "rss unknown not judged", slo: CapacitySLO{RSSPerConn: 1}, after: capacitySample{Upgraded: 200, Open: 200}},
		{name: "fail rate wins over p99", slo: CapacitySLO{FailRate: 0.001, P99: time.Microsecond}, after: capacitySample{Upgraded: 150, Failures: 50, Open: 150, P99: 5000}, want: SLOFailRate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.slo.judge(before, tc.after, tc.rss0, tc.last)
			if st.Broke != tc.want {
				t.Fatalf("broke %q, want %q (%+v)", st.Broke, tc.want, st)
			}
		})
	}
}

func TestCapacityAgainstMyriad(t *testing.T) {
	_, url := startMyriad(t)
	cases := []struct {
		name      string
		url       string
		params    CapacityParams
		inFlight  int
		wantBroke string
		wantHeld  int64
		wantSteps int
	}{
		{name: "ramp reaches the ceiling", url: url, params: CapacityParams{Step: 10, StepHold: 50 * time.Millisecond, SLO: CapacitySLO{FailRate: 0.001, P99: 30 * time.Second}},
			wantBroke: SLOMaxConns, wantHeld: 30, wantSteps: 3},
		{name: "with echo traffic", url: url, inFlight: 2, params: CapacityParams{Step: 15, StepHold: 100 * time.Millisecond, Traffic: "echo", SLO: CapacitySLO{FailRate: 0.001}},
			wantBroke: SLOMaxConns, wantHeld: 30, wantSteps: 2},
		{name: "p99 of a nanosecond breaks at once", url: url, params: CapacityParams{Step: 10, StepHold: 20 * time.Millisecond, SLO: CapacitySLO{P99: time.Nanosecond}},
			wantBroke: SLOP99, wantHeld: 0, wantSteps: 1},
		{name: "refused upgrades break the fail rate", url: closedPortURL(t), params: CapacityParams{Step: 10, StepHold: 20 * time.Millisecond, SLO: CapacitySLO{FailRate: 0.001}},
			wantBroke: SLOFailRate, wantHeld: 0, wantSteps: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlan("capacity", 30, tc.url)
			p.InFlight = tc.inFlight
			sc := &Capacity{CapacityParams: tc.params}
			rep := runScenario(t, p, sc)
			var res CapacityResult
			if ok, err := rep.ReportPart(CapacityPart, &res); !ok || err != nil {
				t.Fatalf("no capacity part: %v", err)
			}
			if res.Broke != tc.wantBroke || res.Held != tc.wantHeld || len(res.Steps) != tc.wantSteps {
				t.Fatalf("result %+v, want broke %s held %d in %d steps", res, tc.wantBroke, tc.wantHeld, tc.wantSteps)
			}
			wantCounter(t, rep, CounterCapacityHeld, tc.wantHeld)
			if tc.params.Traffic == "echo" && (rep.Counters[CounterMsgsIn] == 0 || rep.Counters[CounterEchoGaps] != 0) {
				t.Fatalf("echo traffic: counters %v", rep.Counters)
			}
		})
	}
}

func TestCapacityCheck(t *testing.T) {
	p := testPlan("capacity", 10, "ws://127.0.0.1:1/")
	cases := []struct {
		name   string
		params CapacityParams
		pids   []int
		is     error
		ok     bool
	}{
		{name: "defaults", ok: true},
		{name: "rss without server", params: CapacityParams{SLO: CapacitySLO{RSSPerConn: 2048}}, is: ErrCapacityServerPID},
		{name: "rss with server", params: CapacityParams{SLO: CapacitySLO{RSSPerConn: 2048}}, pids: []int{1}, ok: true},
		{name: "fail rate above one", params: CapacityParams{SLO: CapacitySLO{FailRate: 1.5}}},
		{name: "unknown traffic", params: CapacityParams{Traffic: "flood"}},
		{name: "negative step", params: CapacityParams{Step: -1}},
		{name: "negative p99", params: CapacityParams{SLO: CapacitySLO{P99: -time.Second}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := p
			q.ServerPIDs = tc.pids
			err := (&Capacity{CapacityParams: tc.params}).Check(q.withDefaults())
			if (err == nil) != tc.ok || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("Check = %v", err)
			}
		})
	}
}
