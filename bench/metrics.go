package bench

import (
	"fmt"
	"strconv"
	"time"
)

// Kind is one kind of load generator run; each gives several metrics.
type Kind string

// The kinds of run, in the order they are measured.
const (
	KindIdle      Kind = "idle"
	KindEcho      Kind = "echo"
	KindBroadcast Kind = "broadcast"
)

// Metric is one row of the table.
type Metric struct {
	Key   string // stable identifier, e.g. "rss_per_conn"
	Label string // what the table says
	Unit  string
	// LowerIsBetter says which way a ratio against myriad favours myriad.
	LowerIsBetter bool
	Kind          Kind
}

// Metric keys.
const (
	MetricRSSPerConn = "rss_per_conn"
	MetricUpgrades   = "upgrades_per_s"
	MetricEchoRate   = "echo_msgs_per_s"
	MetricEchoP50    = "echo_p50"
	MetricEchoP99    = "echo_p99"
	MetricEchoP999   = "echo_p999"
	MetricLastSubP50 = "broadcast_last_p50"
	MetricLastSubMax = "broadcast_last_max"
	microsPerMilli   = 1e3
	millisPerSecond  = 1e3
)

// Metrics returns the rows of the table for c (the labels name its
// sizes). It may be called from any goroutine.
func (c Config) Metrics() []Metric {
	c = c.withDefaults()
	n := strconv.Itoa(c.Conns)
	return []Metric{
		{MetricRSSPerConn, "RSS per idle conn @" + n, "B", true, KindIdle},
		{MetricUpgrades, "upgrades/s, " + strconv.Itoa(c.DialWorkers) + " dialers", "/s", false, KindIdle},
		{MetricEchoRate, "echo msg/s, " + strconv.Itoa(c.EchoConns) + " conns closed loop", "/s", false, KindEcho},
		{MetricEchoP50, "echo p50", "µs", true, KindEcho},
		{MetricEchoP99, "echo p99", "µs", true, KindEcho},
		{MetricEchoP999, "echo p99.9", "µs", true, KindEcho},
		{MetricLastSubP50, "broadcast last sub @" + n + " p50", "ms", true, KindBroadcast},
		{MetricLastSubMax, "broadcast last sub @" + n + " max", "ms", true, KindBroadcast},
	}
}

// loadgenArgs is the myriad-loadgen command line of a run of kind k
// against s, writing its JSON report to jsonPath.
func (c Config) loadgenArgs(k Kind, s *server, jsonPath string) []string {
	common := []string{
		"--dial-workers", strconv.Itoa(c.DialWorkers),
		"--source", c.Sources,
		"--close-timeout", c.CloseTimeout.String(),
		"--json", jsonPath, "--quiet",
	}
	var a []string
	switch k {
	case KindIdle:
		// --duration is the hold after --settle.
		a = []string{"idle", "--url", "ws://" + s.ws + "/echo", "--conns", strconv.Itoa(c.Conns), "--rate", "0",
			"--settle", c.Settle.String(), "--duration", c.Hold.String(), "--server-pid", strconv.Itoa(s.pid)}
	case KindEcho:
		a = []string{"echo", "--url", "ws://" + s.ws + "/echo", "--conns", strconv.Itoa(c.EchoConns),
			"--in-flight", strconv.Itoa(c.EchoInFlight), "--size", strconv.Itoa(c.EchoSize), "--duration", c.EchoDuration.String()}
	case KindBroadcast:
		a = []string{"broadcast", "--url", "ws://" + s.ws + "/ws", "--api", "http://" + s.api + "/publish",
			"--conns", strconv.Itoa(c.Conns), "--settle", c.Settle.String(), "--pub-rate", ftoa(c.PubRate),
			"--size", strconv.Itoa(c.PubSize), "--duration", c.PubDuration.String()}
	}
	return append(a, common...)
}

// runTimeout bounds one load generator run of kind k.
func (c Config) runTimeout(k Kind) time.Duration {
	base := 2*time.Minute + 2*c.CloseTimeout
	switch k {
	case KindIdle:
		return base + 2*c.Settle + c.Hold
	case KindEcho:
		return base + c.EchoDuration
	default:
		return base + 2*c.Settle + c.PubDuration
	}
}

// extract turns the report of a run of kind k into metric values, and
// lists what went wrong in it (failed upgrades, lost messages): a value
// from a run with problems is kept, but the problems are reported beside
// the table.
func (c Config) extract(k Kind, r *report) (map[string]float64, []string) {
	v := map[string]float64{}
	var problems []string
	if f := r.failed(); f > 0 {
		problems = append(problems, fmt.Sprintf("%d failed attempts or drops (failures %v, drops %v)", f, r.Failures, r.Drops))
	}
	switch k {
	case KindIdle:
		up := r.Counters["conns_upgraded"]
		if up < int64(c.Conns) {
			problems = append(problems, fmt.Sprintf("%d of %d connections upgraded", up, c.Conns))
		}
		if len(r.Memory.Servers) == 1 && r.Memory.Servers[0].Conns > 0 && r.Memory.Servers[0].RSSAfter > 0 {
			m := r.Memory.Servers[0]
			v[MetricRSSPerConn] = float64(m.RSSAfter-m.RSSBefore) / float64(m.Conns)
		} else {
			problems = append(problems, "server RSS not sampled")
		}
		if r.Connect.PerSecond > 0 {
			v[MetricUpgrades] = r.Connect.PerSecond
		} else {
			problems = append(problems, "no connect phase in the report")
		}
	case KindEcho:
		rtt := r.Latency["rtt"].Summary
		if ms := r.Counters["echo_sending_max_ms"]; ms > 0 {
			v[MetricEchoRate] = float64(r.Counters["echo_answered_while_sending"]) / (float64(ms) / millisPerSecond)
		} else {
			problems = append(problems, "no sending time in the echo report")
		}
		v[MetricEchoP50], v[MetricEchoP99], v[MetricEchoP999] = float64(rtt.P50), float64(rtt.P99), float64(rtt.P999)
		if lost := r.Counters["echo_unanswered"]; lost > 0 {
			problems = append(problems, fmt.Sprintf("%d echoes unanswered", lost))
		}
	case KindBroadcast:
		last := r.Latency["last_subscriber"].Summary
		v[MetricLastSubP50] = float64(last.P50) / microsPerMilli
		v[MetricLastSubMax] = float64(last.Max) / microsPerMilli
		if subs := r.Counters["broadcast_subscribers"]; subs < int64(c.Conns) {
			problems = append(problems, fmt.Sprintf("%d of %d subscribers when publishing began", subs, c.Conns))
		}
		if lost := r.Counters["broadcast_lost"]; lost > 0 {
			problems = append(problems, fmt.Sprintf("%d deliveries lost", lost))
		}
		if r.Counters["broadcast_published"] == 0 {
			problems = append(problems, "nothing published")
		}
	}
	return v, problems
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
