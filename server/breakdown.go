package server

import (
	"sync/atomic"
	"time"
)

// Sizes of the fixed tables below.
const (
	numRefusalStatuses = 14
	numCloseCodes      = 15
	numHandshakeBounds = 12
	numReasons         = int(ReasonShutdown) + 1
)

// refusalStatuses are the HTTP statuses a refused upgrade is counted
// under; any other status an Authorizer picks is counted as OtherStatus.
// A fixed table keeps the counters a flat array of atomics, written by
// one loop each and summed only when someone asks. It is returned by
// value, so the table cannot be changed.
func refusalStatuses() [numRefusalStatuses]int {
	return [...]int{400, 401, 403, 404, 405, 408, 413, 414, 426, 429, 431, 500, 501, 503}
}

// closeCodes are the close codes a closed WebSocket connection is counted
// under (0: no close frame carried one); any other code, such as an
// application's 4000-4999, is counted as OtherCode.
func closeCodes() [numCloseCodes]int {
	return [...]int{0, 1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
}

// handshakeBoundsMs are the upper bounds, in milliseconds, of the
// handshake duration histogram's buckets; a last bucket takes the rest.
func handshakeBoundsMs() [numHandshakeBounds]int64 {
	return [...]int64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}
}

// indexOf returns the position of v in table, or len(table): the "other"
// slot of the counters.
func indexOf[T comparable](table []T, v T) int {
	for i, x := range table {
		if x == v {
			return i
		}
	}
	return len(table)
}

// OtherStatus and OtherCode stand for a status or close code outside the
// fixed tables of Breakdown.
const (
	OtherStatus = -1
	OtherCode   = -1
)

// breakdownStats are one loop's labelled counters: refusals by status,
// closes by reason and code, open connections by route, and the handshake
// histogram. Only the owning loop writes them.
type breakdownStats struct {
	refusals    [numRefusalStatuses + 1]atomic.Uint64
	closes      [numReasons][numCloseCodes + 1]atomic.Uint64
	routeOpen   []atomic.Int64 // by route index, sized in New
	handshakes  [numHandshakeBounds + 1]atomic.Uint64
	handshakeMs atomic.Uint64 // sum of the observed durations
}

// countRefusal counts an upgrade refused with status.
func (b *breakdownStats) countRefusal(status int) {
	t := refusalStatuses()
	b.refusals[indexOf(t[:], status)].Add(1)
}

// countClose counts an upgraded connection that ended.
func (b *breakdownStats) countClose(r CloseReason, code uint16) {
	t := closeCodes()
	b.closes[min(int(r), numReasons-1)][indexOf(t[:], int(code))].Add(1)
}

// observeHandshake records one upgrade that took ms milliseconds from
// accept to the 101.
func (b *breakdownStats) observeHandshake(ms int64) {
	i := numHandshakeBounds
	for j, bound := range handshakeBoundsMs() {
		if ms <= bound {
			i = j
			break
		}
	}
	b.handshakes[i].Add(1)
	b.handshakeMs.Add(uint64(max(ms, 0)))
}

// Breakdown is a snapshot of the server's labelled counters, summed over
// its loops: what a metrics exporter needs beyond Stats. Only non-zero
// refusal and close counters are listed.
type Breakdown struct {
	Routes    []RouteOpen
	Refusals  []StatusCount
	Closes    []CloseCount
	Handshake Histogram // time from accept to the 101, at the loops' 1 ms clock
}

// RouteOpen is the number of WebSocket connections open on one route.
type RouteOpen struct {
	Path string
	Open int64
}

// StatusCount is the number of upgrades refused with one HTTP status
// (OtherStatus for statuses outside the fixed table).
type StatusCount struct {
	Status int
	Count  uint64
}

// CloseCount is the number of WebSocket connections that ended for one
// reason with one close code (0: none; OtherCode: outside the table).
type CloseCount struct {
	Reason CloseReason
	Code   int
	Count  uint64
}

// Histogram is a cumulative-free histogram: Counts[i] observations fell at
// or below Bounds[i] and above the bound before; Counts has one more
// entry than Bounds, for the observations above the last bound.
type Histogram struct {
	Bounds []time.Duration
	Counts []uint64
	Sum    time.Duration
}

// Breakdown returns the labelled counters. It allocates the snapshot, so
// it is meant for scrapes, not for a hot path. Any goroutine may call it.
func (s *Server) Breakdown() Breakdown {
	var b Breakdown
	for i, r := range s.routes {
		ro := RouteOpen{Path: r.path}
		for _, l := range s.loops {
			ro.Open += l.stats.detail.routeOpen[i].Load()
		}
		b.Routes = append(b.Routes, ro)
	}
	var refusals [numRefusalStatuses + 1]uint64
	var closes [numReasons][numCloseCodes + 1]uint64
	hist := Histogram{Counts: make([]uint64, numHandshakeBounds+1)}
	for _, l := range s.loops {
		d := &l.stats.detail
		for i := range refusals {
			refusals[i] += d.refusals[i].Load()
		}
		for r := range closes {
			for c := range closes[r] {
				closes[r][c] += d.closes[r][c].Load()
			}
		}
		for i := range hist.Counts {
			hist.Counts[i] += d.handshakes[i].Load()
		}
		hist.Sum += time.Duration(d.handshakeMs.Load()) * time.Millisecond
	}
	for i, n := range refusals {
		if n > 0 {
			st := OtherStatus
			if i < numRefusalStatuses {
				st = refusalStatuses()[i]
			}
			b.Refusals = append(b.Refusals, StatusCount{Status: st, Count: n})
		}
	}
	for r := range closes {
		for c, n := range closes[r] {
			if n > 0 {
				code := OtherCode
				if c < numCloseCodes {
					code = closeCodes()[c]
				}
				b.Closes = append(b.Closes, CloseCount{Reason: CloseReason(r), Code: code, Count: n})
			}
		}
	}
	for _, ms := range handshakeBoundsMs() {
		hist.Bounds = append(hist.Bounds, time.Duration(ms)*time.Millisecond)
	}
	b.Handshake = hist
	return b
}
