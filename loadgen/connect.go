package loadgen

import (
	"context"
	"math"
	"time"

	"go.uber.org/zap"

	iwheel "github.com/myriadws/myriad/internal/wheel"
)

// ConnectSpec is one connect schedule: Count connections started at Rate
// per second (0: as fast as the dial workers go), the rate rising linearly
// from 0 over Ramp.
type ConnectSpec struct {
	Count int
	Rate  float64
	Ramp  time.Duration
}

// offset is when attempt i starts, relative to the start of the schedule.
// With a ramp the number started by time t is R·t²/2T while t < T, then
// grows at R.
func (cs ConnectSpec) offset(i int) time.Duration {
	if cs.Rate <= 0 {
		return 0
	}
	r, n := cs.Rate, float64(i)
	if cs.Ramp > 0 {
		T := cs.Ramp.Seconds()
		if inRamp := r * T / 2; n < inRamp {
			return time.Duration(math.Sqrt(2*T*n/r) * float64(time.Second))
		} else {
			return cs.Ramp + time.Duration((n-inRamp)/r*float64(time.Second))
		}
	}
	return time.Duration(n / r * float64(time.Second))
}

// Connect runs a connect schedule and returns when every connection has
// upgraded or failed for good (after Plan.Retries retries), or ctx ends.
// Its duration and the upgrades within it add up in Report.Connect.
// Attempts start on the schedule whatever happens to earlier ones (an open
// model); if the dial workers fall behind, the worst lag is reported. Only
// one Connect may run at a time.
func (s *Session) Connect(ctx context.Context, spec ConnectSpec) error {
	if spec.Count <= 0 {
		return nil
	}
	s.SetPhase("connecting")
	t0, up0 := s.Now(), s.m.upgraded.Load()
	defer func() {
		s.connectNs.Add(s.Now() - t0)
		s.connectUps.Add(s.m.upgraded.Load() - up0)
	}()
	s.planned.Add(int64(spec.Count))
	s.pending.Add(int64(spec.Count))
	first := s.nextID
	s.nextID += uint64(spec.Count)
	start := s.Now()
	pairs := len(s.targets) * len(s.dialers)

	t := time.NewTicker(s.plan.Tick)
	defer t.Stop()
	i := 0
	lastPending, lastChange := s.pending.Load(), s.Now()
	// A connection that has been dialed ends within two handshake timeouts
	// (the dial, then the wait for 101); if nothing at all changes for much
	// longer than that, something was lost and waiting is pointless.
	stuck := 2*int64(s.plan.HandshakeTimeout) + int64(5*time.Second)
	for {
		now := s.Now()
		for i < spec.Count {
			due := start + int64(spec.offset(i))
			if due > now {
				break
			}
			id := first + uint64(i)
			pair := int(id % uint64(pairs))
			j := job{id: id, due: due, target: uint16(pair % len(s.targets)), source: uint16(pair / len(s.targets))}
			if err := s.enqueue(ctx, j); err != nil {
				return err
			}
			i++
		}
		for _, j := range s.takeRetries(now) {
			if err := s.enqueue(ctx, j); err != nil {
				return err
			}
		}
		p := s.pending.Load()
		if i == spec.Count && p == 0 {
			return nil
		}
		if p != lastPending {
			lastPending, lastChange = p, now
		} else if i == spec.Count && now-lastChange > stuck {
			s.log.Warn("connections neither upgraded nor failed; giving up on them", zap.Int64("count", p))
			for range p {
				s.m.fail(CauseOther)
			}
			s.m.failedConns.Add(p)
			s.pending.Add(-p)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// enqueue hands j to the dial workers, recording how late it starts.
func (s *Session) enqueue(ctx context.Context, j job) error {
	select {
	case s.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	if lag := s.Now() - j.due; lag > 0 {
		maxInt64(&s.m.scheduleLag, lag)
	}
	return nil
}

func (s *Session) takeRetries(now int64) []job {
	s.retryMu.Lock()
	defer s.retryMu.Unlock()
	n := 0
	for n < len(s.retryQ) && s.retryQ[n].due <= now {
		n++
	}
	if n == 0 {
		return nil
	}
	out := append([]job(nil), s.retryQ[:n]...)
	s.retryQ = append(s.retryQ[:0], s.retryQ[n:]...)
	return out
}

// dialWorker is one of the Plan.DialWorkers goroutines: it dials and hands
// each socket to the reactor, which owns it from then on.
func (s *Session) dialWorker() {
	defer s.workers.Done()
	for j := range s.jobs {
		if s.stopping.Load() {
			continue
		}
		s.dial(j)
	}
}

func (s *Session) dial(j job) {
	c := &Conn{id: j.id, target: j.target, source: j.source, attempt: j.attempt, wslot: iwheel.NoSlot}
	c.start = s.Now()
	s.carry(c)
	s.m.attempts.Add(1)
	nc, err := s.dialers[j.source].DialContext(s.dialCtx, "tcp", s.targets[j.target].addr)
	if err != nil {
		s.attemptFailed(j, classify(err))
		return
	}
	// EnrollContext duplicates the socket into the reactor and closes nc.
	if _, err := s.client.EnrollContext(nc, c); err != nil {
		s.attemptFailed(j, classify(err))
	}
}

// attemptFailed counts a failed attempt and retries it or gives it up. It
// is called from dial workers and from event loops.
func (s *Session) attemptFailed(j job, cause string) {
	if s.stopping.Load() {
		return
	}
	s.m.fail(cause)
	if int(j.attempt) < s.plan.Retries {
		s.m.retries.Add(1)
		j.attempt++
		j.due = s.Now() + int64(retryBackoff)
		if s.retryRedial(j) {
			return
		}
		s.retryMu.Lock()
		s.retryQ = append(s.retryQ, j)
		s.retryMu.Unlock()
		return
	}
	s.m.failedConns.Add(1)
	s.pending.Add(-1)
	s.redialDone(j.id)
}
