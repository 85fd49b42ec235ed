package loadgen

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
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
// With Plan.InFlight = K the load is a closed loop instead: each
// connection sends K messages when sending starts and one more each time an
// echo returns, so throughput is what the server sustains at that depth;
// latency is then measured from the real send. Either way the report
// carries the sending time and the echoes received in it
// (CounterEchoSendingMs, CounterEchoAnswered), so msg/s is over the time
// the load really ran, not the whole run.
//
// Each payload starts with the connection's sequence number and the
// scheduled send time (little-endian uint64s), so an echo needs no lookup
// to be matched; sequence numbers also reveal lost and reordered messages.
type Echo struct {
	NopHandler
	s        *Session
	interval int64
	inFlight int
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
	// CounterEchoSendingMs is how long sending lasted; a maximum over
	// processes.
	CounterEchoSendingMs = "echo_sending_max_ms"
	// CounterEchoAnswered counts echoes received while sending.
	CounterEchoAnswered = "echo_answered_while_sending"
)

// Name implements Scenario.
func (*Echo) Name() string { return "echo" }

// Check implements Scenario.
func (*Echo) Check(p Plan) error {
	if p.Size < minEchoSize {
		return fmt.Errorf("echo needs --size of at least %d (sequence number and send time)", minEchoSize)
	}
	if p.MsgRate <= 0 && p.InFlight == 0 {
		return fmt.Errorf("echo needs a positive --msg-rate")
	}
	return nil
}

// Drive implements Scenario.
func (e *Echo) Drive(ctx context.Context, s *Session) error {
	p := s.Plan()
	e.prepare(s)
	if err := s.Connect(ctx, ConnectSpec{Count: p.Conns, Rate: p.Rate, Ramp: p.Ramp}); err != nil {
		return err
	}
	s.SetPhase("sending")
	start, in0 := s.Now(), s.MessagesReceived()
	e.sending.Store(true)
	err := s.Each(ctx, e.startConn)
	if err == nil {
		err = s.Hold(ctx, p.Duration)
	}
	e.sending.Store(false)
	s.Counter(CounterEchoSendingMs).Store((s.Now() - start) / 1e6)
	s.Counter(CounterEchoAnswered).Store(s.MessagesReceived() - in0)

	// Wait for the answers still on their way.
	s.SetPhase("draining")
	s.Wait(context.Background(), p.CloseTimeout, func() bool {
		return s.MessagesReceived() >= s.MessagesSent()
	})
	e.lost.Store(max(0, s.MessagesSent()-s.MessagesReceived()))
	return err
}

// prepare takes the plan's parameters and registers the counters.
func (e *Echo) prepare(s *Session) {
	p := s.Plan()
	e.s = s
	e.size = p.Size
	e.inFlight = p.InFlight
	e.interval = max(1, int64(float64(time.Second)/max(p.MsgRate, 1e-9)))
	e.rtt = s.Recorder(HistRTT)
	e.gaps = s.Counter(CounterEchoGaps)
	e.reordered = s.Counter(CounterEchoReordered)
	e.short = s.Counter(CounterEchoShort)
	e.backpressure = s.Counter(CounterEchoBackpressure)
	e.lost = s.Counter(CounterEchoLost)
}

// startConn starts c sending: K messages at once in a closed loop, else
// its schedule from a random phase.
func (e *Echo) startConn(c *Conn, now int64) {
	if e.inFlight > 0 {
		for range e.inFlight {
			if !e.send(c, now) {
				return
			}
		}
		return
	}
	c.Next = now + rand.Int64N(e.interval)
	c.Schedule(c.Next)
}

// send sends c's next message stamped with sent and reports whether the
// connection took it.
func (e *Echo) send(c *Conn, sent int64) bool {
	buf := c.Buffer(e.size)
	binary.LittleEndian.PutUint64(buf[0:8], c.Seq)
	binary.LittleEndian.PutUint64(buf[8:16], uint64(sent))
	if !c.Send(ws.OpBinary, buf) {
		return false
	}
	c.Seq++
	return true
}

// Tick implements ConnHandler: send every message whose time has come.
func (e *Echo) Tick(c *Conn, now int64) {
	if !e.sending.Load() || e.inFlight > 0 {
		return
	}
	for n := 0; c.Next <= now && n < maxBurst; n++ {
		if c.OutboundBuffered() > maxOutbound {
			e.backpressure.Add(1)
			break
		}
		if !e.send(c, e.s.SendTime(c.Next, now)) {
			return
		}
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
	if e.inFlight > 0 && e.sending.Load() {
		e.send(c, now)
	}
}

// EchoRate is the echoes received per second of sending in r, 0 when r
// has no sending time.
func EchoRate(r *Report) float64 {
	ms := r.Counters[CounterEchoSendingMs]
	if ms <= 0 {
		return 0
	}
	return float64(r.Counters[CounterEchoAnswered]) / (float64(ms) / 1e3)
}

// Summarize implements Summarizer: the rate over the sending time.
func (*Echo) Summarize(w io.Writer, r *Report) {
	if rate := EchoRate(r); rate > 0 {
		fmt.Fprintf(w, "  %-28s %12.0f   (over %.2fs of sending)\n", "echo_msgs_per_s", rate, float64(r.Counters[CounterEchoSendingMs])/1e3)
	}
}
