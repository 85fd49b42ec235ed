package main

import (
	"runtime"
	"runtime/debug"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/server"
)

// Memory release defaults: --memory-release, and the accepts that count
// as a burst worth releasing after.
const (
	defaultMemoryRelease = 10 * time.Second
	memoryReleaseBurst   = 1000
	// memoryReleaseBytes is how far the buffered bytes must fall from
	// their peak for a release: an attack of slow readers or large
	// messages may involve few connections but leave hundreds of
	// megabytes of freed buffers behind.
	memoryReleaseBytes = 64 << 20
)

// memoryReleaser hands memory back to the operating system after a burst
// of connections has settled. It is the command's policy, not the
// library's: an embedder decides for itself whether to force collections.
//
// Accepting connections leaves garbage behind (accept's socket address
// buffers, gnet's map growth, handshake bookkeeping), about half again the
// size of what the connections keep. Go's collector frees it, but the
// pages stay resident until the heap reaches its next goal, which an idle
// server never does: after a reconnect storm of a million clients the
// process would sit on hundreds of megabytes it no longer uses. So once
// the accept counter has stood still for the quiet period after a burst,
// one forced collection returns those pages. The same goes for the
// buffers an attack leaves behind when few connections are involved
// (slow readers, large messages, shed connections): a fall of the
// buffered bytes by releaseStep from their peak counts as a burst
// too. Steady traffic never triggers it.
type memoryReleaser struct {
	quiet     time.Duration
	minBurst  uint64
	lastCount uint64    // accepted total at the last observation
	changedAt time.Time // when the total last moved
	released  uint64    // accepted total at the last release
	releases  int

	peakBuffered int64 // highest buffered bytes seen since the last release
	freedBytes   int64 // the fall from peakBuffered that counts as a burst
}

// releaseStep is how far the buffered bytes must fall for a release:
// memoryReleaseBytes, or half of a smaller --max-buffered budget, which
// the buffered bytes can never fall 64 MiB from.
func releaseStep(maxBuffered int64) int64 {
	if maxBuffered > 0 {
		return min(memoryReleaseBytes, max(1, maxBuffered/2))
	}
	return memoryReleaseBytes
}

// observeStats takes the server's counters: accepts and the closes that
// end abuse are activity, and buffered bytes are tracked against their
// peak.
func (m *memoryReleaser) observeStats(st server.Stats, now time.Time) bool {
	m.peakBuffered = max(m.peakBuffered, st.Buffered)
	events := st.Accepted + st.SlowConsumers + st.SlowTimeouts + st.OverBudget + st.MessageTimeouts
	step := m.freedBytes
	if step <= 0 {
		step = memoryReleaseBytes
	}
	bytesFreed := m.peakBuffered-st.Buffered >= step
	if events != m.lastCount || !bytesFreed || now.Sub(m.changedAt) < m.quiet {
		return m.observe(events, now)
	}
	m.released = events
	m.releases++
	m.peakBuffered = st.Buffered
	return true
}

// observe takes the current accepted total and reports whether to
// release now.
func (m *memoryReleaser) observe(accepted uint64, now time.Time) bool {
	if accepted != m.lastCount {
		m.lastCount = accepted
		m.changedAt = now
		return false
	}
	if accepted-m.released < m.minBurst || now.Sub(m.changedAt) < m.quiet {
		return false
	}
	m.released = accepted
	m.releases++
	m.peakBuffered = 0
	return true
}

// releaseMemory watches srv's accept counter until stop is closed and
// returns freed memory to the OS after each settled burst. quiet <= 0
// disables it.
func releaseMemory(srv *server.Server, quiet time.Duration, log *zap.Logger, stop <-chan struct{}) {
	if quiet <= 0 {
		return
	}
	m := memoryReleaser{quiet: quiet, minBurst: memoryReleaseBurst, changedAt: time.Now(),
		freedBytes: releaseStep(srv.Stats().MaxBuffered)}
	t := time.NewTicker(min(max(quiet/10, 100*time.Millisecond), time.Second))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			if m.observeStats(srv.Stats(), now) {
				// Two collections: gnet's outbound buffers go back to a
				// sync.Pool, which keeps what it held through one more
				// collection as its victim cache; FreeOSMemory's own
				// collection frees them only if one came before it.
				runtime.GC()
				debug.FreeOSMemory()
				log.Debug("returned freed memory to the OS", zap.Int("releases", m.releases))
			}
		}
	}
}
