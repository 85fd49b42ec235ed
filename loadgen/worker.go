package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"go.uber.org/zap"
)

// workerStart is the first line a parent writes on a worker's stdin.
type workerStart struct {
	Plan Plan `json:"plan"`
	// Params is the scenario, marshalled: its own parameters.
	Params json.RawMessage `json:"params,omitempty"`
}

// workerMsg is one line a worker writes on its stdout.
type workerMsg struct {
	Progress *Progress `json:"progress,omitempty"`
	Report   *Report   `json:"report,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// ServeWorker is the worker side of RunProcs: it reads a plan and the
// scenario's parameters from in, runs the scenario, and writes progress
// snapshots and then the report (or an error) to out as JSON lines. Every
// later line on in is a control value for the scenario (Session.Control).
// in staying open is the parent's way of saying "go on": when it reaches
// EOF (the parent finished early or died) the run is cancelled and reports
// what it has.
func ServeWorker(ctx context.Context, in io.Reader, out io.Writer, log *zap.Logger) error {
	if log == nil {
		log = zap.NewNop()
	}
	enc := json.NewEncoder(out)
	fail := func(err error) error {
		_ = enc.Encode(workerMsg{Error: err.Error()})
		return err
	}
	dec := json.NewDecoder(in)
	var start workerStart
	if err := dec.Decode(&start); err != nil {
		return fmt.Errorf("reading the plan: %w", err)
	}
	sc, err := NewScenario(start.Plan.Scenario)
	if err != nil {
		return fail(err)
	}
	if len(start.Params) > 0 {
		if err := json.Unmarshal(start.Params, sc); err != nil {
			return fail(fmt.Errorf("reading the scenario's parameters: %w", err))
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	control := make(chan json.RawMessage, 16)
	go func() {
		// Control lines follow until the parent closes stdin.
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				break
			}
			select {
			case control <- raw:
			default:
				log.Warn("dropping a control line from the parent: the scenario is not reading them")
			}
		}
		_, _ = io.Copy(io.Discard, io.MultiReader(dec.Buffered(), in))
		cancel()
	}()
	rep, err := Run(ctx, start.Plan, sc, Options{
		Logger: log,
		Progress: func(pr Progress) {
			_ = enc.Encode(workerMsg{Progress: &pr})
		},
		control: control,
	})
	if err != nil {
		return fail(err)
	}
	return enc.Encode(workerMsg{Report: rep})
}
