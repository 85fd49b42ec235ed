package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"time"

	"go.uber.org/zap"
)

// Options are the caller's hooks into a run. The zero value works.
type Options struct {
	// Logger receives the few events worth logging (never one per
	// connection or message). Nil means no logging.
	Logger *zap.Logger
	// Progress, if set, receives a snapshot about every ProgressInterval
	// and on each phase change, from a goroutine of the run; it must not
	// block for long.
	Progress func(Progress)
	// ProgressInterval defaults to one second.
	ProgressInterval time.Duration
	// Warn, if set, receives each warning as soon as it is known (host
	// limits at the start); all of them are also in the report.
	Warn func(string)

	// control is set by ServeWorker: the parent's control lines, for the
	// scenario to read from Session.Control.
	control <-chan json.RawMessage
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = time.Second
	}
	return o
}

// Run runs scenario sc according to p in this process and returns its
// report. Cancelling ctx ends the scenario early; the report then covers
// what ran, with a warning saying so, and the error is nil. Run may be
// called from any goroutine, but two runs in one process share its file
// descriptors and ports.
func Run(ctx context.Context, p Plan, sc Scenario, o Options) (*Report, error) {
	o = o.withDefaults()
	p = p.withDefaults()
	if p.Scenario == "" {
		p.Scenario = sc.Name()
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := sc.Check(p); err != nil {
		return nil, err
	}
	var warnings []string
	warn := func(w string) {
		if w == "" {
			return
		}
		warnings = append(warnings, w)
		if o.Warn != nil {
			o.Warn(w)
		}
	}
	if p.Worker {
		warn(fdWarning(p, 1))
	} else {
		for _, w := range HostWarnings(p, 1) {
			warn(w)
		}
	}

	hooks, _ := sc.(ConnHandler)
	s, err := newSession(p, o.Logger, hooks)
	if err != nil {
		return nil, err
	}
	s.control = o.control
	started := time.Now()
	if err := s.start(); err != nil {
		return nil, err
	}

	watch := newCPUWatch()
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		s.reportProgress(o, watch, stopProgress)
	}()

	derr := sc.Drive(ctx, s)
	openAtEnd := s.m.open.Load()
	s.SetPhase("closing")
	s.closeAll()
	s.stop()
	s.phase.Store(ptr("done"))
	close(stopProgress)
	<-progressDone

	rep := s.report(started)
	rep.Counters[CounterOpenAtEnd] = openAtEnd
	rep.Warnings = warnings
	if !p.Worker {
		if w := watch.warning(); w != "" {
			rep.Warnings = append(rep.Warnings, w)
		}
	}
	rep.Warnings = append(rep.Warnings, reportWarnings(rep)...)
	if errors.Is(derr, context.Canceled) || errors.Is(derr, context.DeadlineExceeded) {
		rep.Warnings = append(rep.Warnings, "interrupted before the scenario finished")
		derr = nil
	}
	return rep, derr
}

// reportProgress emits snapshots every interval and on phase changes
// until stop is closed, then a last one.
func (s *Session) reportProgress(o Options, watch *cpuWatch, stop <-chan struct{}) {
	t := time.NewTicker(o.ProgressInterval)
	defer t.Stop()
	var last Progress
	emit := func() {
		last = s.progress()
		watch.observe(last.CPUMillis, last.Elapsed)
		if o.Progress != nil {
			o.Progress(last)
		}
	}
	for {
		select {
		case <-stop:
			emit()
			return
		case <-t.C:
			emit()
		case <-s.notify:
			if s.phaseName() != last.Phase || s.settled.Load() != last.Settled {
				emit()
			}
		}
	}
}

// report builds the session's report.
func (s *Session) report(started time.Time) *Report {
	cpu, _ := cpuMillis()
	counters := s.m.counters(s.planned.Load())
	counters[CounterCPUMillis] = cpu
	return &Report{
		Scenario: s.plan.Scenario,
		Targets:  append([]string(nil), s.plan.Targets...),
		Procs:    1,
		Cores:    runtime.NumCPU(),
		Started:  started.UTC(),
		Elapsed:  float64(s.Now()) / 1e9,
		Counters: counters,
		Failures: copyMap(s.m.failures, &s.m.mu),
		Drops:    copyMap(s.m.drops, &s.m.mu),
		Latency:  s.m.histograms(),
		Memory:   s.memory(),
		Connect:  newConnectPhase(s.connectNs.Load(), s.connectUps.Load()),
		Parts:    s.parts,
	}
}

func ptr[T any](v T) *T { return &v }
