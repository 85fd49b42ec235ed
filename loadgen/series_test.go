package loadgen

import (
	"errors"
	"strings"
	"testing"
)

func TestSeriesRoundTrip(t *testing.T) {
	var b strings.Builder
	sw := NewSeriesWriter(&b, nil)
	snaps := []Progress{
		{Elapsed: 1, Phase: "connecting", Open: 100, Upgraded: 100, P99: map[string]int64{HistConnect: 800}, P50: map[string]int64{HistConnect: 300}},
		{Elapsed: 1.2, Phase: "sending", Open: 100, Upgraded: 100}, // a phase change: too soon for a row
		{Elapsed: 2, Phase: "sending", Open: 100, Upgraded: 100, MsgsOut: 500, MsgsIn: 400, Failures: 2, Dropped: 1,
			P99: map[string]int64{HistConnect: 1, HistRTT: 900}, P50: map[string]int64{HistConnect: 1, HistRTT: 250}},
	}
	for _, p := range snaps {
		if err := sw.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if lines[0] != strings.Join(SeriesColumns(), ",") || len(lines) != 3 {
		t.Fatalf("csv:\n%s", b.String())
	}
	rows, err := ReadSeries(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	want := []SeriesRow{
		{Elapsed: 1, Phase: "connecting", Conns: 100, UpgradesPerSec: 100, Latency: HistConnect, P50: 300, P99: 800},
		{Elapsed: 2, Phase: "sending", Conns: 100, MsgsOutPerSec: 500, MsgsInPerSec: 400, Latency: HistRTT, P50: 250, P99: 900, Errors: 3},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
}

func TestReadSeriesRejects(t *testing.T) {
	head := strings.Join(SeriesColumns(), ",") + "\n"
	cases := []struct {
		name string
		in   string
		is   error
	}{
		{name: "empty", in: ""},
		{name: "other header", in: strings.Replace(head, "conns", "connections", 1), is: ErrSeriesHeader},
		{name: "short row", in: head + "1.0,idle,5\n"},
		{name: "not a number", in: head + "1.0,idle,five,0,0,0,,0,0,0,0\n"},
		{name: "a report instead", in: `{"counters":{}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSeries(strings.NewReader(tc.in))
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("ReadSeries = %v, want an error %v", err, tc.is)
			}
		})
	}
}
