package server

import (
	"runtime/debug"
	"sync/atomic"
	"time"
)

// memoryReleaser hands memory back to the operating system after a burst
// of connections has settled.
//
// Accepting connections leaves garbage behind (accept's socket address
// buffers, gnet's map growth, handshake bookkeeping), about half again the
// size of what the connections keep. Go's collector frees it, but the
// pages stay resident until the heap reaches its next goal, which an idle
// server never does: after a reconnect storm of a million clients the
// process would sit on hundreds of megabytes it no longer uses. So once the
// accept counter has stood still for the configured quiet period after a
// burst, one forced collection returns those pages. Steady traffic never
// triggers it.
type memoryReleaser struct {
	quiet     time.Duration
	minBurst  uint64
	lastCount uint64    // accepted total at the last observation
	changedAt time.Time // when the total last moved
	released  uint64    // accepted total at the last release
	running   atomic.Bool
	releases  atomic.Uint64
}

// observe runs on the ticker goroutine with the current accepted total.
func (m *memoryReleaser) observe(accepted uint64, now time.Time) {
	if m.quiet <= 0 {
		return
	}
	if accepted != m.lastCount {
		m.lastCount = accepted
		m.changedAt = now
		return
	}
	if accepted-m.released < m.minBurst || now.Sub(m.changedAt) < m.quiet {
		return
	}
	if !m.running.CompareAndSwap(false, true) {
		return
	}
	m.released = accepted
	go func() {
		defer m.running.Store(false)
		debug.FreeOSMemory()
		m.releases.Add(1)
	}()
}
