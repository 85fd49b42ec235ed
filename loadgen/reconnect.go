package loadgen

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Reconnect measures recovery after a reconnect wave: Plan.Conns WebSocket
// subscribers join Topic, and once they are settled a publisher (the
// broadcast scenario's, at PubRate for Plan.Duration) posts numbered
// messages. WaveAt after publishing began, every subscriber drops its TCP
// connection at a random moment within WaveSpread, as clients whose network
// went away, and ReconnectDelay later dials again with the position of the
// last message it has in the URL (?since.<topic>=<epoch>/<offset>). The
// gateway answers "subscribed" with "recovered" and the position the
// recovery reaches, then the missed messages, then live ones.
//
// Each subscriber checks every message's offset against the last one it
// has: a smaller or equal one is a duplicate, a jump a gap (messages lost);
// after the publisher stops, every message of the publisher's numbering a
// subscriber lacks is lost as well. Messages up to the recovered position
// are counted as recovered. The wave's length is the time from the first
// drop to the last "subscribed" answer of the reconnections.
//
// Per subscriber the state is the Conn's scenario fields, carried over to
// the reconnection by Session.Redial: Expect is the offset of the last
// message it has, Seq the position the recovery reaches (while
// recovering), Next the number of distinct messages, Flags the rc* bits.
// All subscribers of the run share the topic's epoch, kept once.
type Reconnect struct {
	ReconnectParams

	s     *Session
	since string // "since.<topic>=", escaped, before the cursor
	delay int64  // ReconnectDelay in ns
	epoch atomic.Pointer[string]
	t0    atomic.Int64 // first drop, Session clock; 0 before
	tBack atomic.Int64 // last subscribed answer of a reconnection

	resume       *Recorder
	dropped      *Counter
	back         *Counter
	recovered    *Counter
	notRecovered *Counter
	gaps         *Counter
	dup          *Counter
	unparsed     *Counter
	epochChanged *Counter
	distinctOpen atomic.Int64

	publishing atomic.Bool
	closed     atomic.Bool

	mu   sync.Mutex
	gone []goneSubscriber // subscribers the server or network dropped
}

// ReconnectParams are the reconnect scenario's own parameters; zero values
// select the defaults. They travel to worker processes as JSON. Topic, API,
// APIKey and PubRate are as for broadcast.
type ReconnectParams struct {
	BroadcastParams
	// WaveAt is when, after publishing began, the wave starts.
	WaveAt time.Duration `json:"wave_at,omitempty"`
	// WaveSpread is the window over which the subscribers drop.
	WaveSpread time.Duration `json:"wave_spread,omitempty"`
	// ReconnectDelay is how long a subscriber stays away.
	ReconnectDelay time.Duration `json:"reconnect_delay,omitempty"`
}

// Defaults of ReconnectParams.
const (
	DefaultWaveAt         = 5 * time.Second
	DefaultWaveSpread     = time.Second
	DefaultReconnectDelay = time.Second
)

func (rp ReconnectParams) withDefaults() ReconnectParams {
	rp.BroadcastParams = rp.BroadcastParams.withDefaults()
	if rp.WaveAt == 0 {
		rp.WaveAt = DefaultWaveAt
	}
	if rp.WaveSpread == 0 {
		rp.WaveSpread = DefaultWaveSpread
	}
	if rp.ReconnectDelay == 0 {
		rp.ReconnectDelay = DefaultReconnectDelay
	}
	return rp
}

// Subscriber flags of the reconnect scenario in Conn.Flags.
const (
	rcWave       = 1 << iota // the wave has reached it: it will drop
	rcDropped                // it dropped and reconnects
	rcBack                   // its reconnection was answered
	rcRecovering             // messages up to Seq are the recovery's
	rcCounted                // already counted in the final tally
	rcDup                    // received a message twice
)

// Counter and histogram names of the reconnect scenario.
const (
	CounterRcPublished    = "reconnect_published"     // messages published: each subscriber should get all of them
	CounterRcSubscribers  = "reconnect_subscribers"   // subscribers tallied at the end
	CounterRcDropped      = "reconnect_dropped"       // subscribers the wave dropped
	CounterRcBack         = "reconnect_back"          // of those, reconnected and answered "subscribed"
	CounterRcAllBackMs    = "reconnect_all_back_ms"   // first drop to the last such answer
	CounterRcRecovered    = "reconnect_recovered"     // messages delivered by recoveries
	CounterRcNotRecovered = "reconnect_not_recovered" // "recovered":false answers
	CounterRcLost         = "reconnect_lost"          // published messages a subscriber never got
	CounterRcGaps         = "reconnect_offset_gaps"   // offsets skipped in a subscriber's sequence
	CounterRcDuplicated   = "reconnect_duplicated"    // a message at or below the last offset had
	CounterRcSubsLost     = "reconnect_subscribers_lost"
	CounterRcSubsDup      = "reconnect_subscribers_duplicated"
	CounterRcUnparsed     = "reconnect_unparsed"      // messages without offset and epoch (history off?)
	CounterRcEpochChanged = "reconnect_epoch_changed" // messages of another epoch than the first seen
	HistResume            = "resume"                  // a reconnection's dial to its "subscribed" answer
)

// errWaveAfterEnd is a wave that would start after publishing ends.
var errWaveAfterEnd = errors.New("reconnect: --wave-at plus --wave-spread must end before --duration")

// Name implements Scenario.
func (*Reconnect) Name() string { return "reconnect" }

// Check implements Scenario.
func (r *Reconnect) Check(p Plan) error {
	rp := r.ReconnectParams.withDefaults()
	if err := (&Broadcast{BroadcastParams: rp.BroadcastParams}).Check(p); err != nil {
		return err
	}
	if rp.WaveAt < 0 || rp.WaveSpread < 0 || rp.ReconnectDelay < 0 {
		return errors.New("reconnect: --wave-at, --wave-spread and --reconnect-delay must not be negative")
	}
	if d := p.withDefaults().Duration; rp.WaveAt+rp.WaveSpread >= d {
		return errWaveAfterEnd
	}
	return nil
}

// Drive implements Scenario.
func (r *Reconnect) Drive(ctx context.Context, s *Session) error {
	p := s.Plan()
	rp := r.ReconnectParams.withDefaults()
	r.s = s
	r.since = "since." + url.QueryEscape(rp.Topic) + "="
	r.delay = int64(rp.ReconnectDelay)
	r.resume = s.Recorder(HistResume)
	for _, c := range []struct {
		p    **Counter
		name string
	}{
		{&r.dropped, CounterRcDropped}, {&r.back, CounterRcBack}, {&r.recovered, CounterRcRecovered},
		{&r.notRecovered, CounterRcNotRecovered}, {&r.gaps, CounterRcGaps}, {&r.dup, CounterRcDuplicated},
		{&r.unparsed, CounterRcUnparsed}, {&r.epochChanged, CounterRcEpochChanged},
	} {
		*c.p = s.Counter(c.name)
	}
	if err := s.Connect(ctx, ConnectSpec{Count: p.Conns, Rate: p.Rate, Ramp: p.Ramp}); err != nil {
		return err
	}
	if err := s.Settle(ctx); err != nil {
		return err
	}
	pub, err := newPublisher(p, rp.BroadcastParams, s.Recorder(HistPublish), s.Counter, func() int64 { return s.WallTime(s.Now()) })
	if err != nil {
		return err
	}
	s.SetPhase("publishing")
	r.publishing.Store(true)
	done := make(chan int64, 1)
	go func() { done <- pub.run(ctx, p.Duration).Published }()

	werr := sleep(ctx, rp.WaveAt)
	if werr == nil {
		s.SetPhase("wave")
		werr = s.Each(ctx, func(c *Conn, now int64) {
			c.Flags |= rcWave
			c.Schedule(now + rand.Int64N(int64(rp.WaveSpread)+1))
		})
	}
	published := <-done
	s.Counter(CounterRcPublished).Store(published)

	// Stragglers: every dropped subscriber back, every open one with every
	// message, or the close timeout passes.
	s.SetPhase("draining")
	s.Wait(context.Background(), p.CloseTimeout, func() bool {
		return r.back.Load() >= r.dropped.Load() && r.distinctOpen.Load() >= published*s.Open()
	})
	r.tally(published)
	if werr != nil {
		return werr
	}
	return ctx.Err()
}

// Tick implements ConnHandler: the wave reaches c. It drops its socket and
// asks to come back after the delay from the last message it has.
func (r *Reconnect) Tick(c *Conn, now int64) {
	if c.Flags&rcWave == 0 || c.Flags&rcDropped != 0 {
		return
	}
	r.t0.CompareAndSwap(0, now)
	c.Flags |= rcDropped
	c.Flags &^= rcRecovering
	r.dropped.Add(1)
	r.distinctOpen.Add(-c.Next) // back in the count when it is answered
	extra := ""
	if e := r.epoch.Load(); e != nil && c.Expect > 0 {
		extra = r.since + *e + "/" + strconv.FormatUint(c.Expect, 10)
	}
	r.s.Redial(c, extra, now+r.delay)
	c.Abort()
}

// Upgraded implements ConnHandler: a reconnection that had no position to
// give gets no "subscribed" answer, so it is back once upgraded.
func (r *Reconnect) Upgraded(c *Conn, now int64) {
	if c.Flags&rcDropped != 0 && c.Expect == 0 {
		r.backAt(c, now)
	}
}

// backAt counts c as back. Loop-only.
func (r *Reconnect) backAt(c *Conn, now int64) {
	c.Flags |= rcBack
	r.back.Add(1)
	r.distinctOpen.Add(c.Next)
	r.resume.Record(now - c.start)
	maxInt64(&r.tBack, now)
}

// Message implements ConnHandler: a delivery or a "subscribed" answer.
func (r *Reconnect) Message(c *Conn, _ ws.OpCode, payload []byte, now int64) {
	if r.closed.Load() {
		return
	}
	m := parseGateway(payload)
	switch m.kind {
	case gwSubscribed:
		if c.Flags&(rcDropped|rcBack) != rcDropped {
			return
		}
		if m.recovered && m.hasPos {
			c.Seq = m.offset
			c.Flags |= rcRecovering
		} else {
			r.notRecovered.Add(1)
		}
		r.backAt(c, now)
		return
	case gwMessage:
	default:
		return
	}
	if !m.hasPos {
		r.unparsed.Add(1)
		return
	}
	r.checkEpoch(m.epoch)
	switch {
	case c.Expect != 0 && m.offset <= c.Expect:
		r.dup.Add(1)
		c.Flags |= rcDup
		return
	case c.Expect != 0 && m.offset > c.Expect+1:
		r.gaps.Add(int64(m.offset - c.Expect - 1))
	}
	c.Expect = m.offset
	c.Next++
	if c.Flags&rcDropped == 0 || c.Flags&rcBack != 0 {
		r.distinctOpen.Add(1)
	}
	if c.Flags&rcRecovering != 0 {
		if m.offset <= c.Seq {
			r.recovered.Add(1)
		} else {
			c.Flags &^= rcRecovering
		}
	}
}

// checkEpoch keeps the first epoch seen and counts messages of another.
func (r *Reconnect) checkEpoch(e []byte) {
	if cur := r.epoch.Load(); cur != nil {
		if *cur != string(e) {
			r.epochChanged.Add(1)
		}
		return
	}
	s := string(e)
	r.epoch.CompareAndSwap(nil, &s)
}

// Dropped implements ConnHandler: a subscriber the server or the network
// dropped keeps its count for the tally.
func (r *Reconnect) Dropped(c *Conn, _ string) {
	if !r.publishing.Load() || c.Flags&rcCounted != 0 {
		return
	}
	c.Flags |= rcCounted
	r.distinctOpen.Add(-c.Next)
	r.mu.Lock()
	r.gone = append(r.gone, goneSubscriber{distinct: c.Next, flags: c.Flags})
	r.mu.Unlock()
}
