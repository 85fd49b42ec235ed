package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// capControl is what a capacity parent tells its workers: open connections
// up to Fraction of your share for step Step, or stop.
type capControl struct {
	Step     int     `json:"capacity_step,omitempty"`
	Fraction float64 `json:"fraction,omitempty"`
	Stop     bool    `json:"capacity_stop,omitempty"`
}

// driveWorker takes steps from the parent until it says stop or goes away.
func (c *Capacity) driveWorker(ctx context.Context, s *Session) error {
	ctl := s.Control()
	if ctl == nil {
		return errors.New("capacity: this process was told to take steps from a parent, but has none")
	}
	share := s.Plan().Conns
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case raw, ok := <-ctl:
			if !ok {
				return nil
			}
			var m capControl
			if err := json.Unmarshal(raw, &m); err != nil {
				continue
			}
			if m.Stop {
				return nil
			}
			if m.Step > 0 {
				target := min(share, int(math.Ceil(m.Fraction*float64(share))))
				if err := c.grow(ctx, s, m.Step, target); err != nil {
					return err
				}
			}
		}
	}
}

// Coordinate implements Coordinated: the parent decides the steps and
// judges them; the workers only connect their share of each.
func (c *Capacity) Coordinate(p Plan, log *zap.Logger) (Coordinator, error) {
	c.CapacityParams = c.CapacityParams.withDefaults()
	c.Coordinated = true
	p = p.withDefaults()
	key := HistConnect
	if c.Traffic == "echo" {
		key = HistRTT
	}
	return &capacityCoordinator{
		p: p, cp: c.CapacityParams, log: log, key: key,
		rssBefore: serversRSS(p.ServerPIDs),
		ctl:       make(chan any, 1),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}, nil
}

// capacityCoordinator is capacity's part in a RunProcs parent. Observe
// and Finish run on RunProcs' goroutine; run on its own; mu guards what
// they share.
type capacityCoordinator struct {
	p         Plan
	cp        CapacityParams
	log       *zap.Logger
	key       string // the histogram whose p99 the SLO is on
	rssBefore int64

	ctl    chan any
	wake   chan struct{}
	done   chan struct{}
	cancel context.CancelFunc
	phase  atomic.Pointer[string]

	mu      sync.Mutex
	started bool
	states  []WorkerState
	p99     int64 // worst interval p99 since the step began
	res     CapacityResult
}

// Observe implements Coordinator.
func (c *capacityCoordinator) Observe(ctx context.Context, workers []WorkerState) {
	c.mu.Lock()
	c.states = append(c.states[:0], workers...)
	for _, w := range workers {
		if w.Reported {
			c.p99 = max(c.p99, w.Progress.P99[c.key])
		}
	}
	start := !c.started && ctx.Err() == nil
	for _, w := range workers {
		start = start && w.Reported
	}
	if start {
		c.started = true
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if start {
		ctx, c.cancel = context.WithCancel(ctx)
		go func() {
			defer close(c.done)
			c.run(ctx)
		}()
	}
}

// run steps the workers up until an SLO breaks or Plan.Conns are open.
func (c *capacityCoordinator) run(ctx context.Context) {
	total := c.p.Conns
	for k := 1; ; k++ {
		target := min(k*c.cp.Step, total)
		c.mu.Lock()
		c.p99 = 0
		c.mu.Unlock()
		before := c.sample()
		if !c.send(ctx, capControl{Step: k, Fraction: float64(target) / float64(total)}) {
			return
		}
		ph := capacityPhase(k)
		c.phase.Store(&ph)
		if !c.waitAll(ctx, ph) {
			return
		}
		if sleep(ctx, c.cp.StepHold) != nil {
			return
		}
		after := c.sample()
		c.mu.Lock()
		after.P99 = c.p99
		c.mu.Unlock()
		after.RSS = serversRSS(c.p.ServerPIDs)
		st := c.cp.SLO.judge(before, after, c.rssBefore, target == total)
		c.mu.Lock()
		more := c.res.record(st)
		c.mu.Unlock()
		if !more {
			c.send(ctx, capControl{Stop: true})
			return
		}
	}
}

func (c *capacityCoordinator) send(ctx context.Context, v capControl) bool {
	select {
	case c.ctl <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

// sample merges the workers' latest progress.
func (c *capacityCoordinator) sample() capacitySample {
	c.mu.Lock()
	var ps []Progress
	for _, w := range c.states {
		if w.Reported {
			ps = append(ps, w.Progress)
		}
	}
	c.mu.Unlock()
	m := MergeProgress(ps)
	return capacitySample{Upgraded: m.Upgraded, Failures: m.Failures, Dropped: m.Dropped, Open: m.Open}
}

// waitAll waits until every worker still running reports phase; false if
// none is left or ctx ends.
func (c *capacityCoordinator) waitAll(ctx context.Context, phase string) bool {
	for {
		c.mu.Lock()
		ready, running := true, 0
		for _, w := range c.states {
			if w.Exited {
				continue
			}
			running++
			ready = ready && w.Progress.Phase == phase
		}
		c.mu.Unlock()
		if running == 0 {
			return false
		}
		if ready {
			return true
		}
		select {
		case <-c.wake:
		case <-ctx.Done():
			return false
		}
	}
}

// Phase implements Coordinator.
func (c *capacityCoordinator) Phase() string {
	if ph := c.phase.Load(); ph != nil {
		return *ph
	}
	return ""
}

// Control implements Coordinator.
func (c *capacityCoordinator) Control() <-chan any { return c.ctl }

// Finish implements Coordinator: it stops the stepping and puts the steps
// and the count held into rep.
func (c *capacityCoordinator) Finish(rep *Report, _ []*Report) {
	c.mu.Lock()
	started := c.started
	c.mu.Unlock()
	if started {
		c.cancel()
		<-c.done
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rep.Counters == nil {
		rep.Counters = map[string]int64{}
	}
	rep.Counters[CounterCapacityHeld] = c.res.Held
	b, err := json.Marshal(c.res)
	if err != nil {
		c.log.Warn("encoding the capacity result", zap.Error(err))
		return
	}
	if rep.Parts == nil {
		rep.Parts = map[string]json.RawMessage{}
	}
	rep.Parts[CapacityPart] = b
}
