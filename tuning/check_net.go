package tuning

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// acceptQueueNeed is the accept and SYN queue depth the target needs: as
// deep as the connection count up to 65535, the largest backlog gnet
// passes to listen(2), and never below the 4096 modern kernels default to.
func (t Target) acceptQueueNeed() int64 {
	return min(max(int64(t.Conns), 4096), 65535)
}

func (c checker) somaxconn() Finding {
	return c.atLeast("net.core.somaxconn", c.t.acceptQueueNeed(), Warn,
		"It caps each listener's accept queue (gnet reads it once at start, so set it before starting); in a reconnect storm a full queue drops handshakes and clients back off for a second or more.")
}

func (c checker) synBacklog() Finding {
	return c.atLeast("net.ipv4.tcp_max_syn_backlog", c.t.acceptQueueNeed(), Warn,
		"It caps handshakes waiting for their final ACK; beyond it SYNs are dropped or answered with syncookies, which lose window scaling and other options.")
}

// netdevBacklog judges the per-CPU input queue. Loopback traffic passes
// through it too, so it matters for load tests on one host.
func (c checker) netdevBacklog() Finding {
	var need int64 = 1000
	if c.t.Conns > 10000 {
		need = 16384
	}
	return c.atLeast("net.core.netdev_max_backlog", need, Warn,
		"It is the per-CPU queue of received packets, loopback included; a burst of handshakes beyond it is dropped (second column of /proc/net/softnet_stat).")
}

// portRange judges net.ipv4.ip_local_port_range for a load generator. A
// connected socket is unique by its 4-tuple, so each (source address,
// destination address:port) pair can carry one connection per ephemeral
// port; reserved ports inside the range do not count.
func (c checker) portRange() Finding {
	const key = "net.ipv4.ip_local_port_range"
	t := c.t
	pairs := int64(t.Sources) * int64(t.Destinations)
	perPair := ceilDiv(int64(t.Conns), pairs)
	needed := fmt.Sprintf(">= %d ports (%d conns / %d src / %d dst)", perPair, t.Conns, t.Sources, t.Destinations)
	v, err := readInts(c.h.Root, key, 2)
	if err != nil {
		return unreadable(key, needed, err)
	}
	reserved, _ := readSysctl(c.h.Root, "net.ipv4.ip_local_reserved_ports")
	usable := v[1] - v[0] + 1 - countReservedIn(parsePortList(reserved), v[0], v[1])
	f := Finding{
		Name: key, Key: key,
		Current: fmt.Sprintf("%d %d (%d usable ports)", v[0], v[1], usable),
		Needed:  needed,
		Why:     "Each connection from one source address to one server address:port needs its own ephemeral port, so the range caps connections per (source, destination) pair.",
	}
	if usable >= perPair {
		return c.halfRange(f, usable, perPair, v[0] > 1024 || v[1] < 65535)
	}
	f.Severity = Fail
	if v[0] > 1024 || v[1] < 65535 {
		f.Want = "1024 65535"
		f.Fix = sysctlFix(key, f.Want)
	}
	if perPair > MaxEphemeralPorts {
		src := ceilDiv(int64(t.Conns), MaxEphemeralPorts/2*int64(t.Destinations))
		f.Needed = fmt.Sprintf("%d conns need >= %d source addresses (at most %d ports each, half the widest range, for a fast connect())", t.Conns, src, MaxEphemeralPorts/2)
		more := fmt.Sprintf("dial from >= %d source addresses (any of 127.0.0.0/8 on loopback, bound with IP_BIND_ADDRESS_NO_PORT), then check again with --sources %d", src, src)
		if f.Fix == "" {
			f.Fix = more
		} else {
			f.Fix += "\nand " + more
		}
	} else if f.Fix == "" {
		f.Fix = "unreserve ports inside the range, or dial from more source addresses"
	}
	return f
}

// halfRange warns when a (source, destination) pair is to use more than
// half of the usable ports: Linux's connect() searches one parity of the
// range first, from the same offset for every connection of the pair, so
// past half of it each connect() walks thousands of ports and the connect
// rate collapses (measured: from 5,000/s to ~350/s, with both cores in
// __inet_hash_connect). It fits, but slowly; more sources fix it.
// When widening the range to 1024-65535 is enough, that is the fix.
func (c checker) halfRange(f Finding, usable, perPair int64, narrow bool) Finding {
	half := usable / 2
	if perPair <= half {
		return f
	}
	f.Severity = Warn
	f.Needed = fmt.Sprintf("<= %d ports per (source, destination) pair (half the range) for a fast connect()", half)
	if narrow && perPair <= MaxEphemeralPorts/2 {
		f.Want = "1024 65535"
		f.Fix = sysctlFix(f.Key, f.Want)
		return f
	}
	src := ceilDiv(int64(c.t.Conns), MaxEphemeralPorts/2*int64(max(1, c.t.Destinations)))
	f.Fix = fmt.Sprintf("dial from >= %d source addresses (any of 127.0.0.0/8 on loopback, bound with IP_BIND_ADDRESS_NO_PORT), then check again with --sources %d", src, src)
	return f
}

// reservedPorts warns when the server's port can be handed out as an
// ephemeral port. It judges against the wider of the current range and the
// range the report is about to suggest, since a widened range is what
// usually swallows the port.
func (c checker) reservedPorts(portRange Finding) Finding {
	const key = "net.ipv4.ip_local_reserved_ports"
	port := int64(c.t.Port)
	needed := fmt.Sprintf("includes %d if in range", port)
	cur, err := readSysctl(c.h.Root, key)
	if err != nil {
		return unreadable(key, needed, err)
	}
	lo, hi := int64(-1), int64(-1)
	for _, s := range []string{portRange.Want, rangeOf(portRange.Current)} {
		if v, err := parseInts(s, 2); err == nil {
			if lo < 0 || v[0] < lo {
				lo = v[0]
			}
			hi = max(hi, v[1])
		}
	}
	if lo < 0 {
		if v, err := readInts(c.h.Root, "net.ipv4.ip_local_port_range", 2); err == nil {
			lo, hi = v[0], v[1]
		}
	}
	list := parsePortList(cur)
	f := Finding{
		Name: key, Key: key, Current: cur, Needed: needed,
		Why: "The server port lies inside the ephemeral range, so while the server is down an outgoing connection can be given it and the restart then fails to bind.",
	}
	if cur == "" {
		f.Current = "(none)"
	}
	if port < lo || port > hi || countReservedIn(list, port, port) == 1 {
		f.Why = "Ports outside the ephemeral range or reserved are never handed to outgoing connections."
		return f
	}
	f.Severity = Warn
	f.Want = formatPortList(append(list, portSpan{port, port}))
	f.Fix = sysctlFix(key, f.Want)
	return f
}

// rangeOf extracts "lo hi" from a port-range Current such as
// "32768 60999 (28232 usable ports)".
func rangeOf(current string) string {
	f := strings.Fields(current)
	if len(f) < 2 {
		return ""
	}
	return f[0] + " " + f[1]
}

func (c checker) twReuse() Finding {
	const key = "net.ipv4.tcp_tw_reuse"
	f := Finding{
		Name: key, Key: key, Needed: "1",
		Why: "It lets a new outgoing connection reuse a port whose last connection is in TIME_WAIT; without it each port of a reconnect run waits 60 s (2 allows it for loopback only).",
	}
	v, err := readInts(c.h.Root, key, 1)
	if err != nil {
		return unreadable(key, f.Needed, err)
	}
	f.Current = strconv.FormatInt(v[0], 10)
	if v[0] != 1 {
		f.Severity = Warn
		f.Want = "1"
		f.Fix = sysctlFix(key, f.Want)
	}
	return f
}

// migrateReq judges net.ipv4.tcp_migrate_req (Linux 5.14+). A restart
// (SIGHUP) keeps the old process's or worker's listeners open until it
// exits; when they close, connections still queued on them move to a live
// listener of the port with it, and are reset without it.
func (c checker) migrateReq() Finding {
	const key = "net.ipv4.tcp_migrate_req"
	f := Finding{
		Name: key, Key: key, Needed: "1",
		Why: "A restart (SIGHUP, myriad restart, a --workers replacement) closes the old listeners while the new ones listen; with it the kernel moves connections still queued on the closing listeners to a live one instead of resetting them.",
	}
	v, err := readInts(c.h.Root, key, 1)
	if err != nil {
		return unreadable(key, f.Needed+" (Linux 5.14 or later)", err)
	}
	f.Current = strconv.FormatInt(v[0], 10)
	if v[0] != 1 {
		f.Severity = Warn
		f.Want = "1"
		f.Fix = sysctlFix(key, f.Want)
	}
	return f
}

// finTimeout judges tcp_fin_timeout. The kernel default of 60 s only
// matters when a close of every connection leaves many sockets waiting.
func (c checker) finTimeout() Finding {
	var limit int64 = 60
	if c.t.Conns > 10000 {
		limit = 30
	}
	return c.atMost("net.ipv4.tcp_fin_timeout", limit, Warn,
		"A socket this side closed waits this many seconds for the peer's FIN; after closing every connection at once (drain, restart) they all linger holding memory and, when dialling, ports.")
}

func (c checker) maxOrphans() Finding {
	return c.atLeast("net.ipv4.tcp_max_orphans", int64(c.t.Conns), Warn,
		"Sockets the process closed but the peer has not are orphans; beyond this count the kernel resets them and logs 'too many orphaned sockets', so a drain of every connection is not graceful.")
}

// conntrack judges nf_conntrack_max. The key exists only while the
// nf_conntrack module is loaded; a loaded module tracks connections only
// when some firewall rule or NAT uses it, which nf_conntrack_count shows.
func (c checker) conntrack() Finding {
	const key = "net.netfilter.nf_conntrack_max"
	need := int64(c.t.Conns) + int64(c.t.Conns)/4
	if !sysctlExists(c.h.Root, key) {
		return Finding{
			Name: key, Current: "not loaded", Needed: fmt.Sprintf(">= %d if loaded", need),
			Why: "Without the nf_conntrack module no connection takes a tracking entry.",
		}
	}
	f := c.atLeast(key, need, Fail,
		"While connection tracking is active every connection takes a table entry, and when the table is full new connections are dropped ('nf_conntrack: table full, dropping packet').")
	if f.Fix != "" {
		f.Fix += "\nor exempt the port from tracking (see server-host.md); inside a container the table is node-wide and read-only"
	}
	n, err := readInts(c.h.Root, "net.netfilter.nf_conntrack_count", 1)
	if err != nil {
		return f
	}
	f.Current += fmt.Sprintf(" (%d tracked now)", n[0])
	if f.Severity == Fail && n[0] == 0 {
		// Loaded but idle: no rule may be using it, and then nothing is
		// tracked. Only watching the count under load tells.
		f.Severity = Warn
		f.Why = "The module is loaded but tracks nothing now; if a firewall or NAT rule starts using it, every connection takes an entry and a full table drops new connections (watch nf_conntrack_count under load)."
	}
	return f
}

// portSpan is an inclusive range of ports from ip_local_reserved_ports.
type portSpan struct{ lo, hi int64 }

// parsePortList parses the "8080,9000-9010" syntax of
// ip_local_reserved_ports, skipping malformed items.
func parsePortList(s string) []portSpan {
	var out []portSpan
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		a, b, isRange := strings.Cut(item, "-")
		lo, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			continue
		}
		hi := lo
		if isRange {
			if hi, err = strconv.ParseInt(b, 10, 64); err != nil {
				continue
			}
		}
		out = append(out, portSpan{lo, hi})
	}
	return out
}

// formatPortList renders spans sorted and merged, in the kernel's syntax.
func formatPortList(spans []portSpan) string {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b portSpan) int { return int(a.lo - b.lo) })
	var merged []portSpan
	for _, s := range spans {
		if n := len(merged); n > 0 && s.lo <= merged[n-1].hi+1 {
			merged[n-1].hi = max(merged[n-1].hi, s.hi)
			continue
		}
		merged = append(merged, s)
	}
	parts := make([]string, len(merged))
	for i, s := range merged {
		parts[i] = strconv.FormatInt(s.lo, 10)
		if s.hi != s.lo {
			parts[i] += "-" + strconv.FormatInt(s.hi, 10)
		}
	}
	return strings.Join(parts, ",")
}

// countReservedIn counts the distinct ports of spans within [lo, hi].
func countReservedIn(spans []portSpan, lo, hi int64) int64 {
	var n int64
	for _, s := range parsePortList(formatPortList(spans)) {
		a, b := max(s.lo, lo), min(s.hi, hi)
		if a <= b {
			n += b - a + 1
		}
	}
	return n
}
