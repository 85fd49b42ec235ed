package loadgen

import (
	"testing"
	"time"
)

func TestEchoClosedLoopAgainstMyriad(t *testing.T) {
	const conns, depth = 20, 4
	_, url := startMyriad(t)
	p := testPlan("echo", conns, url)
	p.InFlight = depth
	p.Duration = 300 * time.Millisecond
	rep := runPlan(t, p)

	wantCounter(t, rep, CounterUpgraded, conns)
	sent, recv := rep.Counters[CounterMsgsOut], rep.Counters[CounterMsgsIn]
	if sent < conns*depth {
		t.Fatalf("sent %d, want at least the %d first messages", sent, conns*depth)
	}
	wantCounter(t, rep, CounterMsgsIn, sent)
	wantCounter(t, rep, CounterEchoGaps, 0)
	wantCounter(t, rep, CounterEchoLost, 0)
	if rep.Counters[CounterEchoSendingMs] <= 0 || rep.Counters[CounterEchoAnswered] <= 0 || rep.Counters[CounterEchoAnswered] > recv {
		t.Fatalf("sending time %d ms, answered %d of %d", rep.Counters[CounterEchoSendingMs], rep.Counters[CounterEchoAnswered], recv)
	}
	if EchoRate(rep) <= 0 {
		t.Fatal("no echo rate")
	}
	if s := rep.Latency[HistRTT].Summary(); s.Count != recv || s.P999 < s.P50 {
		t.Fatalf("rtt summary %+v for %d echoes", s, recv)
	}
}

func TestConnectPhaseInReport(t *testing.T) {
	const conns = 30
	_, url := startMyriad(t)
	rep := runPlan(t, testPlan("idle", conns, url))
	c := rep.Connect
	if c.Upgrades != conns || c.Seconds <= 0 || c.PerSecond != float64(conns)/c.Seconds {
		t.Fatalf("connect phase %+v", c)
	}
	m := Merge(rep, rep)
	if m.Connect.Upgrades != 2*conns || m.Connect.Seconds != c.Seconds {
		t.Fatalf("merged connect phase %+v from %+v", m.Connect, c)
	}
}

// TestSettleLongerThanDuration: --settle is waited in full even when it
// is longer than --duration, and the hold comes after it.
func TestSettleLongerThanDuration(t *testing.T) {
	_, url := startMyriad(t)
	p := testPlan("idle", 5, url)
	p.Settle = 400 * time.Millisecond
	p.Duration = 100 * time.Millisecond
	rep := runPlan(t, p)
	if min := (p.Settle + p.Duration).Seconds(); rep.Elapsed < min {
		t.Fatalf("run took %.2fs, less than settle plus duration %.2fs", rep.Elapsed, min)
	}
}

func TestInFlightBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		ok   bool
	}{{"zero is open loop", 0, true}, {"one", 1, true}, {"negative", -1, false}, {"too deep", maxBurst + 1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlan("echo", 1, "ws://127.0.0.1:1/")
			p.InFlight = tc.n
			if err := p.withDefaults().Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate(%d) = %v", tc.n, err)
			}
		})
	}
}
