package server

import (
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Descriptor budget. A connection costs one descriptor from accept on,
// before the reactor sees it, and gnet stops the whole engine when accept
// fails with anything but EAGAIN (EMFILE included). So the reactor keeps
// the connections it admits below the descriptor limit by a margin that
// covers everything else the process opens: fdReserve for the rest of the
// program (the API listener and its connections, logs, the broker link,
// gnet's pollers and wake-up descriptors, the listeners), and acceptSlack
// for the connections just accepted and not yet refused. Each loop
// accepts on its own listener, one connection at a time, and runs OnOpen
// before the next accept (see port.go), so at most one connection per
// loop is in that state; connections waiting in the kernel's accept queue
// hold no descriptor of ours. A connection past MaxConns is closed in
// OnOpen, so a flood of idle TCP connections never takes the last
// descriptor.
const (
	fdReserve   = 256
	acceptSlack = 64
)

// budgetFor derives the default MaxConns from a descriptor limit.
func budgetFor(nofile uint64) int {
	lim := int(min(nofile, 1<<30))
	reserve := min(fdReserve, lim/4) + min(acceptSlack, lim/8)
	return max(lim-reserve, 1)
}

// DefaultMaxConns returns the MaxConns a zero Config gets on this host:
// RLIMIT_NOFILE minus the reserve and the accept slack described above.
// Any goroutine may call it.
func DefaultMaxConns() int {
	var rl unix.Rlimit
	nofile := uint64(1024)
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur > 0 {
		nofile = rl.Cur
	}
	return budgetFor(nofile)
}

// admit counts a new TCP connection and reports whether it is within
// MaxConns. A refused one is uncounted again at once: it never reaches
// OnClose with a session.
func (s *Server) admit() bool {
	open := s.open.Add(1)
	if s.maxConns > 0 && open > int64(s.maxConns) {
		s.open.Add(-1)
		return false
	}
	return true
}

// shed answers a connection accepted past MaxConns from OnOpen: a short
// 503 that gnet writes before closing it, so the descriptor goes back
// right away instead of waiting for a request or a timeout.
func (l *loop) shed() ([]byte, gnet.Action) {
	l.stats.shed.Add(1)
	if n := l.srv.shedLog.note(l.srv.nowMs()); n > 0 {
		l.srv.logShed(n)
	}
	return shedResponse, gnet.Close
}

// logShed writes the rate-limited line about shed connections.
func (s *Server) logShed(n int64) {
	s.log.Warn("shedding connections over max-conns",
		zap.Int64("shed", n), zap.Int("max_conns", s.maxConns), zap.Int64("open", s.open.Load()))
}

// flushRateLogs writes the lines that rateLogs held back, once their
// interval has passed, so the last burst's count is not lost. OnTick
// calls it.
func (s *Server) flushRateLogs() {
	now := s.nowMs()
	if n := s.shedLog.due(now); n > 0 {
		s.logShed(n)
	}
	if n := s.slowLog.due(now); n > 0 {
		s.logSlow(n)
	}
}

// shedResponse is the whole answer to a shed connection, shared by all.
var shedResponse = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\nRetry-After: 1\r\n\r\n")

// rateLog counts events that deserve a log line but could come by the
// thousand (shed connections, slow consumers) and lets at most one line
// per interval through, carrying the count since the last line. Any
// goroutine may call its methods.
type rateLog struct {
	pending atomic.Int64
	lastMs  atomic.Int64 // set to -rateLogMs by New, so the first event logs at once
}

// rateLogMs is the interval between two lines of one rateLog.
const rateLogMs = 1000

// note counts one event and reports how many to log now (0: not yet).
func (r *rateLog) note(now int64) int64 {
	r.pending.Add(1)
	return r.due(now)
}

// due returns the count to log if the interval has passed since the last
// line, claiming it; 0 otherwise.
func (r *rateLog) due(now int64) int64 {
	last := r.lastMs.Load()
	if r.pending.Load() == 0 || now-last < rateLogMs || !r.lastMs.CompareAndSwap(last, now) {
		return 0
	}
	return r.pending.Swap(0)
}
