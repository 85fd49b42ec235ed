package tuning

import (
	"fmt"
	"strconv"
)

// tcpMem judges net.ipv4.tcp_mem, the kernel-wide TCP buffer budget in
// pages (min, pressure, max). During a broadcast every connection holds
// about busyConnPages of it, so pressure must cover all connections at once
// and max leaves half as much again for retransmit queues and bursts.
func (c checker) tcpMem() Finding {
	const key = "net.ipv4.tcp_mem"
	ps := c.h.pageSize()
	busy := int64(c.t.Conns) * busyConnPages
	need := [3]int64{busy / 2, busy, busy + busy/2}
	needed := fmt.Sprintf("pressure >= %d, max >= %d pages (%s, %s)", need[1], need[2], humanBytes(need[1]*ps), humanBytes(need[2]*ps))
	v, err := readInts(c.h.Root, key, 3)
	if err != nil {
		return unreadable(key, needed, err)
	}
	f := Finding{
		Name: key, Key: key, Needed: needed,
		Current: fmt.Sprintf("%d %d %d pages (max %s)", v[0], v[1], v[2], humanBytes(v[2]*ps)),
		Why:     "It is the kernel-wide TCP buffer budget in pages; a broadcast queues about one page on every connection, above pressure the kernel shrinks buffers and above max it drops data and logs 'TCP: out of memory'.",
	}
	switch {
	case v[2] < need[1]:
		f.Severity = Fail
	case v[1] < need[1] || v[2] < need[2]:
		f.Severity = Warn
	default:
		return f
	}
	f.Want = fmt.Sprintf("%d %d %d", max(v[0], need[0]), max(v[1], need[1]), max(v[2], need[2]))
	f.Fix = sysctlFix(key, f.Want)
	return f
}

// sockBuf judges tcp_rmem or tcp_wmem (min, default, max in bytes). Idle
// sockets hold no buffer, so only the guaranteed minimum and the starting
// size matter here: both are multiplied by every busy connection. def is
// the kernel's own default, suggested when the current one is too large.
func (c checker) sockBuf(key string, def int64) Finding {
	const maxMin, maxDefault = 4096, 262144
	needed := fmt.Sprintf("min <= %d, default <= %d", maxMin, maxDefault)
	v, err := readInts(c.h.Root, key, 3)
	if err != nil {
		return unreadable(key, needed, err)
	}
	f := Finding{
		Name: key, Key: key, Needed: needed,
		Current: fmt.Sprintf("%d %d %d", v[0], v[1], v[2]),
		Why:     "Idle sockets hold no buffer, but min is guaranteed to each busy socket and default is where each starts, so large values times a million connections exhaust tcp_mem.",
	}
	if v[0] <= maxMin && v[1] <= maxDefault {
		return f
	}
	f.Severity = Warn
	f.Want = fmt.Sprintf("%d %d %d", min(v[0], maxMin), min(v[1], def), v[2])
	f.Fix = sysctlFix(key, f.Want)
	return f
}

// memNeed returns the memory the target's connections take while idle and
// while every one of them has a message queued.
func (c checker) memNeed() (idle, busy int64) {
	n := int64(c.t.Conns)
	idle = n * (KernelBytesPerConn + int64(c.t.UserBytesPerConn))
	busy = idle + n*busyConnPages*c.h.pageSize()
	return idle, busy
}

// memory judges MemAvailable against the cost of the connections.
func (c checker) memory() Finding {
	idle, busy := c.memNeed()
	f := Finding{
		Name:   "MemAvailable",
		Needed: fmt.Sprintf(">= %s idle, %s broadcasting", humanBytes(idle), humanBytes(busy)),
		Why: fmt.Sprintf("Each connection costs about %d bytes of kernel memory plus %d in the process, and about one page of TCP buffer while a message is queued on it.",
			KernelBytesPerConn, c.t.UserBytesPerConn),
	}
	avail, err := readMeminfo(c.h.Root, "MemAvailable")
	if err != nil {
		f.Current = "unreadable: " + err.Error()
		f.Severity = Warn
		f.Fix = "check that /proc/meminfo is readable"
		return f
	}
	f.Current = humanBytes(avail)
	fix := fmt.Sprintf("add memory, or hold fewer connections per process (at most %d idle here)",
		avail/(KernelBytesPerConn+int64(c.t.UserBytesPerConn)))
	switch {
	case avail < idle:
		f.Severity, f.Fix = Fail, fix
	case avail < busy:
		f.Severity, f.Fix = Warn, fix+"; broadcasts to every connection will push TCP memory into pressure"
	}
	return f
}

// memLimit suggests a GOMEMLIMIT: nine tenths of the memory that is left
// once the kernel has its share for the sockets and their queued pages,
// rounded down to a whole GiB when that is at least 1 GiB, else to MiB.
func (c checker) memLimit() int64 {
	avail, err := readMeminfo(c.h.Root, "MemAvailable")
	if err != nil {
		return 0
	}
	n := int64(c.t.Conns)
	left := (avail - n*KernelBytesPerConn - n*busyConnPages*c.h.pageSize()) / 10 * 9
	switch {
	case left >= 1<<30:
		return left >> 30 << 30
	case left >= 1<<20:
		return left >> 20 << 20
	default:
		return 0
	}
}

// goMemLimit judges the GOMEMLIMIT the process will run with.
func (c checker) goMemLimit(suggest int64) Finding {
	heap := int64(c.t.Conns) * int64(c.t.UserBytesPerConn)
	f := Finding{Name: "GOMEMLIMIT"}
	if suggest > 0 {
		f.Needed = fmt.Sprintf("%s..%s", humanBytes(heap+heap/4), humanBytes(suggest))
	} else {
		f.Needed = ">= " + humanBytes(heap+heap/4)
	}
	fix := func(v int64) string {
		if v <= 0 {
			return "set GOMEMLIMIT to the memory the process may use, leaving the kernel its share for the sockets"
		}
		s := formatByteCount(v)
		return fmt.Sprintf("systemd: Environment=GOMEMLIMIT=%s in [Service]\nshell: export GOMEMLIMIT=%s", s, s)
	}
	raw, set := lookupEnv(c.h.Environ, "GOMEMLIMIT")
	if (!set || raw == "off") && c.smallHeap(heap) {
		f.Current = "unset"
		f.Why = "The expected heap is small beside the memory available: even doubled before a collection it cannot crowd out the kernel or other processes."
		return f
	}
	if !set || raw == "off" {
		f.Current = "unset"
		f.Severity = Warn
		f.Why = "Without a memory limit the GC only paces by GOGC, so a heap of a million sessions can double before it runs and the kernel OOM killer decides instead."
		if suggest > 0 {
			f.Want = formatByteCount(suggest)
		}
		f.Fix = fix(suggest)
		return f
	}
	f.Current = raw
	limit, err := parseByteCount(raw)
	switch {
	case err != nil:
		f.Severity = Fail
		f.Why = "The Go runtime refuses to start with a malformed GOMEMLIMIT."
		f.Fix = fix(suggest)
	case limit < heap+heap/4:
		f.Severity = Fail
		f.Why = fmt.Sprintf("It is below the expected heap (%s) plus a quarter, so the GC would run almost continuously.", humanBytes(heap))
		f.Fix = fix(suggest)
	case suggest > 0 && limit > suggest:
		f.Severity = Warn
		f.Why = "It lets the heap grow into memory the kernel needs for the sockets and their buffers."
		f.Fix = fix(suggest)
	default:
		f.Why = "It leaves room for the expected heap and the kernel's share of memory."
	}
	if f.Severity != OK && suggest > 0 {
		f.Want = formatByteCount(suggest)
	}
	return f
}

// smallHeap reports whether a heap this size, doubled as GOGC=100 lets it
// grow before a collection, stays under a sixteenth of the memory
// available, so that no GOMEMLIMIT is needed: a load generator holding ten
// connections must not be told to set one. Unreadable memory counts as
// not small.
func (c checker) smallHeap(heap int64) bool {
	avail, err := readMeminfo(c.h.Root, "MemAvailable")
	return err == nil && 2*heap <= avail/16
}

// goGC judges GOGC. Any percentage works with a memory limit; "off" without
// one lets the heap grow until the process is killed.
func (c checker) goGC() Finding {
	f := Finding{Name: "GOGC", Needed: "a percentage, or off with GOMEMLIMIT set"}
	raw, set := lookupEnv(c.h.Environ, "GOGC")
	if !set {
		f.Current = "unset (100)"
		f.Why = "The default percentage paces the GC well for a large, stable heap once GOMEMLIMIT caps it."
		return f
	}
	f.Current = raw
	mem, limited := lookupEnv(c.h.Environ, "GOMEMLIMIT")
	limited = limited && mem != "off"
	n, err := strconv.Atoi(raw)
	switch {
	case raw != "off" && err != nil:
		f.Severity = Warn
		f.Why = "The runtime ignores a malformed GOGC and uses 100, which is probably not what was meant."
		f.Fix = "export GOGC=100 (or unset it)"
	case (raw == "off" || n < 0) && !limited:
		f.Severity = Fail
		f.Why = "With GOGC off and no GOMEMLIMIT the heap is never collected and grows until the kernel kills the process."
		f.Fix = "unset GOGC, or set GOMEMLIMIT as well"
	case raw == "off" || n < 0:
		f.Why = "With GOGC off the GC runs only near GOMEMLIMIT, which suits a stable heap if the limit is right."
	default:
		f.Why = "Any percentage works once GOMEMLIMIT bounds the heap; lower values trade CPU for memory."
	}
	return f
}
