package loadgen

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram ranges. Values are microseconds from 1 µs to one hour with
// three significant digits: 1 µs resolution below 2 ms and 0.1% above, which
// is finer than anything loopback timing can tell apart.
const (
	histLowest  = 1
	histHighest = int64(time.Hour / time.Microsecond)
	histDigits  = 3
)

// newHDR returns an empty histogram with the package's fixed range. All
// histograms share it so that any two merge exactly.
func newHDR() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// Histogram is a latency distribution in a Report: an HDR histogram of
// microseconds. It marshals to JSON as a summary (count, percentiles, max)
// for people and scripts, plus the hdrhistogram Snapshot that Merge and
// Import need. Only the snapshot is read back; the summary is recomputed.
// A Histogram is not safe for concurrent use; live recording goes through a
// Recorder.
type Histogram struct {
	h *hdrhistogram.Histogram
}

// NewHistogram returns an empty Histogram.
func NewHistogram() *Histogram { return &Histogram{h: newHDR()} }

// RecordMicros records one value in microseconds, clamped into range.
func (h *Histogram) RecordMicros(us int64) {
	_ = h.h.RecordValue(clampMicros(us))
}

// Merge adds o's values to h.
func (h *Histogram) Merge(o *Histogram) {
	if o != nil {
		h.h.Merge(o.h)
	}
}

// Clone returns an independent copy.
func (h *Histogram) Clone() *Histogram {
	return &Histogram{h: hdrhistogram.Import(h.h.Export())}
}

// Summary is the readable part of a histogram, in microseconds.
type Summary struct {
	Count int64   `json:"count"`
	Min   int64   `json:"min_us"`
	Mean  float64 `json:"mean_us"`
	P50   int64   `json:"p50_us"`
	P90   int64   `json:"p90_us"`
	P99   int64   `json:"p99_us"`
	P999  int64   `json:"p999_us"`
	Max   int64   `json:"max_us"`
}

// Summary computes count, mean, percentiles and max.
func (h *Histogram) Summary() Summary {
	if h == nil || h.h.TotalCount() == 0 {
		return Summary{}
	}
	return Summary{
		Count: h.h.TotalCount(),
		Min:   h.h.Min(),
		Mean:  h.h.Mean(),
		P50:   h.h.ValueAtQuantile(50),
		P90:   h.h.ValueAtQuantile(90),
		P99:   h.h.ValueAtQuantile(99),
		P999:  h.h.ValueAtQuantile(99.9),
		Max:   h.h.Max(),
	}
}

// Snapshot returns the hdrhistogram snapshot (a copy).
func (h *Histogram) Snapshot() *hdrhistogram.Snapshot { return h.h.Export() }

// histogramJSON is the wire form. Counts in the snapshot have their trailing
// zeros removed (most of the range is empty); ImportSnapshot pads them back.
type histogramJSON struct {
	Unit     string                 `json:"unit"`
	Summary  Summary                `json:"summary"`
	Snapshot *hdrhistogram.Snapshot `json:"snapshot"`
}

// MarshalJSON implements json.Marshaler.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	s := h.h.Export()
	n := len(s.Counts)
	for n > 0 && s.Counts[n-1] == 0 {
		n--
	}
	s.Counts = s.Counts[:n]
	return json.Marshal(histogramJSON{Unit: "us", Summary: h.Summary(), Snapshot: s})
}

// UnmarshalJSON implements json.Unmarshaler.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var w histogramJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Snapshot == nil {
		return errors.New("histogram without snapshot")
	}
	hh, err := ImportSnapshot(w.Snapshot)
	if err != nil {
		return err
	}
	h.h = hh
	return nil
}

// ImportSnapshot rebuilds a histogram from a snapshot whose counts may have
// lost their trailing zeros. It refuses snapshots of another range, which
// could not be merged exactly.
func ImportSnapshot(s *hdrhistogram.Snapshot) (*hdrhistogram.Histogram, error) {
	if s.LowestTrackableValue != histLowest || s.HighestTrackableValue != histHighest || s.SignificantFigures != histDigits {
		return nil, errors.New("histogram snapshot has a different range or precision")
	}
	full := newHDR().Export().Counts
	if len(s.Counts) > len(full) {
		return nil, errors.New("histogram snapshot has too many counts")
	}
	for _, c := range s.Counts {
		if c < 0 {
			return nil, errors.New("histogram snapshot has a negative count")
		}
	}
	copy(full, s.Counts)
	return hdrhistogram.Import(&hdrhistogram.Snapshot{
		LowestTrackableValue:  s.LowestTrackableValue,
		HighestTrackableValue: s.HighestTrackableValue,
		SignificantFigures:    s.SignificantFigures,
		Counts:                full,
	}), nil
}

func clampMicros(us int64) int64 {
	switch {
	case us < 0:
		return 0
	case us > histHighest:
		return histHighest
	}
	return us
}
