package loadgen

import (
	"context"
	"errors"
	"time"

	"github.com/gobwas/ws"
)

// Churn opens connections at Plan.Rate for Plan.Duration and closes each
// one (with a closing handshake) Plan.Conns/Plan.Rate after it upgraded, so
// about Plan.Conns are open at any time while the server takes Rate upgrades
// and Rate closes per second: a reconnect storm. The report's connect
// histogram and failures by cause are the point.
type Churn struct {
	NopHandler
	lifetime int64
}

// Name implements Scenario.
func (*Churn) Name() string { return "churn" }

// Check implements Scenario.
func (*Churn) Check(p Plan) error {
	if p.Rate <= 0 {
		return errors.New("churn needs --rate (connections opened and closed per second)")
	}
	return nil
}

// Drive implements Scenario.
func (ch *Churn) Drive(ctx context.Context, s *Session) error {
	p := s.Plan()
	ch.lifetime = int64(float64(p.Conns) / p.Rate * float64(time.Second))
	count := max(1, int(p.Rate*p.Duration.Seconds()))
	if err := s.Connect(ctx, ConnectSpec{Count: count, Rate: p.Rate, Ramp: p.Ramp}); err != nil {
		return err
	}
	// The last connections live out their lifetime.
	s.SetPhase("draining")
	s.Wait(ctx, time.Duration(ch.lifetime)+p.CloseTimeout+time.Second, func() bool { return s.Open() == 0 })
	return ctx.Err()
}

// Upgraded implements ConnHandler: the connection's end is scheduled.
func (ch *Churn) Upgraded(c *Conn, now int64) { c.Schedule(now + ch.lifetime) }

// Tick implements ConnHandler: the lifetime is over.
func (ch *Churn) Tick(c *Conn, _ int64) { c.Close(ws.StatusNormalClosure) }
