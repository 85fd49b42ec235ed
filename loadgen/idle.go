package loadgen

import (
	"context"
)

// Idle opens Plan.Conns connections, lets them settle, samples memory, and
// holds them for Plan.Duration after settling. The engine answers pings and
// counts every connection the server or the network closes as a drop, by
// cause. It needs no per-connection hooks, so an idle connection costs only
// its Conn and gnet's own state.
type Idle struct{}

// Name implements Scenario.
// TimeoutsOnly implements TimeoutsOnly: its connections never ask for a Tick.
func (*Idle) TimeoutsOnly() {}

func (*Idle) Name() string { return "idle" }

// Check implements Scenario.
func (*Idle) Check(Plan) error { return nil }

// Drive implements Scenario.
func (*Idle) Drive(ctx context.Context, s *Session) error {
	p := s.Plan()
	if err := s.Connect(ctx, ConnectSpec{Count: p.Conns, Rate: p.Rate, Ramp: p.Ramp}); err != nil {
		return err
	}
	if err := s.Settle(ctx); err != nil {
		return err
	}
	s.SetPhase("holding")
	return s.Hold(ctx, p.Duration)
}
