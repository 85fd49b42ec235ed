package loadgen

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// SeriesColumns are the columns of the per-second CSV series, in order.
// Rates are per second over the row's interval; p50 and p99 are of that
// interval, of the histogram named in the latency column; errors are
// cumulative failed attempts plus drops; server_rss_bytes sums the
// --server-pid processes (0 without them).
func SeriesColumns() []string {
	return []string{"elapsed_s", "phase", "conns", "upgrades_per_s", "msgs_out_per_s", "msgs_in_per_s",
		"latency", "p50_us", "p99_us", "errors", "server_rss_bytes"}
}

// SeriesRow is one row of the series.
type SeriesRow struct {
	Elapsed        float64
	Phase          string
	Conns          int64
	UpgradesPerSec float64
	MsgsOutPerSec  float64
	MsgsInPerSec   float64
	Latency        string
	P50, P99       int64 // µs
	Errors         int64
	ServerRSS      int64
}

// SeriesWriter turns progress snapshots into CSV rows. Its methods are
// for one goroutine at a time (the progress callback).
type SeriesWriter struct {
	w    *csv.Writer
	pids []int
	prev Progress
	head bool
}

// NewSeriesWriter writes the series to w, sampling the RSS of pids on
// each row.
func NewSeriesWriter(w io.Writer, pids []int) *SeriesWriter {
	return &SeriesWriter{w: csv.NewWriter(w), pids: pids}
}

// seriesLatency is the order in which a histogram is chosen for the
// latency columns: the scenario's own before the connect latency.
func seriesLatency() []string { return []string{HistRTT, "last_subscriber", HistConnect} }

// Write adds a row for cur. Snapshots less than half a second after the
// previous row (phase changes) are skipped: their rates would be noise.
func (sw *SeriesWriter) Write(cur Progress) error {
	if !sw.head {
		sw.head = true
		if err := sw.w.Write(SeriesColumns()); err != nil {
			return err
		}
	}
	dt := cur.Elapsed - sw.prev.Elapsed
	if dt < 0.5 {
		return nil
	}
	prev := sw.prev
	sw.prev = cur
	rate := func(a, b int64) float64 { return float64(b-a) / dt }
	row := SeriesRow{
		Elapsed: cur.Elapsed, Phase: cur.Phase, Conns: cur.Open,
		UpgradesPerSec: rate(prev.Upgraded, cur.Upgraded),
		MsgsOutPerSec:  rate(prev.MsgsOut, cur.MsgsOut),
		MsgsInPerSec:   rate(prev.MsgsIn, cur.MsgsIn),
		Errors:         cur.Failures + cur.Dropped,
		ServerRSS:      serversRSS(sw.pids),
	}
	for _, k := range seriesLatency() {
		if v, ok := cur.P99[k]; ok {
			row.Latency, row.P50, row.P99 = k, cur.P50[k], v
			break
		}
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	if err := sw.w.Write([]string{f(row.Elapsed), row.Phase, i(row.Conns), f(row.UpgradesPerSec), f(row.MsgsOutPerSec),
		f(row.MsgsInPerSec), row.Latency, i(row.P50), i(row.P99), i(row.Errors), i(row.ServerRSS)}); err != nil {
		return err
	}
	sw.w.Flush()
	return sw.w.Error()
}

// ErrSeriesHeader is returned by ReadSeries for a file whose header is not
// SeriesColumns.
var ErrSeriesHeader = errors.New("not a myriad-loadgen series: the header differs")

// ReadSeries reads a CSV series written by SeriesWriter.
func ReadSeries(r io.Reader) ([]SeriesRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(SeriesColumns())
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("series header: %w", err)
	}
	for i, c := range SeriesColumns() {
		if head[i] != c {
			return nil, ErrSeriesHeader
		}
	}
	var rows []SeriesRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		row, err := parseSeriesRow(rec)
		if err != nil {
			return nil, fmt.Errorf("series line %d: %w", line, err)
		}
		rows = append(rows, row)
	}
}

func parseSeriesRow(rec []string) (SeriesRow, error) {
	var row SeriesRow
	var errs []error
	fl := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		errs = append(errs, err)
		return v
	}
	in := func(s string) int64 {
		v, err := strconv.ParseInt(s, 10, 64)
		errs = append(errs, err)
		return v
	}
	row.Elapsed, row.Phase, row.Conns = fl(rec[0]), rec[1], in(rec[2])
	row.UpgradesPerSec, row.MsgsOutPerSec, row.MsgsInPerSec = fl(rec[3]), fl(rec[4]), fl(rec[5])
	row.Latency, row.P50, row.P99 = rec[6], in(rec[7]), in(rec[8])
	row.Errors, row.ServerRSS = in(rec[9]), in(rec[10])
	return row, errors.Join(errs...)
}
