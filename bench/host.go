package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Paths of the host settings the harness checks.
const (
	portRangePath = "/proc/sys/net/ipv4/ip_local_port_range"
	twReusePath   = "/proc/sys/net/ipv4/tcp_tw_reuse"
)

// hostWarnings checks what a run of conns connections from sources
// source addresses needs from the host and says, for each shortfall, what
// to set. Nothing here stops a run: a small run works on a default host.
//
// The load generator binds its source address without a port
// (IP_BIND_ADDRESS_NO_PORT), so each source address has the whole
// ephemeral range to itself per destination; twice a source's share of
// the connections leaves room for the previous run's sockets still in
// TIME_WAIT. tcp_tw_reuse 1 (everywhere) or 2 (loopback only, the
// kernel's default) both let a new connection take such a port.
func hostWarnings(conns, sources int) []string {
	var w []string
	need := 2 * conns / max(sources, 1)
	if lo, hi, err := readPortRange(portRangePath); err != nil {
		w = append(w, fmt.Sprintf("cannot read %s: %v", portRangePath, err))
	} else if hi-lo+1 < need {
		w = append(w, fmt.Sprintf("ephemeral ports %d-%d (%d) are fewer than %d per source address: set sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\" or spread --source wider",
			lo, hi, hi-lo+1, need))
	}
	if v, err := readInt(twReusePath); err != nil {
		w = append(w, fmt.Sprintf("cannot read %s: %v", twReusePath, err))
	} else if v == 0 {
		w = append(w, "net.ipv4.tcp_tw_reuse is 0: closed connections of one run hold the ports the next needs; set sysctl -w net.ipv4.tcp_tw_reuse=1")
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Max < uint64(conns)+200 {
		w = append(w, fmt.Sprintf("descriptor hard limit %d is below %d connections plus headroom: raise it (ulimit -Hn, LimitNOFILE) or lower --conns", rl.Max, conns))
	}
	return w
}

func readPortRange(path string) (lo, hi int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("want two numbers, got %q", strings.TrimSpace(string(b)))
	}
	if lo, err = strconv.Atoi(f[0]); err != nil {
		return 0, 0, err
	}
	if hi, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, err
	}
	return lo, hi, nil
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// countSources counts the addresses of a --source value: a comma-separated
// list of addresses and a.b.c.X-a.b.c.Y ranges (the last octet varying).
// What it cannot read counts as one address; the load generator itself
// rejects a bad value.
func countSources(spec string) int {
	n := 0
	for _, part := range strings.Split(spec, ",") {
		lo, hi, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			n++
			continue
		}
		a, errA := strconv.Atoi(lo[strings.LastIndexByte(lo, '.')+1:])
		b, errB := strconv.Atoi(hi[strings.LastIndexByte(hi, '.')+1:])
		if errA != nil || errB != nil || b < a {
			n++
			continue
		}
		n += b - a + 1
	}
	return max(n, 1)
}
