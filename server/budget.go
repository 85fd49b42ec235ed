package server

import (
	"bufio"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gobwas/ws"
	"go.uber.org/zap"

	"github.com/myriadws/myriad/frame"
)

// statusTryAgainLater is close code 1013 (RFC 6455 §7.4.1, IANA
// registry): the server is overloaded, the client may come back later.
const statusTryAgainLater ws.StatusCode = 1013

// budgetFraction is the part of the memory available to the process that
// MaxBuffered defaults to: buffered bytes are the part of memory a client
// can make the server hold, and the rest must stay for the connections'
// own state, the runtime and the kernel's socket buffers.
const budgetFraction = 4

// DefaultMaxBuffered returns the MaxBuffered a zero Config gets: a
// quarter of GOMEMLIMIT when one is set, else of the cgroup's memory
// limit, else of physical memory. Any goroutine may call it.
func DefaultMaxBuffered() int64 {
	mem := int64(debug.SetMemoryLimit(-1))
	if mem <= 0 || mem == math.MaxInt64 {
		mem = cgroupMemory()
	}
	if mem <= 0 {
		mem = physicalMemory()
	}
	if mem <= 0 {
		mem = 4 << 30
	}
	return mem / budgetFraction
}

// cgroupMemory reads the cgroup v2 memory limit, 0 when there is none.
func cgroupMemory() int64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil { // "max"
		return 0
	}
	return v
}

// physicalMemory reads MemTotal from /proc/meminfo, 0 when unknown.
func physicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// holders is a loop's record of the connections that hold buffered
// bytes: an outbound queue the kernel has not taken, or a message being
// assembled. A connection enters when a write leaves bytes queued or a
// message starts, which costs a map insert only for connections that fall
// behind; the sweep recounts them every tick and forgets those back at
// zero. Idle and keeping-up connections are never in it, so the sweep
// costs nothing for them. Loop-only, except the total.
type holders struct {
	bytes map[*Conn]int   // bytes at the last count
	stuck map[*Conn]int64 // ms clock since when a send was dropped at MaxOutbound
	total atomic.Int64    // this loop's bytes at the last count, plus writes queued since; Stats sums them
	// costPerByte is the loop's estimate of real bytes per queued byte
	// (costUnit: one), from the writes queued behind others (noteCost).
	costPerByte int64
	order       []*Conn // scratch for shedding the largest first
}

// hold records that c may hold buffered bytes.
func (l *loop) hold(c *Conn) {
	if l.held.bytes == nil {
		l.held.bytes = make(map[*Conn]int)
	}
	if _, ok := l.held.bytes[c]; !ok {
		l.held.bytes[c] = 0
	}
}

// atLimit records that a send to c was dropped because its queue is at
// MaxOutbound; SlowTimeout later, if it is still there, c is closed.
func (l *loop) atLimit(c *Conn, now int64) {
	if l.srv.slowMs == 0 {
		return
	}
	if l.held.stuck == nil {
		l.held.stuck = make(map[*Conn]int64)
	}
	if _, ok := l.held.stuck[c]; !ok {
		l.held.stuck[c] = now
	}
}

// forget drops c from the records; OnClose calls it.
func (l *loop) forget(c *Conn) {
	if len(l.held.bytes) > 0 {
		delete(l.held.bytes, c)
	}
	if len(l.held.stuck) > 0 {
		delete(l.held.stuck, c)
	}
}

// buffered is what c holds now in real bytes: its outbound queue, at the
// loop's cost per queued byte, and the message it is assembling.
func (l *loop) buffered(c *Conn) int {
	n := int(realQueued(c.gc.OutboundBuffered(), l.costPerByte()))
	if c.in != nil {
		n += cap(c.in.buf)
	}
	return n
}

// budgetStep runs on the loop at every sweep: it recounts the holders,
// closes consumers stuck at their limit for SlowTimeout (a consumer
// counts as stuck from a dropped send until its queue falls below half of
// MaxOutbound, in real bytes), and when the process is over MaxBuffered
// (or a write met it since) sheds this loop's part of the excess over
// seven eighths of it, largest holders first.
func (l *loop) budgetStep(now int64) {
	s := l.srv
	var sum int64
	for c := range l.held.bytes {
		if c.state == stateClosed || c.flags&flagKill != 0 {
			delete(l.held.bytes, c)
			continue
		}
		n := l.buffered(c)
		if n == 0 {
			delete(l.held.bytes, c)
			continue
		}
		l.held.bytes[c] = n
		sum += int64(n)
	}
	l.held.total.Store(sum)
	for c, since := range l.held.stuck {
		switch {
		case (c.state != stateOpen && c.state != stateStream) || c.flags&flagKill != 0:
			delete(l.held.stuck, c)
		case realQueued(c.gc.OutboundBuffered(), l.costPerByte()) >= int64(s.cfg.MaxOutbound/2):
			if now-since >= s.slowMs {
				delete(l.held.stuck, c)
				l.stats.slowTimeouts.Add(1)
				l.closeOverLimit(c, ws.StatusPolicyViolation, "slow consumer", ReasonSlowTimeout)
			}
		default:
			delete(l.held.stuck, c) // it caught up
		}
	}
	if s.maxBuffered <= 0 {
		return
	}
	// fits refuses the write that would pass the budget and marks the
	// process over it; from then on the largest holders are shed until
	// the total is back under low, so that behind connections can queue
	// again without meeting the budget at once.
	global := s.bufferedTotal()
	low := s.maxBuffered - s.maxBuffered/8
	over := global > s.maxBuffered || (s.overBudget.Load() && global > low)
	s.overBudget.Store(over)
	if !over || sum == 0 {
		return
	}
	// This loop's part of the excess, in proportion to what it holds.
	need := (global - low) * sum / global
	l.shedLargest(max(need, 1))
}

// shedLargest closes this loop's largest holders until need bytes are
// freed. Sorting costs O(k log k) over the loop's holders, and happens
// only while the process is over its budget.
func (l *loop) shedLargest(need int64) {
	o := l.held.order[:0]
	for c := range l.held.bytes {
		o = append(o, c)
	}
	slices.SortFunc(o, func(a, b *Conn) int { return l.held.bytes[b] - l.held.bytes[a] })
	var freed int64
	for i, c := range o {
		o[i] = nil
		if freed >= need {
			continue
		}
		freed += int64(l.held.bytes[c])
		delete(l.held.bytes, c)
		l.stats.overBudget.Add(1)
		l.closeOverLimit(c, statusTryAgainLater, "server buffer budget exceeded", ReasonOverBudget)
	}
	l.held.order = o[:0]
	if freed > 0 {
		l.srv.log.Warn("over the buffered-bytes budget: closed the largest holders",
			zap.Int64("freed_bytes", freed), zap.Int64("max_buffered", l.srv.maxBuffered))
	}
}

// closeOverLimit sends c a close frame and closes it at once, dropping
// what it had queued: the point is to free the bytes, and a peer that
// holds them is not reading its close frame either.
func (l *loop) closeOverLimit(c *Conn, code ws.StatusCode, text string, why CloseReason) {
	c.reason = why
	c.code = uint16(code)
	if c.state == stateOpen {
		l.out = frame.AppendClose(l.out[:0], code, text)
		l.writeRaw(c, l.out)
		c.state = stateClosing
	}
	l.putInbound(c)
	l.kill(c)
}

// bufferedTotal sums the loops' last counts. Any goroutine may call it.
func (s *Server) bufferedTotal() int64 {
	var t int64
	for _, l := range s.loops {
		t += l.held.total.Load()
	}
	return t
}
