package loadgen

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Echo drives every connection with messages of Plan.Size bytes at
// Plan.MsgRate per connection and measures the round trip to an echo
// server.
//
// The load is an open model: each connection's send times are fixed in
// advance (a random phase, then one per interval), and a message that goes
// out late, because the loop or the socket was busy, still carries its
// scheduled time. Latency is measured from that time, so stalls show up in
// the percentiles instead of silently thinning the load (coordinated
// omission); Session.SendTime says how the pacer's own timer jitter is
// kept out.
//
// Each payload starts with the connection's sequence number and the
// scheduled send time (little-endian uint64s), so an echo needs no lookup
// to be matched; sequence numbers also reveal lost and reordered messages.
type Echo struct {
	NopHandler
	s        *Session
	interval int64
	size     int
	sending  atomic.Bool

	rtt          *Recorder
	gaps         *Counter
	reordered    *Counter
	short        *Counter
	backpressure *Counter
	lost         *Counter
}

// Echo limits. A connection whose unsent bytes exceed maxOutbound skips a
// tick instead of growing its buffer; one tick sends at most maxBurst
// overdue messages per connection.
const (
	maxOutbound = 64 << 10
	maxBurst    = 1024
)

// Counter names of the echo scenario.
const (
	CounterEchoGaps         = "echo_missing"
	CounterEchoReordered    = "echo_reordered"
	CounterEchoShort        = "echo_short_payloads"
	CounterEchoBackpressure = "echo_backpressure_ticks"
	CounterEchoLost         = "echo_unanswered"
)

// Name implements Scenario.
func (*Echo) Name() string { return "echo" }

// Check implements Scenario.
func (*Echo) Check(p Plan) error {
	if p.Size < minEchoSize {
		return fmt.Errorf("echo needs --size of at least %d (sequence number and send time)", minEchoSize)
	}
	if p.MsgRate <= 0 {
		return fmt.Errorf("echo needs a positive --msg-rate")
	}
	return nil
}

// Drive implements Scenario.
func (e *Echo) Drive(ctx context.Context, s *Session) error {
	p := s.Plan()
	e.s = s
	e.size = p.Size
	e.interval = max(1, int64(float64(time.Second)/p.MsgRate))
	e.rtt = s.Recorder(HistRTT)
	e.gaps = s.Counter(CounterEchoGaps)
	e.reordered = s.Counter(CounterEchoReordered)
	e.short = s.Counter(CounterEchoShort)
	e.backpressure = s.Counter(CounterEchoBackpressure)
	e.lost = s.Counter(CounterEchoLost)

	if err := s.Connect(ctx, ConnectSpec{Count: p.Conns, Rate: p.Rate, Ramp: p.Ramp}); err != nil {
		return err
	}
	s.SetPhase("sending")
	e.sending.Store(true)
	err := s.Each(ctx, func(c *Conn, now int64) {
		c.Next = now + rand.Int64N(e.interval)
		c.Schedule(c.Next)
	})
	if err == nil {
		err = s.Hold(ctx, p.Duration)
	}
	e.sending.Store(false)

	// Wait for the answers still on their way.
	s.SetPhase("draining")
	s.Wait(context.Background(), p.CloseTimeout, func() bool {
		return s.MessagesReceived() >= s.MessagesSent()
	})
	e.lost.Store(max(0, s.MessagesSent()-s.MessagesReceived()))
	return err
}

// Tick implements ConnHandler: send every message whose time has come.
func (e *Echo) Tick(c *Conn, now int64) {
	if !e.sending.Load() {
		return
	}
	for n := 0; c.Next <= now && n < maxBurst; n++ {
		if c.OutboundBuffered() > maxOutbound {
			e.backpressure.Add(1)
			break
		}
		buf := c.Buffer(e.size)
		binary.LittleEndian.PutUint64(buf[0:8], c.Seq)
		binary.LittleEndian.PutUint64(buf[8:16], uint64(e.s.SendTime(c.Next, now)))
		if !c.Send(ws.OpBinary, buf) {
			return
		}
		c.Seq++
		c.Next += e.interval
	}
	c.Schedule(c.Next)
}

// Message implements ConnHandler: match the echo by its header.
func (e *Echo) Message(c *Conn, _ ws.OpCode, payload []byte, now int64) {
	if len(payload) < minEchoSize {
		e.short.Add(1)
		return
	}
	seq := binary.LittleEndian.Uint64(payload[0:8])
	sent := int64(binary.LittleEndian.Uint64(payload[8:16]))
	e.rtt.Record(now - sent)
	switch {
	case seq == c.Expect:
		c.Expect++
	case seq > c.Expect:
		e.gaps.Add(int64(seq - c.Expect))
		c.Expect = seq + 1
	default:
		e.reordered.Add(1)
	}
}
