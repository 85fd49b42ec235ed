package loadgen

import (
	"fmt"
	"strings"
)

// Progress is a snapshot of a running session, produced about once a
// second and whenever the phase changes. Counts are cumulative; P99 is per
// histogram over the interval since the previous snapshot.
type Progress struct {
	Elapsed     float64          `json:"elapsed_s"`
	Phase       string           `json:"phase"`
	Settled     bool             `json:"settled"`
	Open        int64            `json:"open"`
	OpenBy      []int64          `json:"open_by_target"`
	Handshaking int64            `json:"handshaking"`
	Upgraded    int64            `json:"upgraded"`
	Failures    int64            `json:"failures"`
	Dropped     int64            `json:"dropped"`
	MsgsOut     int64            `json:"messages_sent"`
	MsgsIn      int64            `json:"messages_received"`
	CPUMillis   int64            `json:"cpu_ms"`
	P99         map[string]int64 `json:"p99_us,omitempty"`
	P50         map[string]int64 `json:"p50_us,omitempty"`
	Procs       int              `json:"procs"`
}

func (s *Session) progress() Progress {
	cpu, _ := cpuMillis()
	p := Progress{
		Elapsed:     float64(s.Now()) / 1e9,
		Phase:       s.phaseName(),
		Settled:     s.settled.Load(),
		Open:        s.m.open.Load(),
		OpenBy:      s.m.openByTarget(),
		Handshaking: s.m.handshaking.Load(),
		Upgraded:    s.m.upgraded.Load(),
		Failures:    s.m.failureTotal(),
		Dropped:     s.m.dropped.Load(),
		MsgsOut:     s.m.msgsOut.Load(),
		MsgsIn:      s.m.msgsIn.Load(),
		CPUMillis:   cpu,
		Procs:       1,
	}
	s.m.mu.Lock()
	recs := make(map[string]*Recorder, len(s.m.recs))
	for k, r := range s.m.recs {
		recs[k] = r
	}
	s.m.mu.Unlock()
	for k, r := range recs {
		if p50, p99, n := r.intervalQuantiles(); n > 0 {
			if p.P99 == nil {
				p.P99, p.P50 = map[string]int64{}, map[string]int64{}
			}
			p.P99[k], p.P50[k] = p99, p50
		}
	}
	return p
}

// MergeProgress sums snapshots of processes running side by side. The
// interval p50 and p99 of the merge are the worst of the processes' (percentiles do
// not add up; the final report merges the histograms exactly). The phase is
// the earliest any process is in, by the order processes go through them.
func MergeProgress(ps []Progress) Progress {
	var out Progress
	for i, p := range ps {
		if i == 0 {
			out.Phase = p.Phase
			out.Settled = true
		} else if phaseRank(p.Phase) < phaseRank(out.Phase) {
			out.Phase = p.Phase
		}
		out.Settled = out.Settled && p.Settled
		out.Elapsed = max(out.Elapsed, p.Elapsed)
		out.Open += p.Open
		if len(out.OpenBy) < len(p.OpenBy) {
			out.OpenBy = append(out.OpenBy, make([]int64, len(p.OpenBy)-len(out.OpenBy))...)
		}
		for j, v := range p.OpenBy {
			out.OpenBy[j] += v
		}
		out.Handshaking += p.Handshaking
		out.Upgraded += p.Upgraded
		out.Failures += p.Failures
		out.Dropped += p.Dropped
		out.MsgsOut += p.MsgsOut
		out.MsgsIn += p.MsgsIn
		out.CPUMillis += p.CPUMillis
		out.Procs += max(1, p.Procs)
		for k, v := range p.P99 {
			if out.P99 == nil {
				out.P99, out.P50 = map[string]int64{}, map[string]int64{}
			}
			out.P99[k] = max(out.P99[k], v)
			out.P50[k] = max(out.P50[k], p.P50[k])
		}
	}
	return out
}

func phaseRank(p string) int {
	switch p {
	case "starting":
		return 0
	case "connecting":
		return 1
	case "settling":
		return 2
	case "closing":
		return 5
	case "done":
		return 6
	}
	return 3 // holding, running, and scenario phases
}

// FormatProgress renders cur as one status line; rates come from the
// difference with prev (the zero Progress for the first line) and are left
// out when the two are less than half a second apart.
func FormatProgress(prev, cur Progress) string {
	dt := cur.Elapsed - prev.Elapsed
	rated := dt >= 0.5
	rate := func(a, b int64) float64 { return float64(b-a) / dt }
	var b strings.Builder
	fmt.Fprintf(&b, "%7.1fs %-10s open %d", cur.Elapsed, cur.Phase, cur.Open)
	if rated {
		fmt.Fprintf(&b, " (+%.0f/s)", rate(prev.Upgraded, cur.Upgraded))
	}
	if cur.Handshaking > 0 {
		fmt.Fprintf(&b, " hs %d", cur.Handshaking)
	}
	fmt.Fprintf(&b, "  errors %d  drops %d", cur.Failures, cur.Dropped)
	if rated && (cur.MsgsOut > prev.MsgsOut || cur.MsgsIn > prev.MsgsIn) {
		fmt.Fprintf(&b, "  msg/s out %.0f in %.0f", rate(prev.MsgsOut, cur.MsgsOut), rate(prev.MsgsIn, cur.MsgsIn))
	}
	for _, k := range sortedKeys(cur.P99) {
		fmt.Fprintf(&b, "  %s p99 %s", k, us(cur.P99[k]))
	}
	if cur.Procs > 1 {
		fmt.Fprintf(&b, "  [%d procs]", cur.Procs)
	}
	return b.String()
}
