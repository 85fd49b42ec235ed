package bench

import (
	"math"
	"strings"
	"testing"
)

func TestStat(t *testing.T) {
	tests := []struct {
		name string
		vals []float64
		want Stat
	}{
		{name: "none", vals: nil, want: Stat{}},
		{name: "one", vals: []float64{5}, want: Stat{Median: 5, Min: 5, Max: 5, N: 1}},
		{name: "odd unsorted", vals: []float64{9, 1, 4}, want: Stat{Median: 4, Min: 1, Max: 9, N: 3}},
		{name: "even", vals: []float64{4, 1, 3, 10}, want: Stat{Median: 3.5, Min: 1, Max: 10, N: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Result{Values: map[string]map[string][]float64{"m": {"s": tt.vals}}}
			if got := r.Stat("m", "s"); got != tt.want {
				t.Fatalf("Stat = %+v, want %+v", got, tt.want)
			}
			if len(tt.vals) > 1 && tt.vals[0] != 9 && tt.vals[0] != 4 {
				t.Fatal("Stat reordered the values it summarised")
			}
		})
	}
}

func TestRatio(t *testing.T) {
	r := &Result{Values: map[string]map[string][]float64{
		"m":    {ServerMyriad: {100}, ServerNbio: {250}},
		"zero": {ServerMyriad: {0}, ServerNbio: {1}},
	}}
	tests := []struct {
		name, key, server string
		want              float64
	}{
		{"peer over myriad", "m", ServerNbio, 2.5},
		{"myriad over itself", "m", ServerMyriad, 1},
		{"peer without values", "m", ServerGws, math.NaN()},
		{"myriad zero", "zero", ServerNbio, math.NaN()},
		{"unknown metric", "nope", ServerNbio, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Ratio(tt.key, tt.server)
			if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && got != tt.want) {
				t.Fatalf("Ratio = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWriteTableMarksMissingCellsAndListsProblems(t *testing.T) {
	c := Quick().withDefaults()
	r := &Result{Config: c, Metrics: c.Metrics(), Values: map[string]map[string][]float64{
		MetricRSSPerConn: {ServerMyriad: {500, 520, 510}, ServerNbio: {1400, 1500, 1450}},
	}, Problems: []string{"idle gws round 1: 3 of 500 connections upgraded"}}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	row := lineWith(out, c.Metrics()[0].Label)
	for _, want := range []string{"510 [500..520]", "1450 [1400..1500] 2.84×", " -"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	if !strings.Contains(out, "3 of 500 connections upgraded") {
		t.Errorf("problems not listed:\n%s", out)
	}
}
