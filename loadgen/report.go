package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Report is the outcome of a run, of one worker process, or of several
// reports merged. Counters, failures and drops are sums; latency histograms
// are merged exactly; memory figures are sums with the per-connection
// figures derived from them. It is plain data, written and read as JSON.
type Report struct {
	Scenario string   `json:"scenario"`
	Targets  []string `json:"targets"`
	// Procs is the number of load generator processes that contributed.
	Procs int `json:"procs"`
	// Cores is the CPU count of the load generator's host.
	Cores   int       `json:"cores"`
	Started time.Time `json:"started"`
	// Elapsed is the wall time of the run in seconds.
	Elapsed float64 `json:"elapsed_s"`
	// Counters are named counts: the conns_* and messages_* families and
	// whatever the scenario adds. A name containing "_max" holds a maximum
	// and merges by max; all others merge by sum.
	Counters map[string]int64 `json:"counters"`
	// Failures counts failed connection attempts by cause (every attempt,
	// retries included).
	Failures map[string]int64 `json:"failures"`
	// Drops counts upgraded connections the server or network closed, by
	// cause.
	Drops map[string]int64 `json:"drops"`
	// Latency holds the latency histograms by name (connect, rtt, ...).
	Latency map[string]*Histogram `json:"latency"`
	Memory  Memory                `json:"memory"`
	// Connect is the connect phase: its length and the upgrade rate in it.
	Connect  ConnectPhase `json:"connect_phase"`
	Warnings []string     `json:"warnings,omitempty"`
	// Parts are scenario-owned sections of a worker's report, by name,
	// for the scenario's part in the parent process (see Coordinator),
	// such as broadcast's per-message latency maxima. Merge drops them:
	// they describe one process's run and do not add up.
	Parts map[string]json.RawMessage `json:"parts,omitempty"`
}

// Merge combines reports of processes that ran at the same time (or of
// separate runs the caller wants pooled): counters, failures, drops and
// memory are summed (maxima, see Counters, take the largest), histograms
// merged, targets and warnings joined, and the earliest start and longest
// elapsed time kept. Peak counts are summed, which is exact only when the
// peaks coincided; rates derived from a merge of runs that did not overlap
// in time mean nothing, but their histograms pool correctly.
func Merge(reports ...*Report) *Report {
	out := &Report{
		Counters: map[string]int64{},
		Failures: map[string]int64{},
		Drops:    map[string]int64{},
		Latency:  map[string]*Histogram{},
	}
	seenTarget := map[string]bool{}
	seenWarning := map[string]bool{}
	var scenarios []string
	for _, r := range reports {
		if r == nil {
			continue
		}
		if !contains(scenarios, r.Scenario) {
			scenarios = append(scenarios, r.Scenario)
		}
		for _, t := range r.Targets {
			if !seenTarget[t] {
				seenTarget[t] = true
				out.Targets = append(out.Targets, t)
			}
		}
		out.Procs += max(1, r.Procs)
		out.Cores = max(out.Cores, r.Cores)
		if out.Started.IsZero() || (!r.Started.IsZero() && r.Started.Before(out.Started)) {
			out.Started = r.Started
		}
		out.Elapsed = max(out.Elapsed, r.Elapsed)
		for k, v := range r.Counters {
			if isMaxCounter(k) {
				out.Counters[k] = max(out.Counters[k], v)
			} else {
				out.Counters[k] += v
			}
		}
		addAll(out.Failures, r.Failures)
		addAll(out.Drops, r.Drops)
		for name, h := range r.Latency {
			if out.Latency[name] == nil {
				out.Latency[name] = NewHistogram()
			}
			out.Latency[name].Merge(h)
		}
		out.Memory.LoadgenRSSBefore += r.Memory.LoadgenRSSBefore
		out.Memory.LoadgenRSSAfter += r.Memory.LoadgenRSSAfter
		out.Memory.LoadgenConns += r.Memory.LoadgenConns
		out.Memory.Servers = append(out.Memory.Servers, r.Memory.Servers...)
		out.Memory.ServersConns += r.Memory.ServersConns
		out.Connect.Seconds = max(out.Connect.Seconds, r.Connect.Seconds)
		out.Connect.Upgrades += r.Connect.Upgrades
		for _, w := range r.Warnings {
			if !seenWarning[w] {
				seenWarning[w] = true
				out.Warnings = append(out.Warnings, w)
			}
		}
	}
	out.Scenario = strings.Join(scenarios, "+")
	out.Memory.derive()
	out.Connect.derive()
	return out
}

// isMaxCounter reports whether a counter holds a maximum (its name has
// "_max" in it, like connect_schedule_lag_max_ms), which merges by taking
// the larger value rather than the sum.
func isMaxCounter(name string) bool { return strings.Contains(name, "_max") }

func addAll(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteFile writes r as JSON to path.
func (r *Report) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadReport reads a JSON report.
func ReadReport(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	if r.Counters == nil && r.Latency == nil {
		return nil, errors.New("not a load generator report")
	}
	r.Memory.derive()
	r.Connect.derive()
	return &r, nil
}

// ReadReportFile reads a JSON report from path.
func ReadReportFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := ReadReport(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// counterOrder is the order of the well-known counters in the table;
// others follow alphabetically.
func counterOrder() []string {
	return []string{
		CounterPlanned, CounterAttempts, CounterUpgraded, CounterFailed, CounterRetries,
		CounterPeakOpen, CounterOpenAtEnd, CounterClosed, CounterCloseTimedOut, CounterDropped,
		CounterMsgsOut, CounterMsgsIn, CounterBytesOut, CounterBytesIn, CounterPings,
		CounterCPUMillis, CounterScheduleLagMs,
	}
}

// WriteTable writes r as a table for people.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario  %s   procs %d   elapsed %.1fs   cores %d\n", r.Scenario, r.Procs, r.Elapsed, r.Cores)
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "target    %s\n", t)
	}

	b.WriteString("\ncounters\n")
	cw := 28
	for k := range r.Counters {
		cw = max(cw, len(k))
	}
	done := map[string]bool{}
	for _, k := range counterOrder() {
		done[k] = true
		if v, ok := r.Counters[k]; ok && (v != 0 || k == CounterUpgraded || k == CounterFailed || k == CounterDropped) {
			fmt.Fprintf(&b, "  %-*s %12d\n", cw, k, v)
		}
	}
	for _, k := range sortedKeys(r.Counters) {
		if !done[k] {
			fmt.Fprintf(&b, "  %-*s %12d\n", cw, k, r.Counters[k])
		}
	}
	if elapsed := r.Elapsed; elapsed > 0 {
		if n := r.Counters[CounterMsgsIn]; n > 0 {
			fmt.Fprintf(&b, "  %-*s %12.0f\n", cw, "messages_received_per_s", float64(n)/elapsed)
		}
		if cpu := r.Counters[CounterCPUMillis]; cpu > 0 && r.Cores > 0 {
			fmt.Fprintf(&b, "  %-*s %11.0f%%\n", cw, "loadgen_cpu_of_all_cores", float64(cpu)/10/elapsed/float64(r.Cores))
		}
	}
	if c := r.Connect; c.Seconds > 0 {
		fmt.Fprintf(&b, "  %-*s %12.0f   (%d in %.2fs)\n", cw, "connect_phase_upgrades_per_s", c.PerSecond, c.Upgrades, c.Seconds)
	}
	writeSummaries(&b, r)

	writeCauses(&b, "failed attempts by cause", r.Failures)
	writeCauses(&b, "drops by cause", r.Drops)

	writeLatency(&b, r.Latency)
	writeMemory(&b, r.Memory)

	if len(r.Warnings) > 0 {
		b.WriteString("\nwarnings\n")
		for _, wn := range r.Warnings {
			fmt.Fprintf(&b, "  ! %s\n", wn)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeLatency writes the latency table: one row per histogram.
func writeLatency(b *strings.Builder, latency map[string]*Histogram) {
	if len(latency) > 0 {
		lw := 10
		for k := range latency {
			lw = max(lw, len(k))
		}
		fmt.Fprintf(b, "\n%-*s %10s %9s %9s %9s %9s %9s %9s\n", lw+2, "latency", "count", "p50", "p90", "p99", "p99.9", "max", "mean")
		for _, k := range sortedKeys(latency) {
			s := latency[k].Summary()
			fmt.Fprintf(b, "  %-*s %10d %9s %9s %9s %9s %9s %9s\n", lw, k, s.Count,
				us(s.P50), us(s.P90), us(s.P99), us(s.P999), us(s.Max), us(int64(s.Mean)))
		}
	}
}

// writeMemory writes the memory section: the load generator's and each
// server's RSS growth per connection.
func writeMemory(b *strings.Builder, m Memory) {
	if m.LoadgenRSSAfter > 0 || len(m.Servers) > 0 {
		b.WriteString("\nmemory (RSS after connecting and settling, minus before)\n")
		if m.LoadgenRSSAfter > 0 {
			fmt.Fprintf(b, "  loadgen        %s -> %s for %d conns: %d B/conn\n",
				mib(m.LoadgenRSSBefore), mib(m.LoadgenRSSAfter), m.LoadgenConns, m.LoadgenBytesPerConn)
		}
		for _, sv := range m.Servers {
			if sv.RSSAfter == 0 {
				fmt.Fprintf(b, "  server %-7d %s before; not sampled after\n", sv.PID, mib(sv.RSSBefore))
				continue
			}
			if sv.Conns == 0 {
				fmt.Fprintf(b, "  server %-7d %s -> %s (its share of the conns is unknown)\n",
					sv.PID, mib(sv.RSSBefore), mib(sv.RSSAfter))
				continue
			}
			fmt.Fprintf(b, "  server %-7d %s -> %s for %d conns: %d B/conn\n",
				sv.PID, mib(sv.RSSBefore), mib(sv.RSSAfter), sv.Conns, sv.BytesPerConn)
		}
		if before, after := m.serversRSS(); len(m.Servers) > 1 && after > 0 {
			fmt.Fprintf(b, "  servers (%d)    %s -> %s for %d conns: %d B/conn\n",
				len(m.Servers), mib(before), mib(after), m.ServersConns, m.ServersBytesPerConn)
		}
	}
}

// writeSummaries lets each scenario of the report that implements
// Summarizer sum up its part.
func writeSummaries(w io.Writer, r *Report) {
	for _, name := range strings.Split(r.Scenario, "+") {
		if sc, err := NewScenario(name); err == nil {
			if sum, ok := sc.(Summarizer); ok {
				sum.Summarize(w, r)
			}
		}
	}
}

func writeCauses(b *strings.Builder, title string, m map[string]int64) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", title)
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(b, "  %-28s %12d\n", k, m[k])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// us formats microseconds with a readable unit.
func us(v int64) string {
	switch {
	case v >= 10_000_000:
		return fmt.Sprintf("%.1fs", float64(v)/1e6)
	case v >= 10_000:
		return fmt.Sprintf("%.1fms", float64(v)/1e3)
	case v >= 1_000:
		return fmt.Sprintf("%.2fms", float64(v)/1e3)
	}
	return fmt.Sprintf("%dµs", v)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
