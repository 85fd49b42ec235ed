package main

import (
	"testing"
	"time"

	"github.com/myriadws/myriad/server"
)

// TestMemoryReleaser feeds the releaser accept totals over time: it
// releases once after a settled burst, never during steady accepts or
// after a burst smaller than memoryReleaseBurst.
func TestMemoryReleaser(t *testing.T) {
	type step struct {
		after    time.Duration // since the start
		accepted uint64
		release  bool
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"burst then quiet", []step{{1 * time.Second, 5000, false}, {5 * time.Second, 5000, false}, {12 * time.Second, 5000, true}, {30 * time.Second, 5000, false}}},
		{"small burst", []step{{1 * time.Second, 10, false}, {20 * time.Second, 10, false}}},
		{"steady accepts", []step{{1 * time.Second, 2000, false}, {8 * time.Second, 4000, false}, {16 * time.Second, 6000, false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Unix(0, 0)
			m := memoryReleaser{quiet: 10 * time.Second, minBurst: memoryReleaseBurst, changedAt: start}
			for _, s := range tc.steps {
				if got := m.observe(s.accepted, start.Add(s.after)); got != s.release {
					t.Fatalf("at %s with %d accepted: release %v, want %v", s.after, s.accepted, got, s.release)
				}
			}
		})
	}
}

// TestMemoryReleaserAfterBufferedAttack has a few slow readers pin
// hundreds of megabytes and then be closed: far fewer than
// memoryReleaseBurst accepts, but the fall of the buffered bytes must
// trigger one release once things are quiet.
func TestMemoryReleaserAfterBufferedAttack(t *testing.T) {
	start := time.Unix(0, 0)
	m := memoryReleaser{quiet: 10 * time.Second, minBurst: memoryReleaseBurst, changedAt: start}
	steps := []struct {
		after   time.Duration
		st      server.Stats
		release bool
	}{
		{1 * time.Second, server.Stats{Accepted: 100, Buffered: 400 << 20}, false},
		{5 * time.Second, server.Stats{Accepted: 100, Buffered: 400 << 20, SlowTimeouts: 100}, false},
		{12 * time.Second, server.Stats{Accepted: 100, Buffered: 0, SlowTimeouts: 100}, false},
		{16 * time.Second, server.Stats{Accepted: 100, Buffered: 0, SlowTimeouts: 100}, true},
		{40 * time.Second, server.Stats{Accepted: 100, Buffered: 0, SlowTimeouts: 100}, false},
	}
	for _, s := range steps {
		if got := m.observeStats(s.st, start.Add(s.after)); got != s.release {
			t.Fatalf("at %s with %+v: release %v, want %v", s.after, s.st, got, s.release)
		}
	}
}

// TestReleaseStep: under a --max-buffered budget smaller than
// memoryReleaseBytes the buffered bytes can never fall that far, so half
// the budget counts as a burst instead.
func TestReleaseStep(t *testing.T) {
	cases := []struct {
		name   string
		budget int64
		want   int64
	}{
		{"no budget", 0, memoryReleaseBytes},
		{"big budget", 4 << 30, memoryReleaseBytes},
		{"64 MiB budget", 64 << 20, 32 << 20},
		{"tiny budget", 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := releaseStep(tc.budget); got != tc.want {
				t.Fatalf("releaseStep(%d) = %d, want %d", tc.budget, got, tc.want)
			}
		})
	}
	// A 64 MiB budget: a fall of 40 MiB releases once things are quiet.
	start := time.Unix(0, 0)
	m := memoryReleaser{quiet: 10 * time.Second, minBurst: memoryReleaseBurst, changedAt: start, freedBytes: releaseStep(64 << 20)}
	m.observeStats(server.Stats{Accepted: 10, Buffered: 60 << 20}, start.Add(time.Second))
	m.observeStats(server.Stats{Accepted: 10, Buffered: 20 << 20}, start.Add(2*time.Second))
	if !m.observeStats(server.Stats{Accepted: 10, Buffered: 20 << 20}, start.Add(15*time.Second)) {
		t.Fatal("no release after a 40 MiB fall under a 64 MiB budget")
	}
}
