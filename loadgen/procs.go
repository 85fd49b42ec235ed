package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
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

// workerMsg is one line a worker writes on its stdout.
type workerMsg struct {
	Progress *Progress `json:"progress,omitempty"`
	Report   *Report   `json:"report,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// workerControl is one line the parent writes on a worker's stdin after
// the plan.
type workerControl struct {
	// Published tells a broadcast worker (Plan.PublishElsewhere) that the
	// parent has finished publishing, and how many messages it published.
	Published *int64 `json:"published,omitempty"`
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

// RunProcs runs p over n worker processes and merges their reports. It
// samples the servers' RSS itself: before starting the workers, and once
// every worker reports that it has settled. Progress snapshots are merged
// across workers. Cancelling ctx asks the workers to finish early (by
// closing their stdin); a worker that has not exited CloseTimeout plus ten
// seconds later is killed.
func RunProcs(ctx context.Context, p Plan, n int, w Workers, o Options) (*Report, error) {
	o = o.withDefaults()
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	sc, err := NewScenario(p.Scenario)
	if err != nil {
		return nil, err
	}
	if err := sc.Check(p); err != nil {
		return nil, err
	}
	plans := SplitPlan(p, n)
	n = len(plans)
	// Broadcast: the parent publishes, once, and the workers only
	// subscribe; they learn how many messages to expect when it is done.
	var pub *publisher
	pm := newMetrics(0)
	if _, ok := sc.(*Broadcast); ok {
		pub, err = newPublisher(p, pm.recorder(HistPublish), pm.counter, func() int64 { return time.Now().UnixNano() })
		if err != nil {
			return nil, err
		}
		for i := range plans {
			plans[i].PublishElsewhere = true
			plans[i].APIKey = ""
		}
	}
	var warnings []string
	for _, wn := range HostWarnings(p, n) {
		warnings = append(warnings, wn)
		if o.Warn != nil {
			o.Warn(wn)
		}
	}

	servers := make([]ServerMemory, len(p.ServerPIDs))
	for i, pid := range p.ServerPIDs {
		servers[i].PID = pid
		servers[i].RSSBefore, err = ReadRSS(pid)
		if err != nil {
			o.Logger.Warn("reading server RSS", zap.Int("pid", pid), zap.Error(err))
		}
	}

	type msg struct {
		i int
		m workerMsg
	}
	msgs := make(chan msg, 16*n)
	procs := make([]*exec.Cmd, n)
	stdins := make([]io.WriteCloser, n)
	readDone := make(chan int, n)
	started := time.Now()
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
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			stopWorkers(procs[:i], stdins[:i], 0)
			return nil, fmt.Errorf("starting worker %d: %w", i, err)
		}
		procs[i], stdins[i] = cmd, in
		if err := json.NewEncoder(in).Encode(wp); err != nil {
			stopWorkers(procs[:i+1], stdins[:i+1], 0)
			return nil, fmt.Errorf("sending plan to worker %d: %w", i, err)
		}
		go func(i int, r io.Reader) {
			defer func() { readDone <- i }()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 256<<20)
			for sc.Scan() {
				var m workerMsg
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					o.Logger.Warn("worker wrote a line that is not JSON", zap.Int("worker", i), zap.Error(err))
					continue
				}
				msgs <- msg{i, m}
			}
		}(i, out)
	}

	latest := make([]Progress, n)
	have := make([]bool, n)
	exited := make([]bool, n)
	pubCtx, pubCancel := context.WithCancel(ctx)
	defer pubCancel()
	var pubDone chan publishResult
	var pubRes publishResult
	publishing := false
	// subscribed reports whether every worker has its subscribers in
	// place (or has ended), so publishing may begin.
	subscribed := func() bool {
		for i := range latest {
			switch {
			case exited[i]:
			case !have[i]:
				return false
			case latest[i].Phase != PhaseSubscribed && phaseRank(latest[i].Phase) < phaseRank("closing"):
				return false
			}
		}
		return true
	}
	startPublishing := func() {
		if pub == nil || pubDone != nil || ctx.Err() != nil || !subscribed() {
			return
		}
		pubDone = make(chan publishResult, 1)
		publishing = true
		go func() { pubDone <- pub.run(pubCtx, p.Duration) }()
	}
	reports := make([]*Report, n)
	errs := make([]string, n)
	watch := newCPUWatch()
	var lastEmitted Progress
	sampled := false
	emit := func(force bool) {
		for _, h := range have {
			if !h {
				return
			}
		}
		mp := MergeProgress(latest)
		mp.Elapsed = time.Since(started).Seconds()
		if publishing {
			mp.Phase = "publishing"
		}
		if !sampled && mp.Settled {
			sampled = true
			for i := range servers {
				servers[i].RSSAfter, _ = ReadRSS(servers[i].PID)
				servers[i].Conns = serverConns(i, len(servers), mp.Open, mp.OpenBy)
			}
		}
		if !force && mp.Phase == lastEmitted.Phase && mp.Settled == lastEmitted.Settled {
			return
		}
		watch.observe(mp.CPUMillis, mp.Elapsed)
		lastEmitted = mp
		if o.Progress != nil {
			o.Progress(mp)
		}
	}

	tick := time.NewTicker(o.ProgressInterval)
	defer tick.Stop()
	ctxDone := ctx.Done()
	var killAt <-chan time.Time
	for running := n; running > 0; {
		select {
		case m := <-msgs:
			switch {
			case m.m.Progress != nil:
				latest[m.i], have[m.i] = *m.m.Progress, true
				startPublishing()
				emit(false)
			case m.m.Report != nil:
				reports[m.i] = m.m.Report
			case m.m.Error != "":
				errs[m.i] = m.m.Error
			}
		case i := <-readDone:
			running--
			exited[i] = true
			startPublishing()
		case pubRes = <-pubDone:
			publishing = false
			for i, in := range stdins {
				if !exited[i] {
					_ = json.NewEncoder(in).Encode(workerControl{Published: &pubRes.Published})
				}
			}
			emit(true)
		case <-tick.C:
			emit(true)
		case <-ctxDone:
			ctxDone = nil
			for _, in := range stdins {
				_ = in.Close()
			}
			killAt = time.After(p.CloseTimeout + 10*time.Second)
		case <-killAt:
			for _, cmd := range procs {
				_ = cmd.Process.Kill()
			}
		}
	}
	// Drain messages that arrived with the last reads.
	for done := false; !done; {
		select {
		case m := <-msgs:
			if m.m.Report != nil {
				reports[m.i] = m.m.Report
			}
			if m.m.Error != "" {
				errs[m.i] = m.m.Error
			}
		default:
			done = true
		}
	}
	stopWorkers(procs, stdins, p.CloseTimeout+10*time.Second)
	if publishing {
		// Every worker ended while the publisher was still at it.
		pubCancel()
		pubRes = <-pubDone
	}

	var got []*Report
	var failed []string
	for i, r := range reports {
		if r != nil {
			got = append(got, r)
			continue
		}
		why := errs[i]
		if why == "" {
			why = procs[i].ProcessState.String()
		}
		failed = append(failed, fmt.Sprintf("worker %d (pid %d) produced no report: %s", i, procs[i].Process.Pid, why))
	}
	if len(got) == 0 {
		return nil, errors.New(failed[0])
	}
	rep := Merge(got...)
	rep.Scenario = p.Scenario
	if pub != nil {
		addPublisher(rep, pm, pubRes, got)
	}
	rep.Memory.Servers = servers
	rep.Memory.derive()
	rep.Warnings = append(append(warnings, failed...), rep.Warnings...)
	if wn := watch.warning(); wn != "" {
		rep.Warnings = append(rep.Warnings, wn)
	}
	rep.Warnings = append(rep.Warnings, reportWarnings(rep)...)
	if ctx.Err() != nil {
		rep.Warnings = append(rep.Warnings, "interrupted before the scenario finished")
	}
	rep.Warnings = dedup(rep.Warnings)
	return rep, nil
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

// ServeWorker is the worker side of RunProcs: it reads a Plan from in, runs
// it, and writes progress snapshots and then the report (or an error) to
// out as JSON lines. in staying open is the parent's way of saying "go on":
// when it reaches EOF (the parent finished early or died) the run is
// cancelled and reports what it has.
func ServeWorker(ctx context.Context, in io.Reader, out io.Writer, log *zap.Logger) error {
	dec := json.NewDecoder(in)
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("reading the plan: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	published := make(chan int64, 1)
	go func() {
		// Control lines follow the plan until the parent closes stdin.
		for {
			var ctl workerControl
			if err := dec.Decode(&ctl); err != nil {
				break
			}
			if ctl.Published != nil {
				select {
				case published <- *ctl.Published:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, io.MultiReader(dec.Buffered(), in))
		cancel()
	}()
	enc := json.NewEncoder(out)
	sc, err := NewScenario(p.Scenario)
	if err != nil {
		_ = enc.Encode(workerMsg{Error: err.Error()})
		return err
	}
	rep, err := Run(ctx, p, sc, Options{
		Logger: log,
		Progress: func(pr Progress) {
			_ = enc.Encode(workerMsg{Progress: &pr})
		},
		published: published,
	})
	if err != nil {
		_ = enc.Encode(workerMsg{Error: err.Error()})
		return err
	}
	return enc.Encode(workerMsg{Report: rep})
}

// addPublisher adds the parent's publisher to a broadcast report merged
// from its workers: the publisher's counters and histogram, the number of
// messages published, and the last_subscriber histogram built from the
// largest per-message latency over all workers.
func addPublisher(rep *Report, pm *metrics, res publishResult, workers []*Report) {
	for k, v := range pm.counters(0) {
		if strings.HasPrefix(k, "publish_") {
			if isMaxCounter(k) {
				rep.Counters[k] = max(rep.Counters[k], v)
			} else {
				rep.Counters[k] += v
			}
		}
	}
	for name, h := range pm.histograms() {
		if rep.Latency[name] == nil {
			rep.Latency[name] = NewHistogram()
		}
		rep.Latency[name].Merge(h)
	}
	rep.Counters[CounterBcastPublished] = res.Published
	last := make([]int64, res.Published)
	for i := range last {
		last[i] = -1
	}
	for _, w := range workers {
		for i, us := range w.LastBySeq {
			if i < len(last) {
				last[i] = max(last[i], us)
			}
		}
	}
	h := NewHistogram()
	for _, us := range last {
		if us >= 0 {
			h.RecordMicros(us)
		}
	}
	rep.Latency[HistLastSubscriber] = h
}
