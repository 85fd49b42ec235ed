package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"time"

	"go.uber.org/zap"
)

// Workers says how to start a worker process: Exe run with Args must call
// ServeWorker with its stdin and stdout (cmd/myriad-loadgen does so for a
// hidden subcommand).
type Workers struct {
	Exe  string
	Args []string
	// Env is added to this process's environment for the workers.
	Env []string
	// Stderr receives the workers' standard error; nil means os.Stderr.
	Stderr io.Writer
}

// SplitPlan divides p among n processes: connections and rate evenly, and
// source addresses in disjoint shares when there are at least n of them
// (ports are per (source, target) pair host-wide, so disjoint sources keep
// processes from competing for them). Server sampling stays with the
// caller. n is lowered to p.Conns if that is smaller.
func SplitPlan(p Plan, n int) []Plan {
	n = max(1, min(n, p.Conns))
	out := make([]Plan, n)
	off := p.IDOffset
	for i := range out {
		q := p
		q.Worker = true
		q.ServerPIDs = nil
		q.Conns = p.Conns / n
		if i < p.Conns%n {
			q.Conns++
		}
		q.Rate = p.Rate / float64(n)
		q.IDOffset = off
		off += q.Conns
		if len(p.Sources) >= n {
			q.Sources = nil
			for j := i; j < len(p.Sources); j += n {
				q.Sources = append(q.Sources, p.Sources[j])
			}
		}
		out[i] = q
	}
	return out
}

// TimeoutsOnly is implemented by scenarios whose connections never ask
// for a Tick: their timing wheels hold only handshake and close timeouts,
// which a coarse tick serves as well as a 1 ms one.
type TimeoutsOnly interface {
	TimeoutsOnly()
}

// maxCoarseTick bounds CoarseTick: a timeout fires at most this late.
const maxCoarseTick = 20 * time.Millisecond

// CoarseTick is the timing-wheel tick for a TimeoutsOnly scenario run
// over procs processes on cpus cores: DefaultTick times the processes per
// core, at most maxCoarseTick. Every process's pacer wakes each of its
// loops once per tick while connections are handshaking, so with 1 ms
// ticks 56 processes on 2 cores woke ~110,000 times a second and took
// the cores from the server they were measuring. Any goroutine may call
// it.
func CoarseTick(procs, cpus int) time.Duration {
	per := (procs + max(1, cpus) - 1) / max(1, cpus)
	return min(maxCoarseTick, time.Duration(max(1, per))*DefaultTick)
}

// RunProcs runs scenario sc according to p over n worker processes and
// merges their reports. The workers get the plan's share and the
// scenario's own parameters (sc marshalled as JSON); a scenario that
// implements Coordinated also runs its part in this process. RunProcs
// samples the servers' RSS itself: before starting the workers, and once
// every worker reports that it has settled. Progress snapshots are merged
// across workers. Cancelling ctx asks the workers to finish early (by
// closing their stdin); a worker that has not exited CloseTimeout plus ten
// seconds later is killed.
func RunProcs(ctx context.Context, p Plan, sc Scenario, n int, w Workers, o Options) (*Report, error) {
	o = o.withDefaults()
	if _, ok := sc.(TimeoutsOnly); ok && p.Tick <= DefaultTick {
		p.Tick = CoarseTick(n, runtime.NumCPU())
	}
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
	r := &procRun{p: p, o: o, started: time.Now()}
	if cs, ok := sc.(Coordinated); ok {
		co, err := cs.Coordinate(p, o.Logger)
		if err != nil {
			return nil, err
		}
		r.co = co
	}
	params, err := json.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("encoding the scenario's parameters: %w", err)
	}
	plans := SplitPlan(p, n)
	for _, wn := range HostWarnings(p, len(plans)) {
		r.warnings = append(r.warnings, wn)
		if o.Warn != nil {
			o.Warn(wn)
		}
	}
	r.sampleServersBefore()
	if err := r.start(plans, params, w); err != nil {
		return nil, err
	}
	r.loop(ctx)
	r.stop(p.CloseTimeout + 10*time.Second)
	return r.report(ctx)
}

// report merges the workers' reports and adds what the parent knows.
func (r *procRun) report(ctx context.Context) (*Report, error) {
	var got []*Report
	var failed []string
	for i, w := range r.workers {
		if w.report != nil {
			got = append(got, w.report)
			continue
		}
		why := w.err
		if why == "" {
			why = w.cmd.ProcessState.String()
		}
		failed = append(failed, fmt.Sprintf("worker %d (pid %d) produced no report: %s", i, w.cmd.Process.Pid, why))
	}
	if len(got) == 0 {
		if r.co != nil {
			r.co.Finish(Merge(), nil) // stops whatever it still has going
		}
		return nil, errors.New(failed[0])
	}
	rep := Merge(got...)
	rep.Scenario = r.p.Scenario
	if r.co != nil {
		r.co.Finish(rep, got)
	}
	rep.Memory.Servers = r.servers
	if len(r.servers) > 0 {
		rep.Memory.ServersConns = r.serversConns
	}
	rep.Memory.derive()
	rep.Warnings = append(append(r.warnings, failed...), rep.Warnings...)
	if wn := r.watch.warning(); wn != "" {
		rep.Warnings = append(rep.Warnings, wn)
	}
	rep.Warnings = append(rep.Warnings, reportWarnings(rep)...)
	if ctx.Err() != nil {
		rep.Warnings = append(rep.Warnings, "interrupted before the scenario finished")
	}
	rep.Warnings = dedup(rep.Warnings)
	return rep, nil
}

// sampleServersBefore reads the servers' RSS before any worker starts.
func (r *procRun) sampleServersBefore() {
	r.servers = make([]ServerMemory, len(r.p.ServerPIDs))
	for i, pid := range r.p.ServerPIDs {
		r.servers[i].PID = pid
		var err error
		r.servers[i].RSSBefore, err = ReadRSS(pid)
		if err != nil {
			r.o.Logger.Warn("reading server RSS", zap.Int("pid", pid), zap.Error(err))
		}
	}
}

// stopWorkers closes the workers' stdin (their signal to finish), waits up
// to grace for each, and kills those still running, by PID.
func stopWorkers(procs []*exec.Cmd, stdins []io.WriteCloser, grace time.Duration) {
	for _, in := range stdins {
		if in != nil {
			_ = in.Close()
		}
	}
	deadline := time.Now().Add(grace)
	for _, cmd := range procs {
		if cmd == nil || cmd.Process == nil {
			continue
		}
		done := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(time.Until(deadline)):
			_ = cmd.Process.Kill()
			<-done
		}
	}
}

func dedup(list []string) []string {
	seen := map[string]bool{}
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
