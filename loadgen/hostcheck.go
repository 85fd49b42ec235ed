package loadgen

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// fdOverhead is what a load generator process needs besides its sockets:
// stdio, epoll and eventfd per loop, the dial workers' sockets in flight
// (two each while gnet duplicates them), and slack.
func fdOverhead(p Plan) int { return 64 + 4*p.Loops + 2*p.DialWorkers }

// HostWarnings checks this host's limits against a plan run over procs
// processes and says what to change: too few file descriptors per process
// (RLIMIT_NOFILE) and too few ephemeral ports per (source, target) pair
// (net.ipv4.ip_local_port_range). They are warnings, not errors: the run
// goes ahead and the failures it meets are counted by cause.
func HostWarnings(p Plan, procs int) []string {
	p = p.withDefaults()
	procs = max(1, procs)
	var out []string
	if w := fdWarning(p, procs); w != "" {
		out = append(out, w)
	}
	if w := portWarning(p); w != "" {
		out = append(out, w)
	}
	return out
}

func fdWarning(p Plan, procs int) string {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return ""
	}
	return fdAdvice(p, procs, int64(rl.Cur), int64(rl.Max))
}

// fdAdvice compares the descriptors each of procs processes needs with the
// soft and hard RLIMIT_NOFILE.
func fdAdvice(p Plan, procs int, soft, hard int64) string {
	perProc := ceilDiv(p.Conns, procs)
	need := int64(perProc + fdOverhead(p))
	if need <= soft {
		return ""
	}
	if need <= hard {
		return fmt.Sprintf("RLIMIT_NOFILE soft limit %d is below the %d descriptors %d connections per process need: raise it (ulimit -n %d)",
			soft, need, perProc, hard)
	}
	usable := int(hard) - fdOverhead(p)
	if usable <= 0 {
		return fmt.Sprintf("RLIMIT_NOFILE hard limit %d is too low to run at all", hard)
	}
	return fmt.Sprintf("RLIMIT_NOFILE hard limit %d cannot hold %d connections per process: add --procs %d",
		hard, perProc, ceilDiv(p.Conns, usable))
}

// portWarning compares the connections per (source, target) pair with the
// ephemeral port range.
func portWarning(p Plan) string {
	lo, hi, err := PortRange()
	if err != nil {
		return ""
	}
	return portAdvice(p, lo, hi, readSysctlInt("net/ipv4/tcp_tw_reuse"))
}

// portAdvice says what to change when the connections per (source,
// target) pair come near the lo-hi port range: each connection from one
// source address to one target needs its own local port, and with
// tcp_tw_reuse off a closed one keeps it for 60 s in TIME_WAIT.
func portAdvice(p Plan, lo, hi, twReuse int) string {
	avail := hi - lo + 1
	dests := map[string]bool{}
	loopback := true
	for _, raw := range p.Targets {
		t, err := parseTarget(raw)
		if err != nil {
			continue
		}
		dests[t.addr] = true
		host, _, _ := net.SplitHostPort(t.addr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			loopback = false
		}
	}
	sources := max(1, len(p.Sources))
	pairs := max(1, len(dests)*sources)
	perPair := ceilDiv(p.Conns, pairs)
	churnTW := p.Scenario == "churn" && twReuse == 0
	if churnTW {
		perPair += ceilDiv(int(p.Rate*60), pairs)
	}
	if perPair <= avail*9/10 {
		return ""
	}
	var fix []string
	if avail < 64512 {
		fix = append(fix, `sysctl -w net.ipv4.ip_local_port_range="1024 65535"`)
		avail = 64512
	}
	if need := ceilDiv(perPair*sources, avail*9/10); need > sources {
		if loopback {
			fix = append(fix, fmt.Sprintf("add --source 127.0.0.2-127.0.0.%d", min(254, need+1)))
		} else {
			fix = append(fix, fmt.Sprintf("add --source with %d local addresses", need))
		}
	}
	if churnTW {
		fix = append(fix, "sysctl -w net.ipv4.tcp_tw_reuse=1")
	}
	return fmt.Sprintf("%d connections per (source, target) pair but only %d ephemeral ports (%d-%d): %s",
		perPair, hi-lo+1, lo, hi, strings.Join(fix, "; "))
}

// PortRange reads net.ipv4.ip_local_port_range.
func PortRange() (lo, hi int, err error) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("ip_local_port_range: unexpected %q", b)
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi < lo {
		return 0, 0, fmt.Errorf("ip_local_port_range: unexpected %q", b)
	}
	return lo, hi, nil
}

// readSysctlInt reads an integer under /proc/sys, or -1.
func readSysctlInt(key string) int {
	b, err := os.ReadFile("/proc/sys/" + key)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// tickLagLimit is the tick lag p99 past which the event loops count as
// saturated: the pacer asks for a tick every millisecond.
const tickLagLimit = 10_000 // µs

// reportWarnings turns what a report shows about the load generator's own
// limits into advice: failure causes that are its own (descriptors, ports),
// a connect schedule it could not keep, event loops too busy to run their
// timers on time.
func reportWarnings(r *Report) []string {
	var out []string
	if n := r.Failures[CauseFDs]; n > 0 {
		out = append(out, fmt.Sprintf("%d attempts failed with too many open files: add --procs or raise RLIMIT_NOFILE", n))
	}
	if n := r.Failures[CausePorts]; n > 0 {
		out = append(out, fmt.Sprintf("%d attempts found no free ephemeral port: add --source 127.0.0.2-127.0.0.20, or sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"", n))
	}
	if lag := r.Counters[CounterScheduleLagMs]; lag >= 1000 {
		out = append(out, fmt.Sprintf("connection attempts started up to %d ms behind schedule: the dial workers could not keep up with --rate; add --dial-workers or --procs", lag))
	}
	if h := r.Latency[HistTickLag]; h != nil {
		if p99 := h.Summary().P99; p99 >= tickLagLimit {
			out = append(out, fmt.Sprintf("the event loops ran their timers late (tick_lag p99 %s): they were saturated, so sends went out late and latencies include the load generator's own delay; give them more cores (--loops up to the core count) or lower the load", us(p99)))
		}
	}
	if n := r.Counters[CounterPublishSkipped]; n > 0 || r.Counters[CounterPublishLagMs] >= 1000 {
		out = append(out, fmt.Sprintf("the publish API answered slower than --pub-rate allows (publish p50 %s): posting one message at a time, the publisher fell up to %d ms behind and skipped %d of its scheduled messages; latencies count from each actual post",
			us(r.Latency[HistPublish].Summary().P50), r.Counters[CounterPublishLagMs], n))
	}
	return out
}

func ceilDiv(a, b int) int {
	if b <= 0 {
		return a
	}
	return (a + b - 1) / b
}
