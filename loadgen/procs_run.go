package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"go.uber.org/zap"
)

// procRun is the parent's state in a RunProcs run. Everything but the
// channels is touched only by RunProcs' goroutine.
type procRun struct {
	p       Plan
	o       Options
	co      Coordinator // the scenario's part here, or nil
	started time.Time

	workers  []*worker
	msgs     chan workerLine
	readDone chan int

	warnings     []string
	servers      []ServerMemory
	sampled      bool  // servers sampled after settling
	serversConns int64 // connections open when they were
	watch        *cpuWatch
	lastEmitted  Progress
}

// worker is one worker process as its parent sees it.
type worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	state  WorkerState
	report *Report
	err    string
}

// workerLine is one line from worker i.
type workerLine struct {
	i int
	m workerMsg
}

// start starts one worker per plan, sends each its plan and the scenario's
// parameters, and starts reading its output. On failure it stops the
// workers already started.
func (r *procRun) start(plans []Plan, params json.RawMessage, w Workers) error {
	n := len(plans)
	r.msgs = make(chan workerLine, 16*n)
	r.readDone = make(chan int, n)
	r.watch = newCPUWatch()
	stderr := w.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	for i, wp := range plans {
		cmd := exec.Command(w.Exe, w.Args...)
		cmd.Env = append(os.Environ(), w.Env...)
		cmd.Stderr = stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			r.stop(0)
			return err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			r.stop(0)
			return err
		}
		if err := cmd.Start(); err != nil {
			r.stop(0)
			return fmt.Errorf("starting worker %d: %w", i, err)
		}
		r.workers = append(r.workers, &worker{cmd: cmd, stdin: in})
		if err := json.NewEncoder(in).Encode(workerStart{Plan: wp, Params: params}); err != nil {
			r.stop(0)
			return fmt.Errorf("sending plan to worker %d: %w", i, err)
		}
		go r.read(i, out)
	}
	return nil
}

// read forwards worker i's output lines until it ends.
func (r *procRun) read(i int, out io.Reader) {
	defer func() { r.readDone <- i }()
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	for sc.Scan() {
		var m workerMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			r.o.Logger.Warn("worker wrote a line that is not JSON", zap.Int("worker", i), zap.Error(err))
			continue
		}
		r.msgs <- workerLine{i, m}
	}
}

// loop handles the workers' lines, the coordinator's control values,
// progress ticks and cancellation until every worker's output has ended.
func (r *procRun) loop(ctx context.Context) {
	tick := time.NewTicker(r.o.ProgressInterval)
	defer tick.Stop()
	var control <-chan any
	if r.co != nil {
		control = r.co.Control()
	}
	ctxDone := ctx.Done()
	var killAt <-chan time.Time
	for running := len(r.workers); running > 0; {
		select {
		case l := <-r.msgs:
			if r.take(l) {
				r.observe(ctx)
				r.emit(false)
			}
		case i := <-r.readDone:
			running--
			r.workers[i].state.Exited = true
			r.observe(ctx)
		case v := <-control:
			r.sendControl(v)
			r.emit(true)
		case <-tick.C:
			r.emit(true)
		case <-ctxDone:
			ctxDone = nil
			for _, w := range r.workers {
				_ = w.stdin.Close()
			}
			killAt = time.After(r.p.CloseTimeout + 10*time.Second)
		case <-killAt:
			for _, w := range r.workers {
				_ = w.cmd.Process.Kill()
			}
		}
	}
	// Take the lines that arrived with the last reads.
	for {
		select {
		case l := <-r.msgs:
			r.take(l)
		default:
			return
		}
	}
}

// take records one worker line and reports whether it was progress.
func (r *procRun) take(l workerLine) bool {
	w := r.workers[l.i]
	switch {
	case l.m.Progress != nil:
		w.state.Progress, w.state.Reported = *l.m.Progress, true
		return true
	case l.m.Report != nil:
		w.report = l.m.Report
	case l.m.Error != "":
		w.err = l.m.Error
	}
	return false
}

// observe shows the coordinator, if any, every worker's state.
func (r *procRun) observe(ctx context.Context) {
	if r.co == nil {
		return
	}
	states := make([]WorkerState, len(r.workers))
	for i, w := range r.workers {
		states[i] = w.state
	}
	r.co.Observe(ctx, states)
}

// sendControl writes v as a line to every worker still running.
func (r *procRun) sendControl(v any) {
	for i, w := range r.workers {
		if w.state.Exited {
			continue
		}
		if err := json.NewEncoder(w.stdin).Encode(v); err != nil {
			r.o.Logger.Warn("writing to a worker", zap.Int("worker", i), zap.Error(err))
		}
	}
}

// emit merges the workers' progress and passes it on, once every worker
// has reported, on a change of phase or when forced (each tick). The
// servers are sampled the first time the merge says all have settled.
func (r *procRun) emit(force bool) {
	latest := make([]Progress, len(r.workers))
	for i, w := range r.workers {
		if !w.state.Reported {
			return
		}
		latest[i] = w.state.Progress
	}
	mp := MergeProgress(latest)
	mp.Elapsed = time.Since(r.started).Seconds()
	if r.co != nil {
		if ph := r.co.Phase(); ph != "" {
			mp.Phase = ph
		}
	}
	if !r.sampled && mp.Settled {
		r.sampled = true
		for i := range r.servers {
			r.servers[i].RSSAfter, _ = ReadRSS(r.servers[i].PID)
			r.servers[i].Conns = serverConns(i, len(r.servers), mp.OpenBy)
		}
		r.serversConns = mp.Open
	}
	if !force && mp.Phase == r.lastEmitted.Phase && mp.Settled == r.lastEmitted.Settled {
		return
	}
	r.watch.observe(mp.CPUMillis, mp.Elapsed)
	r.lastEmitted = mp
	if r.o.Progress != nil {
		r.o.Progress(mp)
	}
}

// stop closes the workers' stdin and waits up to grace for them, killing
// any still running after it.
func (r *procRun) stop(grace time.Duration) {
	procs := make([]*exec.Cmd, len(r.workers))
	stdins := make([]io.WriteCloser, len(r.workers))
	for i, w := range r.workers {
		procs[i], stdins[i] = w.cmd, w.stdin
	}
	stopWorkers(procs, stdins, grace)
}
