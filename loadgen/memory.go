package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"

	"go.uber.org/zap"
)

// Memory holds resident-set samples taken before connecting and once the
// connections are up and settled. The load generator's figures are sums over
// its processes; each server is listed once per sample.
type Memory struct {
	LoadgenRSSBefore int64 `json:"loadgen_rss_before_bytes"`
	LoadgenRSSAfter  int64 `json:"loadgen_rss_after_bytes"`
	// LoadgenConns is the number of open connections when "after" was taken.
	LoadgenConns int64 `json:"loadgen_conns"`
	// LoadgenBytesPerConn is (after - before) / conns; derived.
	LoadgenBytesPerConn int64          `json:"loadgen_bytes_per_conn"`
	Servers             []ServerMemory `json:"servers,omitempty"`
	// ServersConns is the number of open connections when the servers'
	// "after" was taken, over all of them; ServersBytesPerConn is the RSS
	// growth of every sampled server together over it (derived). This is
	// the figure for worker processes behind one shared port, where no
	// single PID's share of the connections is known.
	ServersConns        int64 `json:"servers_conns,omitempty"`
	ServersBytesPerConn int64 `json:"servers_bytes_per_conn,omitempty"`
}

// ServerMemory is one server process's RSS before and after.
type ServerMemory struct {
	PID       int   `json:"pid"`
	RSSBefore int64 `json:"rss_before_bytes"`
	RSSAfter  int64 `json:"rss_after_bytes"`
	// Conns is the number of connections the load generator held open on
	// it when "after" was taken: with as many server PIDs as targets, the
	// i-th PID is taken to serve the i-th target; otherwise (workers
	// sharing a port) it is 0, unknown, and only Memory.ServersBytesPerConn
	// says what a connection cost them together.
	Conns int64 `json:"conns"`
	// BytesPerConn is (after - before) / conns; derived.
	BytesPerConn int64 `json:"bytes_per_conn"`
}

func (m *Memory) derive() {
	m.LoadgenBytesPerConn = perConn(m.LoadgenRSSBefore, m.LoadgenRSSAfter, m.LoadgenConns)
	for i := range m.Servers {
		sv := &m.Servers[i]
		sv.BytesPerConn = perConn(sv.RSSBefore, sv.RSSAfter, sv.Conns)
	}
	before, after := m.serversRSS()
	m.ServersBytesPerConn = perConn(before, after, m.ServersConns)
}

// serversRSS sums the servers sampled both before and after.
func (m *Memory) serversRSS() (before, after int64) {
	for _, sv := range m.Servers {
		if sv.RSSAfter > 0 {
			before += sv.RSSBefore
			after += sv.RSSAfter
		}
	}
	return before, after
}

func perConn(before, after, conns int64) int64 {
	if conns <= 0 || after <= 0 {
		return 0
	}
	return (after - before) / conns
}

// ReadRSS returns the resident set size of process pid (0: this process)
// from /proc/PID/status (VmRSS).
func ReadRSS(pid int) (int64, error) {
	path := "/proc/self/status"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(v)
			if len(f) != 2 || string(f[1]) != "kB" {
				break
			}
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("%s: no VmRSS line", path)
}

// ownRSS measures this process after a full collection with the freed
// memory returned to the kernel, so that the figure is live memory and not
// garbage the collector has not got to yet.
func ownRSS() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	n, _ := ReadRSS(0)
	return n
}

func (s *Session) sampleBefore() {
	own := ownRSS()
	s.memMu.Lock()
	defer s.memMu.Unlock()
	s.mem.LoadgenRSSBefore = own
	s.mem.Servers = nil
	for _, pid := range s.plan.ServerPIDs {
		n, err := ReadRSS(pid)
		if err != nil {
			s.log.Warn("reading server RSS", zap.Int("pid", pid), zap.Error(err))
		}
		s.mem.Servers = append(s.mem.Servers, ServerMemory{PID: pid, RSSBefore: n})
	}
}

// serverConns is the number of connections charged to the i-th of n server
// PIDs; see ServerMemory.Conns. Charging every PID with all connections
// would make each of 50 workers look 50 times cheaper than it is.
func serverConns(i, n int, byTarget []int64) int64 {
	if n == len(byTarget) && i < len(byTarget) {
		return byTarget[i]
	}
	return 0
}

func (s *Session) sampleAfter() {
	own := ownRSS()
	open := s.m.open.Load()
	byTarget := s.m.openByTarget()
	s.memMu.Lock()
	defer s.memMu.Unlock()
	s.mem.LoadgenRSSAfter = own
	s.mem.LoadgenConns = open
	for i := range s.mem.Servers {
		sv := &s.mem.Servers[i]
		n, err := ReadRSS(sv.PID)
		if err != nil {
			s.log.Warn("reading server RSS", zap.Int("pid", sv.PID), zap.Error(err))
		}
		sv.RSSAfter = n
		sv.Conns = serverConns(i, len(s.mem.Servers), byTarget)
	}
	if len(s.mem.Servers) > 0 {
		s.mem.ServersConns = open
	}
}

func (s *Session) memory() Memory {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	m := s.mem
	m.Servers = append([]ServerMemory(nil), s.mem.Servers...)
	m.derive()
	return m
}
