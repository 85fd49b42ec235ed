package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// reportWith builds a report whose latency histograms hold the given
// values, in microseconds.
func reportWith(t *testing.T, counters, failures map[string]int64, connect, rtt []int64) *Report {
	t.Helper()
	h := func(vals []int64) *Histogram {
		out := NewHistogram()
		for _, v := range vals {
			out.RecordMicros(v)
		}
		return out
	}
	return &Report{
		Scenario: "echo",
		Targets:  []string{"ws://127.0.0.1:1/echo"},
		Procs:    1,
		Cores:    2,
		Started:  time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Elapsed:  10,
		Counters: counters,
		Failures: failures,
		Drops:    map[string]int64{},
		Latency:  map[string]*Histogram{HistConnect: h(connect), HistRTT: h(rtt)},
		Memory:   Memory{LoadgenRSSBefore: 1 << 20, LoadgenRSSAfter: 3 << 20, LoadgenConns: 1000},
	}
}

func span(from, to, step int64) []int64 {
	var out []int64
	for v := from; v <= to; v += step {
		out = append(out, v)
	}
	return out
}

func TestMergeEqualsCombinedHistograms(t *testing.T) {
	connectA, connectB := span(50, 5000, 7), span(1000, 900000, 997)
	rttA, rttB := span(10, 2000, 3), append(span(20, 200, 1), 3_000_000)
	a := reportWith(t,
		map[string]int64{CounterUpgraded: 1000, CounterMsgsIn: 5000, CounterScheduleLagMs: 7},
		map[string]int64{CauseRefused: 3},
		connectA, rttA)
	b := reportWith(t,
		map[string]int64{CounterUpgraded: 500, CounterMsgsIn: 100, CounterScheduleLagMs: 3, "scenario_specific": 9},
		map[string]int64{CauseRefused: 1, HTTPCause(503): 2},
		connectB, rttB)
	want := reportWith(t,
		map[string]int64{CounterUpgraded: 1500, CounterMsgsIn: 5100, CounterScheduleLagMs: 7, "scenario_specific": 9},
		map[string]int64{CauseRefused: 4, HTTPCause(503): 2},
		append(append([]int64(nil), connectA...), connectB...),
		append(append([]int64(nil), rttA...), rttB...))
	want.Procs = 2
	want.Memory = Memory{LoadgenRSSBefore: 2 << 20, LoadgenRSSAfter: 6 << 20, LoadgenConns: 2000}
	want.Memory.derive()

	// Merge the JSON forms, as `myriad-loadgen merge` does.
	got := Merge(roundTrip(t, a), roundTrip(t, b))
	if g, w := mustJSON(t, got), mustJSON(t, want); !bytes.Equal(g, w) {
		t.Fatalf("merged report differs from the one built from combined histograms:\n got %s\nwant %s", g, w)
	}
	if s := got.Latency[HistRTT].Summary(); s.Max < 3_000_000 || s.Count != int64(len(rttA)+len(rttB)) {
		t.Fatalf("merged rtt summary %+v", s)
	}
	if got.Memory.LoadgenBytesPerConn != (4<<20)/2000 {
		t.Fatalf("bytes per conn %d, want %d", got.Memory.LoadgenBytesPerConn, (4<<20)/2000)
	}
}

func roundTrip(t *testing.T, r *Report) *Report {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	out, err := ReadReport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(t *testing.T, r *Report) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHistogramJSONRejectsForeignSnapshots(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "other range", in: `{"snapshot":{"LowestTrackableValue":1,"HighestTrackableValue":1000,"SignificantFigures":3,"Counts":[1]}}`},
		{name: "no snapshot", in: `{"unit":"us"}`},
		{name: "negative count", in: `{"snapshot":{"LowestTrackableValue":1,"HighestTrackableValue":3600000000,"SignificantFigures":3,"Counts":[0,-1]}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			if err := json.Unmarshal([]byte(tc.in), &h); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	r := reportWith(t,
		map[string]int64{CounterUpgraded: 10, CounterFailed: 2},
		map[string]int64{HTTPCause(503): 2},
		[]int64{100, 200}, []int64{5})
	r.Memory.derive()
	r.Warnings = []string{"add --procs"}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"conns_upgraded", "http_503", "connect", "p99.9", "B/conn", "! add --procs"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestServerMemoryAttribution checks who a server PID's connections are
// charged to: one PID per target gets that target's count, while workers
// behind one shared port get no per-PID figure (their split is unknown)
// and the figure over all of them together.
func TestServerMemoryAttribution(t *testing.T) {
	tests := []struct {
		name       string
		pids       int
		byTarget   []int64
		open       int64
		wantPerPID []int64 // Conns of each PID
		wantTotal  int64   // ServersBytesPerConn with 1 MiB growth per PID
	}{
		{"one server one target", 1, []int64{1000}, 1000, []int64{1000}, (1 << 20) / 1000},
		{"two servers two targets", 2, []int64{600, 400}, 1000, []int64{600, 400}, (2 << 20) / 1000},
		{"two workers one port", 2, []int64{1000}, 1000, []int64{0, 0}, (2 << 20) / 1000},
		{"nothing open", 2, []int64{0}, 0, []int64{0, 0}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Memory{ServersConns: tc.open}
			for i := range tc.pids {
				m.Servers = append(m.Servers, ServerMemory{
					PID: 100 + i, RSSBefore: 10 << 20, RSSAfter: 11 << 20,
					Conns: serverConns(i, tc.pids, tc.byTarget),
				})
			}
			m.derive()
			for i, sv := range m.Servers {
				if sv.Conns != tc.wantPerPID[i] {
					t.Errorf("pid %d charged %d conns, want %d", sv.PID, sv.Conns, tc.wantPerPID[i])
				}
				if sv.Conns == 0 && sv.BytesPerConn != 0 {
					t.Errorf("pid %d: %d B/conn without a connection count", sv.PID, sv.BytesPerConn)
				}
			}
			if m.ServersBytesPerConn != tc.wantTotal {
				t.Errorf("servers together %d B/conn, want %d", m.ServersBytesPerConn, tc.wantTotal)
			}
			var b bytes.Buffer
			if err := (&Report{Scenario: "idle", Memory: m}).WriteTable(&b); err != nil {
				t.Fatal(err)
			}
			if tc.pids > 1 && !strings.Contains(b.String(), fmt.Sprintf("servers (%d)", tc.pids)) {
				t.Errorf("no line for the servers together:\n%s", b.String())
			}
		})
	}
}
