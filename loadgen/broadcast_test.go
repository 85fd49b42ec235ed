package loadgen

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBroadcastAgainstFakeGateway(t *testing.T) {
	const conns, rate = 300, 20 // one second of publishing: 20 messages
	g := startGateway(t, nil)
	p, b := broadcastPlan(t, g, conns, rate)
	rep := runScenario(t, p, b)

	const published = rate
	wantCounter(t, rep, CounterUpgraded, conns)
	wantCounter(t, rep, CounterBcastPublished, published)
	wantCounter(t, rep, CounterBcastSubscribers, conns)
	wantCounter(t, rep, CounterBcastExpected, published*conns)
	wantCounter(t, rep, CounterBcastReceived, published*conns)
	wantCounter(t, rep, CounterPublishOK, published)
	wantCounter(t, rep, CounterPublishDelivered, published*conns)
	wantCounter(t, rep, CounterPublishErrors, 0)
	for _, name := range []string{
		CounterBcastLost, CounterBcastDuplicated, CounterBcastOutOfOrder,
		CounterBcastSubsLost, CounterBcastSubsDuplicated, CounterBcastSubsOutOfOrder,
		CounterBcastUnparsed, CounterBcastUntracked,
	} {
		wantCounter(t, rep, name, 0)
	}
	if got := g.publishes.Load(); got != published {
		t.Errorf("gateway saw %d publish requests, want %d", got, published)
	}
	wantCount(t, rep, HistFanout, published*conns)
	wantCount(t, rep, HistLastSubscriber, published)
	wantCount(t, rep, HistPublish, published)
	// The last subscriber's time for a message is the largest of its
	// fan-out times, so the distributions are ordered.
	fan, last := rep.Latency[HistFanout].Summary(), rep.Latency[HistLastSubscriber].Summary()
	if last.Max != fan.Max || last.Min < fan.Min {
		t.Errorf("last_subscriber %+v is not the per-message maximum of fanout %+v", last, fan)
	}
}

// wantCount fails the test unless histogram name holds n values.
func wantCount(t *testing.T, rep *Report, name string, n int64) {
	t.Helper()
	h := rep.Latency[name]
	if h == nil {
		t.Errorf("no %s histogram", name)
		return
	}
	if got := h.Summary().Count; got != n {
		t.Errorf("%s histogram holds %d values, want %d", name, got, n)
	}
}

// TestBroadcastCountsFaults has the gateway drop one message for one
// subscriber, send one twice to another, and swap two for a third; the
// report must show exactly that.
func TestBroadcastCountsFaults(t *testing.T) {
	const conns, rate = 200, 20
	g := startGateway(t, func(g *fakeGateway) {
		var mu sync.Mutex
		var held []byte
		g.deliver = func(sub int, seq uint64, msg []byte, send func([]byte)) {
			switch {
			case sub == 0 && seq == 3: // lost
			case sub == 1 && seq == 2: // duplicated
				send(msg)
				send(msg)
			case sub == 2 && seq == 4: // held back until after 5
				mu.Lock()
				held = msg
				mu.Unlock()
			case sub == 2 && seq == 5:
				send(msg)
				mu.Lock()
				send(held)
				mu.Unlock()
			case sub == 3 && seq == rate-1: // the last message: only the tally can tell
			default:
				send(msg)
			}
		}
	})
	p, b := broadcastPlan(t, g, conns, rate)
	p.CloseTimeout = time.Second // the tail loss makes the drain wait it out
	rep := runScenario(t, p, b)

	const published = rate
	wantCounter(t, rep, CounterBcastPublished, published)
	wantCounter(t, rep, CounterBcastReceived, published*conns-2+1)
	wantCounter(t, rep, CounterBcastLost, 2)
	wantCounter(t, rep, CounterBcastSubsLost, 2)
	wantCounter(t, rep, CounterBcastDuplicated, 1)
	wantCounter(t, rep, CounterBcastSubsDuplicated, 1)
	wantCounter(t, rep, CounterBcastOutOfOrder, 1)
	wantCounter(t, rep, CounterBcastSubsOutOfOrder, 1)
	wantCounter(t, rep, CounterPublishDelivered, published*conns)
	wantCount(t, rep, HistFanout, published*conns-2)
	wantCount(t, rep, HistLastSubscriber, published)
}

// TestBroadcastPublishErrors checks that failed publish requests are
// counted by cause, and that a message the API refused is not expected by
// the subscribers: its sequence number is used again.
func TestBroadcastPublishErrors(t *testing.T) {
	const conns, rate = 50, 20
	tests := []struct {
		name      string
		setup     func(*fakeGateway)
		key       string
		closedAPI bool
		published int64
		errors    map[string]int64
	}{
		{name: "right key", setup: func(g *fakeGateway) { g.key = "secret" }, key: "secret", published: rate},
		{name: "wrong key", setup: func(g *fakeGateway) { g.key = "secret" }, key: "guess", errors: map[string]int64{"http_401": rate}},
		{name: "no key", setup: func(g *fakeGateway) { g.key = "secret" }, errors: map[string]int64{"http_401": rate}},
		{
			name: "every other fails",
			setup: func(g *fakeGateway) {
				g.status = func(n int) int {
					if n%2 == 1 {
						return 500
					}
					return 0
				}
			},
			published: rate / 2,
			errors:    map[string]int64{"http_500": rate / 2},
		},
		{name: "refused", closedAPI: true, errors: map[string]int64{CauseRefused: rate}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := startGateway(t, tc.setup)
			p, b := broadcastPlan(t, g, conns, rate)
			b.APIKey = tc.key
			if tc.closedAPI {
				b.API = "http" + closedPortURL(t)[2:] + "publish"
			}
			rep := runScenario(t, p, b)
			var total int64
			for cause, n := range tc.errors {
				wantCounter(t, rep, PublishErrorPrefix+cause, n)
				total += n
			}
			wantCounter(t, rep, CounterPublishErrors, total)
			wantCounter(t, rep, CounterPublishOK, tc.published)
			wantCounter(t, rep, CounterBcastPublished, tc.published)
			wantCounter(t, rep, CounterBcastReceived, tc.published*conns)
			wantCounter(t, rep, CounterBcastLost, 0)
			wantCounter(t, rep, CounterBcastOutOfOrder, 0)
			wantCount(t, rep, HistPublish, rate)
		})
	}
}

// TestBroadcastSlowAPI: the publisher posts one message at a time, so an
// API that answers its first request only after the publishing time is
// over leaves every other scheduled message unsent, counted as skipped,
// with a warning; the one message still reaches everyone.
func TestBroadcastSlowAPI(t *testing.T) {
	const conns, rate = 50, 20
	g := startGateway(t, func(g *fakeGateway) {
		g.hold = func(n int) time.Duration {
			if n == 0 {
				return 1200 * time.Millisecond // longer than the plan's one second
			}
			return 0
		}
	})
	p, b := broadcastPlan(t, g, conns, rate)
	rep := runScenario(t, p, b)
	wantCounter(t, rep, CounterPublishOK, 1)
	wantCounter(t, rep, CounterPublishSkipped, rate-1)
	wantCounter(t, rep, CounterBcastPublished, 1)
	wantCounter(t, rep, CounterBcastReceived, conns)
	wantCounter(t, rep, CounterBcastLost, 0)
	warned := false
	for _, w := range rep.Warnings {
		warned = warned || strings.Contains(w, "skipped 19 of its scheduled messages")
	}
	if !warned {
		t.Errorf("no warning about the slow publish API: %q", rep.Warnings)
	}
}

// TestBroadcastProcs spreads the subscribers over two worker processes:
// the parent must publish once (the gateway sees each message once), and
// the merged report must count every subscriber against that, with one
// last_subscriber value per message.
func TestBroadcastProcs(t *testing.T) {
	const conns, rate = 300, 20
	g := startGateway(t, nil)
	p, b := broadcastPlan(t, g, conns, rate)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var sawPublishing atomic.Bool
	rep, err := RunProcs(ctx, p, b, 2, Workers{
		Exe: os.Args[0],
		Env: []string{"LOADGEN_TEST_WORKER=1"},
	}, Options{Progress: func(pr Progress) {
		if pr.Phase == "publishing" {
			sawPublishing.Store(true)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	const published = rate
	if rep.Procs != 2 {
		t.Errorf("procs = %d, want 2", rep.Procs)
	}
	if got := g.publishes.Load(); got != published {
		t.Errorf("gateway saw %d publish requests, want %d", got, published)
	}
	wantCounter(t, rep, CounterBcastPublished, published)
	wantCounter(t, rep, CounterBcastSubscribers, conns)
	wantCounter(t, rep, CounterBcastExpected, published*conns)
	wantCounter(t, rep, CounterBcastReceived, published*conns)
	wantCounter(t, rep, CounterPublishOK, published)
	wantCounter(t, rep, CounterPublishDelivered, published*conns)
	wantCounter(t, rep, CounterBcastLost, 0)
	wantCounter(t, rep, CounterBcastDuplicated, 0)
	wantCounter(t, rep, CounterBcastOutOfOrder, 0)
	wantCount(t, rep, HistFanout, published*conns)
	wantCount(t, rep, HistLastSubscriber, published)
	wantCount(t, rep, HistPublish, published)
	if rep.Parts != nil {
		t.Errorf("merged report keeps the workers' per-message maxima")
	}
	if !sawPublishing.Load() {
		t.Errorf("progress never showed the publishing phase")
	}
	// The report survives JSON and a merge with itself doubles counts.
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadReport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	m := Merge(back, back)
	wantCounter(t, m, CounterBcastReceived, 2*published*conns)
	wantCount(t, m, HistLastSubscriber, 2*published)
}
