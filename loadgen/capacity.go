package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gobwas/ws"
)

// Capacity answers "how many connections can this server carry?": it
// opens connections in steps of Step, holds each step for StepHold
// (optionally with echo traffic on every connection), checks the SLOs over
// the step, and stops at the first step that breaks one or when Plan.Conns
// are open. The result is the largest count held with every SLO met, and
// the SLO that broke.
//
// The SLOs, each off when zero:
//   - FailRate: failed attempts plus dropped connections during the step,
//     over the step's attempts;
//   - P99: the step's p99 of the echo round trip with traffic, else of the
//     step's connect latency (dial to 101);
//   - RSSPerConn: the servers' (Plan.ServerPIDs) RSS growth since before
//     the first connection, per open connection, at the end of the hold;
//   - Plan.Conns is the ceiling: reaching it ends the ramp ("max_conns").
//
// In one process Capacity measures everything itself. Over worker
// processes the parent steps them (see capacityCoordinator): it sends each
// step's share, waits until every worker has connected its part, holds,
// and judges from the workers' progress, where the p99 is the worst
// per-second p99 of any worker during the hold (an upper bound of the
// step's own).
type Capacity struct {
	CapacityParams
	echo Echo
	step *Recorder // this step's latency, for the p99 SLO
}

// CapacityParams are capacity's own parameters, sent to worker processes.
type CapacityParams struct {
	Step     int           `json:"step"`
	StepHold time.Duration `json:"step_hold"`
	// Traffic is "" (idle connections) or "echo" (Plan.MsgRate per
	// connection, or Plan.InFlight in a closed loop).
	Traffic string      `json:"traffic,omitempty"`
	SLO     CapacitySLO `json:"slo"`
	// Coordinated is set by Coordinate: a worker takes its steps from its
	// parent instead of deciding them.
	Coordinated bool `json:"coordinated,omitempty"`
}

// CapacitySLO is what a step must meet; zero fields are not checked.
type CapacitySLO struct {
	FailRate   float64       `json:"fail_rate,omitempty"`
	P99        time.Duration `json:"p99,omitempty"`
	RSSPerConn int64         `json:"rss_per_conn,omitempty"`
}

// Capacity defaults and the names of what can break.
const (
	DefaultCapacityStep     = 5000
	DefaultCapacityStepHold = 10 * time.Second

	SLOFailRate   = "fail_rate"
	SLOP99        = "p99"
	SLORSSPerConn = "rss_per_conn"
	SLOMaxConns   = "max_conns"

	// CounterCapacityHeld is the largest count held with the SLOs met.
	CounterCapacityHeld = "capacity_held_conns"
	// CapacityPart names the report part with the steps (a CapacityResult).
	CapacityPart = "capacity"
)

// ErrCapacityServerPID is returned by Check for an RSS SLO without a
// server to sample.
var ErrCapacityServerPID = errors.New("capacity: --slo-rss-per-conn needs --server-pid")

// CapacityStep is one step's outcome.
type CapacityStep struct {
	Conns      int64   `json:"conns"`
	FailRate   float64 `json:"fail_rate"`
	P99        int64   `json:"p99_us"`
	RSSPerConn int64   `json:"rss_per_conn,omitempty"`
	Broke      string  `json:"broke,omitempty"`
}

// CapacityResult is the capacity part of a report.
type CapacityResult struct {
	// Held is the open count at the end of the last step that met every
	// SLO; 0 if the first step broke one.
	Held int64 `json:"held"`
	// Broke names the SLO that ended the ramp (SLOFailRate, SLOP99,
	// SLORSSPerConn) or SLOMaxConns when it reached Plan.Conns; "" when the
	// run was cut short.
	Broke string         `json:"broke"`
	Steps []CapacityStep `json:"steps"`
}

func (cp CapacityParams) withDefaults() CapacityParams {
	if cp.Step <= 0 {
		cp.Step = DefaultCapacityStep
	}
	if cp.StepHold <= 0 {
		cp.StepHold = DefaultCapacityStepHold
	}
	return cp
}

// Name implements Scenario.
func (*Capacity) Name() string { return "capacity" }

// Check implements Scenario.
func (c *Capacity) Check(p Plan) error {
	cp := c.CapacityParams
	switch {
	case cp.Step < 0:
		return errors.New("capacity: --step must not be negative")
	case cp.StepHold < 0:
		return errors.New("capacity: --step-hold must not be negative")
	case cp.Traffic != "" && cp.Traffic != "echo":
		return fmt.Errorf("capacity: --traffic %q: want echo or nothing", cp.Traffic)
	case cp.SLO.FailRate < 0 || cp.SLO.FailRate > 1:
		return errors.New("capacity: --slo-fail-rate must be between 0 and 1")
	case cp.SLO.P99 < 0 || cp.SLO.RSSPerConn < 0:
		return errors.New("capacity: SLOs must not be negative")
	case cp.SLO.RSSPerConn > 0 && len(p.ServerPIDs) == 0:
		return ErrCapacityServerPID
	}
	if cp.Traffic == "echo" {
		return c.echo.Check(p)
	}
	return nil
}

// Drive implements Scenario.
func (c *Capacity) Drive(ctx context.Context, s *Session) error {
	c.CapacityParams = c.CapacityParams.withDefaults()
	c.step = newRecorder()
	if c.Traffic == "echo" {
		c.echo.prepare(s)
	}
	if c.Coordinated {
		return c.driveWorker(ctx, s)
	}
	return c.driveLocal(ctx, s)
}

// driveLocal steps, measures and judges in this process.
func (c *Capacity) driveLocal(ctx context.Context, s *Session) error {
	p := s.Plan()
	rssBefore := serversRSS(p.ServerPIDs)
	var res CapacityResult
	defer func() {
		s.Counter(CounterCapacityHeld).Store(res.Held)
		_ = s.SetReportPart(CapacityPart, res)
	}()
	for k := 1; ; k++ {
		target := min(k*c.Step, p.Conns)
		before := capacitySampleOf(s)
		c.step.intervalP99() // the step starts afresh: its connects count
		if err := c.grow(ctx, s, k, target); err != nil {
			return err
		}
		if err := s.Hold(ctx, c.StepHold); err != nil {
			return err
		}
		after := capacitySampleOf(s)
		after.P99, _ = c.step.intervalP99()
		after.RSS = serversRSS(p.ServerPIDs)
		s.sampleAfter() // the report's memory section: the last step's
		st := c.SLO.judge(before, after, rssBefore, target == p.Conns)
		if !res.record(st) {
			return nil
		}
	}
}

// grow brings this process to target open connections and starts traffic
// on the new ones. Its phase names step k once done, for the parent.
func (c *Capacity) grow(ctx context.Context, s *Session, k, target int) error {
	more := target - int(s.m.open.Load())
	if err := s.Connect(ctx, ConnectSpec{Count: max(0, more), Rate: s.Plan().Rate}); err != nil {
		return err
	}
	if c.Traffic == "echo" {
		c.echo.sending.Store(true)
		if err := s.Each(ctx, func(cn *Conn, now int64) {
			if cn.Flags&capacityStarted == 0 {
				cn.Flags |= capacityStarted
				c.echo.startConn(cn, now)
			}
		}); err != nil {
			return err
		}
	}
	s.SetPhase(capacityPhase(k))
	return nil
}

// capacityStarted marks, in Conn.Flags, a connection whose echo traffic
// has started.
const capacityStarted = 1

func capacityPhase(k int) string { return fmt.Sprintf("step-%d", k) }

// record appends st and reports whether the ramp goes on.
func (r *CapacityResult) record(st CapacityStep) bool {
	r.Steps = append(r.Steps, st)
	switch st.Broke {
	case "":
		r.Held = st.Conns
		return true
	case SLOMaxConns:
		r.Held = st.Conns
	}
	r.Broke = st.Broke
	return false
}

// capacitySample is a point in a step: cumulative counts, and the step's
// p99 and the servers' RSS when taken at its end.
type capacitySample struct {
	Upgraded, Failures, Dropped, Open int64
	P99                               int64 // µs
	RSS                               int64 // sum over servers; 0 unknown
}

func capacitySampleOf(s *Session) capacitySample {
	return capacitySample{
		Upgraded: s.m.upgraded.Load(),
		Failures: s.m.failureTotal(),
		Dropped:  s.m.dropped.Load(),
		Open:     s.m.open.Load(),
	}
}

// judge checks a step from its samples at the start and the end of the
// step; last says the step reached Plan.Conns.
func (slo CapacitySLO) judge(before, after capacitySample, rssBefore int64, last bool) CapacityStep {
	st := CapacityStep{Conns: after.Open, P99: after.P99}
	bad := (after.Failures - before.Failures) + (after.Dropped - before.Dropped)
	if tried := (after.Upgraded - before.Upgraded) + (after.Failures - before.Failures); tried > 0 {
		st.FailRate = float64(bad) / float64(tried)
	} else if bad > 0 {
		st.FailRate = 1
	}
	if after.RSS > 0 && after.Open > 0 {
		st.RSSPerConn = (after.RSS - rssBefore) / after.Open
	}
	switch {
	case slo.FailRate > 0 && st.FailRate > slo.FailRate:
		st.Broke = SLOFailRate
	case slo.P99 > 0 && st.P99 > slo.P99.Microseconds():
		st.Broke = SLOP99
	case slo.RSSPerConn > 0 && st.RSSPerConn > slo.RSSPerConn:
		st.Broke = SLORSSPerConn
	case last:
		st.Broke = SLOMaxConns
	}
	return st
}

// serversRSS sums the RSS of pids; 0 if any cannot be read.
func serversRSS(pids []int) int64 {
	var sum int64
	for _, pid := range pids {
		rss, err := ReadRSS(pid)
		if err != nil {
			return 0
		}
		sum += rss
	}
	return sum
}

// Upgraded implements ConnHandler: without traffic the p99 SLO is on the
// connect latency.
func (c *Capacity) Upgraded(cn *Conn, now int64) {
	if c.Traffic == "" {
		c.step.Record(now - cn.start)
	}
}

// Message implements ConnHandler.
func (c *Capacity) Message(cn *Conn, op ws.OpCode, payload []byte, now int64) {
	if len(payload) >= minEchoSize {
		c.step.Record(now - int64(binary.LittleEndian.Uint64(payload[8:16])))
	}
	c.echo.Message(cn, op, payload, now)
}

// Tick implements ConnHandler.
func (c *Capacity) Tick(cn *Conn, now int64) { c.echo.Tick(cn, now) }

// Dropped implements ConnHandler.
func (c *Capacity) Dropped(*Conn, string) {}

// Summarize implements Summarizer.
func (*Capacity) Summarize(w io.Writer, r *Report) {
	var res CapacityResult
	if ok, err := r.ReportPart(CapacityPart, &res); !ok || err != nil {
		return
	}
	fmt.Fprintf(w, "\ncapacity: held %d connections with every SLO met; ", res.Held)
	switch res.Broke {
	case "":
		fmt.Fprintln(w, "the run ended before any SLO broke")
	case SLOMaxConns:
		fmt.Fprintln(w, "the ramp reached --conns")
	default:
		fmt.Fprintf(w, "%s broke\n", res.Broke)
	}
	fmt.Fprintf(w, "  %10s %10s %10s %12s  %s\n", "conns", "fail_rate", "p99", "rss/conn", "broke")
	for _, st := range res.Steps {
		fmt.Fprintf(w, "  %10d %10.4f %10s %12d  %s\n", st.Conns, st.FailRate, us(st.P99), st.RSSPerConn, st.Broke)
	}
}
