package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// report is the part of myriad-loadgen's JSON report the harness reads.
// It is decoded from the file rather than with package loadgen's types so
// that the harness depends on the report's format only, not on the load
// generator's internals.
type report struct {
	Counters map[string]int64   `json:"counters"`
	Failures map[string]int64   `json:"failures"`
	Drops    map[string]int64   `json:"drops"`
	Latency  map[string]latency `json:"latency"`
	Memory   struct {
		Servers []struct {
			PID       int   `json:"pid"`
			RSSBefore int64 `json:"rss_before_bytes"`
			RSSAfter  int64 `json:"rss_after_bytes"`
			Conns     int64 `json:"conns"`
		} `json:"servers"`
	} `json:"memory"`
	// Connect is the connect phase: its length and upgrade rate.
	Connect struct {
		Seconds   float64 `json:"seconds"`
		Upgrades  int64   `json:"upgrades"`
		PerSecond float64 `json:"upgrades_per_s"`
	} `json:"connect_phase"`
	Warnings []string `json:"warnings"`
}

// latency is a histogram's summary, in microseconds.
type latency struct {
	Summary struct {
		Count int64   `json:"count"`
		Mean  float64 `json:"mean_us"`
		P50   int64   `json:"p50_us"`
		P99   int64   `json:"p99_us"`
		P999  int64   `json:"p999_us"`
		Max   int64   `json:"max_us"`
	} `json:"summary"`
}

// ErrNotReport is returned for a JSON file without counters.
var ErrNotReport = errors.New("not a load generator report")

func readReport(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Counters == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrNotReport)
	}
	return &r, nil
}

// failed is the number of failed attempts and dropped connections, the
// first thing to look at when a figure is off.
func (r *report) failed() int64 {
	var n int64
	for _, v := range r.Failures {
		n += v
	}
	for _, v := range r.Drops {
		n += v
	}
	return n
}
