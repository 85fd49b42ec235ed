package loadgen

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
)

// Scenario is one kind of load. Drive runs in its own goroutine and uses
// the Session's phases (Connect, Settle, Hold, Each, ...) to shape the run;
// the Session closes whatever is still open when Drive returns. A scenario
// that needs to act on each connection also implements ConnHandler.
//
// Broadcast is the fullest example: Drive connects subscribers and runs a
// publisher for Plan.Duration; Message parses each delivery on the loop,
// records its latency into a Recorder from Session.Recorder and counts
// anomalies in Counters from Session.Counter, keeping per-connection state
// in the Conn's scenario fields. Add a scenario to Scenarios and it is on
// the command line, in reports and in merges.
type Scenario interface {
	// Name is the scenario's word on the command line.
	Name() string
	// Check reports a plan the scenario cannot run, before anything starts.
	Check(p Plan) error
	// Drive runs the scenario. It returns when the scenario is done or ctx
	// ends; every Connect it started must have returned.
	Drive(ctx context.Context, s *Session) error
}

// ConnHandler receives a scenario's per-connection events. Every method
// runs on the connection's event loop: it must not block, and it may use c
// and any Conn of the same loop freely.
type ConnHandler interface {
	// Upgraded is called once the 101 response has been checked.
	Upgraded(c *Conn, now int64)
	// Message is called for each complete data message (fragments are
	// joined). payload is valid only during the call.
	Message(c *Conn, op ws.OpCode, payload []byte, now int64)
	// Tick is called at or after the time given to Conn.Schedule (within
	// about a Plan.Tick), with the current time.
	Tick(c *Conn, now int64)
	// Dropped is called when the server or the network ended an open
	// connection, with the drop cause.
	Dropped(c *Conn, cause string)
}

// NopHandler implements ConnHandler with methods that do nothing, to embed
// in scenarios that need only some of them.
type NopHandler struct{}

// Upgraded implements ConnHandler.
func (NopHandler) Upgraded(*Conn, int64) {}

// Message implements ConnHandler.
func (NopHandler) Message(*Conn, ws.OpCode, []byte, int64) {}

// Tick implements ConnHandler.
func (NopHandler) Tick(*Conn, int64) {}

// Dropped implements ConnHandler.
func (NopHandler) Dropped(*Conn, string) {}

// Summarizer is implemented by a scenario that sums up its part of a
// report in words. Report.WriteTable calls Summarize, after the counters,
// for each scenario named in Report.Scenario that implements it.
type Summarizer interface {
	Summarize(w io.Writer, r *Report)
}

// Coordinated is implemented by a scenario that has a part to play in the
// parent process when RunProcs spreads it over worker processes, such as
// broadcast's single publisher for all the workers' subscribers. Scenarios
// without one run in the workers only.
type Coordinated interface {
	Scenario
	// Coordinate returns the parent's part for a run of p. It may change
	// the scenario's own parameters before RunProcs sends them to the
	// workers (broadcast tells them that someone else publishes).
	Coordinate(p Plan, log *zap.Logger) (Coordinator, error)
}

// Coordinator is a scenario's part in the parent of a RunProcs run.
// RunProcs calls its methods from one goroutine, one at a time.
type Coordinator interface {
	// Observe is called each time a worker reports progress or exits, with
	// the state of every worker. It may start work that lasts until ctx
	// ends or Finish is called.
	Observe(ctx context.Context, workers []WorkerState)
	// Phase names what the parent is doing, shown instead of the workers'
	// merged phase in progress snapshots; "" when it is doing nothing.
	// It may be called at any time.
	Phase() string
	// Control yields values that RunProcs sends, as JSON lines, to every
	// worker still running; the workers' scenarios read them from
	// Session.Control. It may return nil for none.
	Control() <-chan any
	// Finish stops whatever the parent still has going and adds its
	// results to rep, the merge of workers, the workers' reports.
	Finish(rep *Report, workers []*Report)
}

// WorkerState is what a RunProcs parent knows about one worker.
type WorkerState struct {
	// Progress is the worker's latest snapshot; valid if Reported.
	Progress Progress
	// Reported says the worker has sent at least one snapshot.
	Reported bool
	// Exited says the worker's output has ended.
	Exited bool
}

// ScenarioInfo describes a scenario for the command line.
type ScenarioInfo struct {
	Name    string
	Summary string
	New     func() Scenario
}

// Scenarios lists the built-in scenarios. It returns a new slice on each
// call: there is no registry to mutate.
func Scenarios() []ScenarioInfo {
	list := []ScenarioInfo{
		{Name: "idle", Summary: "open --conns connections, hold them for --duration, answer pings, count drops; memory per connection", New: func() Scenario { return new(Idle) }},
		{Name: "echo", Summary: "each connection sends --size byte messages at --msg-rate on a fixed schedule, or keeps --in-flight outstanding (closed loop); round-trip latency, msg/s", New: func() Scenario { return new(Echo) }},
		{Name: "broadcast", Summary: "--conns subscribers on --topic; a publisher posts --pub-rate messages/s to --api for --duration; fan-out and last-subscriber latency, loss", New: func() Scenario { return new(Broadcast) }},
		{Name: "flood", Summary: "attack: open --conns raw TCP connections that send nothing, hold them --duration, probe with a fresh upgrade (loopback only)", New: func() Scenario { return NewFlood() }},
		{Name: "slowloris", Summary: "attack: open --conns connections and trickle the upgrade request a byte a second, never finishing it (loopback only)", New: func() Scenario { return NewSlowloris() }},
		{Name: "slow-readers", Summary: "attack: upgrade --conns connections to the target URL (e.g. /ws?topics=t) and never read (loopback only)", New: func() Scenario { return NewSlowReaders() }},
		{Name: "capacity", Summary: "open connections in --step steps held --step-hold (optionally with --traffic echo) until an SLO (--slo-*) breaks or --conns are open; the largest count held", New: func() Scenario { return new(Capacity) }},
		{Name: "sse", Summary: "--conns Server-Sent Events clients on GET /sse?topics=--topic; --mode idle holds them (heartbeats, memory per connection) or --mode broadcast runs broadcast's publisher over them", New: func() Scenario { return new(SSE) }},
		{Name: "reconnect", Summary: "--conns subscribers on --topic while a publisher posts --pub-rate/s; at --wave-at all drop within --wave-spread and resume after --reconnect-delay with ?since.; recovered, lost, duplicated, time until all are back", New: func() Scenario { return new(Reconnect) }},
		{Name: "churn", Summary: "open connections at --rate for --duration, each living --conns/--rate seconds; connect latency and failures", New: func() Scenario { return new(Churn) }},
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}

// NewScenario returns the built-in scenario called name.
func NewScenario(name string) (Scenario, error) {
	var names []string
	for _, si := range Scenarios() {
		if si.Name == name {
			return si.New(), nil
		}
		names = append(names, si.Name)
	}
	return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(names, ", "))
}
