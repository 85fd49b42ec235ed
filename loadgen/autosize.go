package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// HostLimits are the host settings that bound one load generator process:
// the descriptor limit a worker can raise its soft limit to, and the
// ephemeral port range every (source, target) pair draws from.
type HostLimits struct {
	NoFile uint64 // hard RLIMIT_NOFILE
	PortLo int    // net.ipv4.ip_local_port_range
	PortHi int
}

// ReadHostLimits reads this host's limits. It may be called from any
// goroutine.
func ReadHostLimits() (HostLimits, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return HostLimits{}, fmt.Errorf("getrlimit RLIMIT_NOFILE: %w", err)
	}
	lo, hi, err := PortRange()
	if err != nil {
		return HostLimits{}, err
	}
	return HostLimits{NoFile: rl.Max, PortLo: lo, PortHi: hi}, nil
}

// Sizing is what --procs auto and --sources auto decided, with the reason
// in words for the start-up log.
type Sizing struct {
	Procs   int
	Sources []netip.Addr
	Why     string
}

// ErrAutoSources is returned when --sources auto cannot help: more source
// addresses are needed but the targets are not on loopback, where every
// 127.0.0.x address is local without configuration.
var ErrAutoSources = errors.New("--sources auto needs loopback targets (127.0.0.0/8) to pick 127.0.0.x sources; give --source")

// Headroom: a process is planned to use at most 9/10 of its descriptors
// and a (source, target) pair at most 9/10 of HALF the ephemeral ports.
// Linux's connect() looks for a free port of one parity first (the other
// is left to bind()), walking the range from an offset that is the same
// for every connection of one (source, target) pair: once that half is
// used up, every further connect() walks all of it, checking each port's
// four-tuple, before it tries the other half. Measured here at 160,000
// connections over 3 sources, the connect rate fell from 5,000/s to about
// 350/s at ~32,000 connections per source, with 84% of both cores in
// __inet_hash_connect and __inet_check_established. Keeping each pair
// inside half the range keeps connect() O(1).
const (
	headroomNum = 9
	headroomDen = 10
	// maxAutoSources keeps auto sources inside 127.0.0.2-127.0.0.254.
	maxAutoSources = 253
)

// AutoSize works out the worker processes (when procs is set) and the
// source addresses (when sources is set) that p.Conns connections need
// under the limits h. Each process may hold (NoFile - its fixed overhead)
// * 9/10 sockets; each (source, target address) pair (*9/10 of) the port
// range. Sources are 127.0.0.2 upwards and are only chosen for loopback
// targets; one source or none needed means none (the kernel's default).
func AutoSize(p Plan, h HostLimits, procs, sources bool) (Sizing, error) {
	p = p.withDefaults()
	out := Sizing{Procs: 1, Sources: p.Sources}
	var why []string
	if procs {
		usable := (int64(h.NoFile) - int64(fdOverhead(p))) * headroomNum / headroomDen
		if usable < 1 {
			return Sizing{}, fmt.Errorf("RLIMIT_NOFILE hard limit %d leaves no descriptor for connections", h.NoFile)
		}
		out.Procs = max(1, int((int64(p.Conns)+usable-1)/usable))
		why = append(why, fmt.Sprintf("procs %d: %d conns, at most %d per process under RLIMIT_NOFILE %d", out.Procs, p.Conns, usable, h.NoFile))
	}
	if sources {
		dests, loopback := targetAddrs(p.Targets)
		perPair := FastPortsPerPair(h.PortLo, h.PortHi)
		if perPair < 1 {
			return Sizing{}, fmt.Errorf("ephemeral port range %d-%d is empty", h.PortLo, h.PortHi)
		}
		need := ceilDiv(p.Conns, perPair*max(1, dests))
		out.Sources = nil
		switch {
		case need <= 1:
			why = append(why, fmt.Sprintf("sources: default (%d conns fit %d ports x %d targets)", p.Conns, perPair, dests))
		case !loopback:
			return Sizing{}, ErrAutoSources
		case need > maxAutoSources:
			return Sizing{}, fmt.Errorf("--sources auto: %d conns need %d source addresses, more than %d", p.Conns, need, maxAutoSources)
		default:
			a := netip.AddrFrom4([4]byte{127, 0, 0, 2})
			for range need {
				out.Sources = append(out.Sources, a)
				a = a.Next()
			}
			why = append(why, fmt.Sprintf("sources %v-%v: %d conns, %d ports per (source, target) x %d targets",
				out.Sources[0], out.Sources[need-1], p.Conns, perPair, dests))
		}
	}
	for i, w := range why {
		if i > 0 {
			out.Why += "; "
		}
		out.Why += w
	}
	return out, nil
}

// FastPortsPerPair is how many connections one (source, target) pair is
// planned to carry in the ephemeral range lo-hi: 9/10 of half of it (see
// the headroom constants for why half). Any goroutine may call it.
func FastPortsPerPair(lo, hi int) int {
	return (hi - lo + 1) / 2 * headroomNum / headroomDen
}

// targetAddrs counts the distinct host:port addresses of the targets and
// says whether all are on loopback.
func targetAddrs(targets []string) (n int, loopback bool) {
	seen := map[string]bool{}
	loopback = true
	for _, raw := range targets {
		t, err := parseTarget(raw)
		if err != nil {
			continue
		}
		seen[t.addr] = true
		host, _, _ := net.SplitHostPort(t.addr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			loopback = false
		}
	}
	return len(seen), loopback
}
