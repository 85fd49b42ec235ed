package loadgen

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Recorder is a latency histogram that event loops record into while the
// progress reporter reads it. It keeps the whole run and the current
// progress interval. All methods may be called from any goroutine; a mutex
// guards both histograms because hdrhistogram is not safe for concurrent use
// and recording is rare enough (once per message) that it is not contended.
type Recorder struct {
	mu       sync.Mutex
	total    *hdrhistogram.Histogram
	interval *hdrhistogram.Histogram
}

func newRecorder() *Recorder {
	return &Recorder{total: newHDR(), interval: newHDR()}
}

// Record adds a latency in nanoseconds (stored as microseconds).
func (r *Recorder) Record(ns int64) {
	us := clampMicros((ns + 500) / 1000)
	r.mu.Lock()
	_ = r.total.RecordValue(us)
	_ = r.interval.RecordValue(us)
	r.mu.Unlock()
}

// intervalP99 returns the p99 of the values recorded since the previous
// call, in microseconds, and how many there were; it starts a new interval.
func (r *Recorder) intervalP99() (p99, n int64) {
	_, p99, n = r.intervalQuantiles()
	return p99, n
}

// intervalQuantiles returns the p50 and p99 of the values recorded since
// the previous call, in microseconds, and how many there were; it starts
// a new interval.
func (r *Recorder) intervalQuantiles() (p50, p99, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n = r.interval.TotalCount()
	if n > 0 {
		p50 = r.interval.ValueAtQuantile(50)
		p99 = r.interval.ValueAtQuantile(99)
	}
	r.interval.Reset()
	return p50, p99, n
}

// histogram returns a copy of the whole-run histogram.
func (r *Recorder) histogram() *Histogram {
	r.mu.Lock()
	defer r.mu.Unlock()
	return &Histogram{h: hdrhistogram.Import(r.total.Export())}
}

// Counter is a named count a scenario registers with Session.Counter. It is
// safe for concurrent use.
type Counter struct{ atomic.Int64 }

// metrics holds everything a Session counts. The fixed counters are fields
// so the hot paths touch one atomic each; scenarios add named counters and
// recorders, and failures and drops are keyed by cause.
type metrics struct {
	attempts      atomic.Int64 // connection attempts started (dials)
	upgraded      atomic.Int64 // connections that completed the upgrade
	failedConns   atomic.Int64 // connections that failed after all retries
	retries       atomic.Int64 // attempts that were retried
	open          atomic.Int64 // upgraded connections currently open
	peakOpen      atomic.Int64
	handshaking   atomic.Int64 // sockets enrolled and waiting for a 101
	closed        atomic.Int64 // connections we closed (close handshake or timeout)
	closeTimedOut atomic.Int64 // of those, closes the server never answered
	dropped       atomic.Int64 // upgraded connections the server or network closed
	msgsOut       atomic.Int64
	msgsIn        atomic.Int64
	bytesOut      atomic.Int64
	bytesIn       atomic.Int64
	pings         atomic.Int64   // pings answered
	scheduleLag   atomic.Int64   // worst connect schedule lag, ns
	openBy        []atomic.Int64 // open, per target

	mu       sync.Mutex
	named    map[string]*Counter
	recs     map[string]*Recorder
	failures map[string]int64
	drops    map[string]int64
}

func newMetrics(targets int) *metrics {
	return &metrics{
		openBy:   make([]atomic.Int64, targets),
		named:    map[string]*Counter{},
		recs:     map[string]*Recorder{},
		failures: map[string]int64{},
		drops:    map[string]int64{},
	}
}

func (m *metrics) counter(name string) *Counter {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.named[name]
	if c == nil {
		c = new(Counter)
		m.named[name] = c
	}
	return c
}

func (m *metrics) recorder(name string) *Recorder {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.recs[name]
	if r == nil {
		r = newRecorder()
		m.recs[name] = r
	}
	return r
}

func (m *metrics) fail(cause string) {
	m.mu.Lock()
	m.failures[cause]++
	m.mu.Unlock()
}

func (m *metrics) drop(cause string) {
	m.mu.Lock()
	m.drops[cause]++
	m.mu.Unlock()
}

func (m *metrics) closedOpen(target uint16) {
	m.open.Add(-1)
	m.openBy[target].Add(-1)
}

// openByTarget returns the open connections per target.
func (m *metrics) openByTarget() []int64 {
	out := make([]int64, len(m.openBy))
	for i := range m.openBy {
		out[i] = m.openBy[i].Load()
	}
	return out
}

func (m *metrics) opened(target uint16) {
	m.openBy[target].Add(1)
	n := m.open.Add(1)
	for {
		p := m.peakOpen.Load()
		if n <= p || m.peakOpen.CompareAndSwap(p, n) {
			return
		}
	}
}

func maxInt64(a *atomic.Int64, v int64) {
	for {
		p := a.Load()
		if v <= p || a.CompareAndSwap(p, v) {
			return
		}
	}
}

// failureTotal is the number of failed attempts of every cause.
func (m *metrics) failureTotal() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, v := range m.failures {
		n += v
	}
	return n
}

// Counter names in reports. Scenario counters use their own names.
const (
	CounterPlanned       = "conns_planned"
	CounterAttempts      = "conns_attempted"
	CounterUpgraded      = "conns_upgraded"
	CounterFailed        = "conns_failed"
	CounterRetries       = "conns_retried"
	CounterPeakOpen      = "conns_peak_open"
	CounterOpenAtEnd     = "conns_open_at_end" // open when the scenario ended, before the final close
	CounterClosed        = "conns_closed"
	CounterCloseTimedOut = "conns_close_timed_out"
	CounterDropped       = "conns_dropped"
	CounterMsgsOut       = "messages_sent"
	CounterMsgsIn        = "messages_received"
	CounterBytesOut      = "bytes_sent"
	CounterBytesIn       = "bytes_received"
	CounterPings         = "pings_answered"
	CounterCPUMillis     = "loadgen_cpu_ms"
	CounterScheduleLagMs = "connect_schedule_lag_max_ms"
)

// Histogram names in reports.
const (
	HistConnect = "connect" // dial start to 101 parsed
	HistRTT     = "rtt"     // echo: scheduled send to echo received
	// HistTickLag is how long the event loops took to run a timing-wheel
	// tick after the pacer queued it: large values mean the loops are
	// busy and the load generator, not the server, sets the pace.
	HistTickLag = "tick_lag"
)

// counters returns the fixed and named counters as a map for a Report.
func (m *metrics) counters(planned int64) map[string]int64 {
	out := map[string]int64{
		CounterPlanned:       planned,
		CounterAttempts:      m.attempts.Load(),
		CounterUpgraded:      m.upgraded.Load(),
		CounterFailed:        m.failedConns.Load(),
		CounterRetries:       m.retries.Load(),
		CounterPeakOpen:      m.peakOpen.Load(),
		CounterClosed:        m.closed.Load(),
		CounterCloseTimedOut: m.closeTimedOut.Load(),
		CounterDropped:       m.dropped.Load(),
		CounterMsgsOut:       m.msgsOut.Load(),
		CounterMsgsIn:        m.msgsIn.Load(),
		CounterBytesOut:      m.bytesOut.Load(),
		CounterBytesIn:       m.bytesIn.Load(),
		CounterPings:         m.pings.Load(),
		CounterScheduleLagMs: m.scheduleLag.Load() / 1e6,
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, c := range m.named {
		out[k] = c.Load()
	}
	return out
}

func (m *metrics) histograms() map[string]*Histogram {
	m.mu.Lock()
	names := make([]string, 0, len(m.recs))
	for k := range m.recs {
		names = append(names, k)
	}
	m.mu.Unlock()
	sort.Strings(names)
	out := make(map[string]*Histogram, len(names))
	for _, k := range names {
		out[k] = m.recorder(k).histogram()
	}
	return out
}

func copyMap(m map[string]int64, mu *sync.Mutex) map[string]int64 {
	mu.Lock()
	defer mu.Unlock()
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
