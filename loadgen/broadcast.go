package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
)

// Broadcast measures a pub/sub gateway's fan-out: Plan.Conns subscribers
// join Topic over WebSocket, and once all are connected and settled a
// publisher posts PubRate messages per second to the HTTP publish API
// (API) for Plan.Duration; BroadcastParams holds these. Every message carries a sequence number and
// its wall-clock send time, so each subscriber, on its own event loop,
// records the fan-out latency (receive time minus send time) and checks the
// sequence: duplicates and out-of-order deliveries are counted as they
// come, and once publishing has ended and stragglers had Plan.CloseTimeout
// to arrive, every message a subscriber lacks is counted lost.
//
// The time until the last subscriber has a message (the largest fan-out
// latency of that message over all subscribers) has its own histogram,
// "last_subscriber", one value per message. With worker processes the
// parent publishes, each worker reports its per-message maxima, and the
// parent takes the largest of each before building that histogram.
//
// Per subscriber the state is the Conn's scenario fields: Expect is one
// past the highest sequence number received, Seq a bitmap of which of the
// 64 numbers below Expect have arrived (to tell a late message from a
// duplicate), Next the number of distinct messages received, and Flags
// whether it saw duplicates or reordering.
type Broadcast struct {
	BroadcastParams

	s *Session

	fanout *Recorder
	lastH  *Recorder
	last   *lastArrival

	received     *Counter // deliveries parsed, duplicates included
	distinctOpen atomic.Int64
	dup          *Counter
	reordered    *Counter
	unparsed     *Counter

	publishing atomic.Bool // drops from now on are subscribers that lose messages
	closed     atomic.Bool // deliveries from now on are ignored

	mu    sync.Mutex
	gone  []goneSubscriber // subscribers dropped while publishing
	bySeq map[uint64]int64 // worker: per-message maxima (µs) for the parent
}

// BroadcastParams are the broadcast scenario's own parameters. Zero values
// select the defaults. They travel to worker processes as JSON.
type BroadcastParams struct {
	// Topic is the topic subscribers join (SubscribeURL puts it in their
	// URL) and the publisher posts to.
	Topic string `json:"topic,omitempty"`
	// API is the publish API's URL, and APIKey, if set, is sent to it as
	// a bearer token.
	API    string `json:"api,omitempty"`
	APIKey string `json:"api_key,omitempty"`
	// PubRate is messages published per second, for Plan.Duration. Plan.Size
	// pads each message's data.
	PubRate float64 `json:"pub_rate,omitempty"`
	// PublishElsewhere marks a worker whose messages are published by its
	// parent: it connects its subscribers, waits for the parent to say how
	// many messages it published, and counts against that.
	PublishElsewhere bool `json:"publish_elsewhere,omitempty"`
}

// Defaults of BroadcastParams.
const (
	DefaultTopic   = "bench"
	DefaultAPI     = "http://127.0.0.1:8081/publish"
	DefaultPubRate = 1
)

func (bp BroadcastParams) withDefaults() BroadcastParams {
	if bp.Topic == "" {
		bp.Topic = DefaultTopic
	}
	if bp.API == "" {
		bp.API = DefaultAPI
	}
	if bp.PubRate == 0 {
		bp.PubRate = DefaultPubRate
	}
	return bp
}

// goneSubscriber is what is left of a subscriber the server dropped.
type goneSubscriber struct {
	distinct int64
	flags    uint8
}

// Subscriber flags in Conn.Flags.
const (
	bcastDup     = 1 << iota // received a message twice
	bcastOOO                 // received a message after a later one
	bcastCounted             // already counted in the final tally
)

// bcastWindow is how far below the highest sequence number a subscriber
// can tell a late message from a duplicate. Anything older is counted as
// out of order.
const bcastWindow = 64

// PhaseSubscribed is the phase of a broadcast worker whose subscribers are
// connected and settled, waiting for its parent to publish.
const PhaseSubscribed = "subscribed"

// Counter names of the broadcast scenario.
const (
	CounterBcastPublished      = "broadcast_published"    // messages published: each subscriber should get all of them
	CounterBcastSubscribers    = "broadcast_subscribers"  // subscribers open when publishing began
	CounterBcastExpected       = "broadcast_expected"     // published times subscribers
	CounterBcastReceived       = "broadcast_received"     // deliveries, duplicates included
	CounterBcastLost           = "broadcast_lost"         // expected messages a subscriber never got
	CounterBcastDuplicated     = "broadcast_duplicated"   // deliveries of a message a subscriber already had
	CounterBcastOutOfOrder     = "broadcast_out_of_order" // messages received after a later one
	CounterBcastSubsLost       = "broadcast_subscribers_lost"
	CounterBcastSubsDuplicated = "broadcast_subscribers_duplicated"
	CounterBcastSubsOutOfOrder = "broadcast_subscribers_out_of_order"
	CounterBcastUnparsed       = "broadcast_unparsed"  // data messages without a sequence number and send time
	CounterBcastUntracked      = "broadcast_untracked" // deliveries too late for the last_subscriber ring
)

// Histogram names of the broadcast scenario.
const (
	HistFanout         = "fanout"          // publisher's send time to a subscriber's receipt, per delivery
	HistLastSubscriber = "last_subscriber" // send time to the last subscriber's receipt, per message
)

// Name implements Scenario.
// TimeoutsOnly implements TimeoutsOnly: its connections never ask for a Tick.
func (*Broadcast) TimeoutsOnly() {}

func (*Broadcast) Name() string { return "broadcast" }

// Check implements Scenario.
func (b *Broadcast) Check(Plan) error {
	bp := b.BroadcastParams.withDefaults()
	if err := checkAPI(bp.API); err != nil {
		return err
	}
	if bp.PubRate < 0 {
		return errors.New("broadcast: --pub-rate must not be negative")
	}
	return nil
}

// SubscribeURL returns the WebSocket URL a broadcast subscriber dials: raw
// with path /ws if it has none, and topics=topic added to the query unless
// the query already names topics.
func SubscribeURL(raw, topic string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("target %q: %w", raw, err)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/ws"
	}
	q := u.Query()
	if !q.Has("topics") {
		q.Set("topics", topic)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// Drive implements Scenario.
func (b *Broadcast) Drive(ctx context.Context, s *Session) error {
	p := s.Plan()
	bp := b.BroadcastParams.withDefaults()
	b.s = s
	b.fanout = s.Recorder(HistFanout)
	b.received = s.Counter(CounterBcastReceived)
	b.dup = s.Counter(CounterBcastDuplicated)
	b.reordered = s.Counter(CounterBcastOutOfOrder)
	b.unparsed = s.Counter(CounterBcastUnparsed)
	if bp.PublishElsewhere {
		b.bySeq = map[uint64]int64{}
		b.last = newLastArrival(b.keep)
	} else {
		b.lastH = s.Recorder(HistLastSubscriber)
		b.last = newLastArrival(func(_ uint64, us int64) { b.lastH.Record(us * 1000) })
	}

	if err := s.Connect(ctx, ConnectSpec{Count: p.Conns, Rate: p.Rate, Ramp: p.Ramp}); err != nil {
		return err
	}
	if err := s.Settle(ctx); err != nil {
		return err
	}
	b.publishing.Store(true)
	var published int64
	var derr error
	if bp.PublishElsewhere {
		s.SetPhase(PhaseSubscribed)
		published, derr = awaitPublished(ctx, s)
	} else {
		s.SetPhase("publishing")
		pub, err := newPublisher(p, bp, s.Recorder(HistPublish), s.Counter, func() int64 { return s.WallTime(s.Now()) })
		if err != nil {
			return err
		}
		published = pub.run(ctx, p.Duration).Published
		s.Counter(CounterBcastPublished).Store(published)
		derr = ctx.Err()
	}

	// Stragglers: wait until every open subscriber has every message, or
	// the close timeout passes.
	s.SetPhase("draining")
	s.Wait(context.Background(), p.CloseTimeout, func() bool {
		return b.distinctOpen.Load() >= published*s.Open()
	})
	b.tally(published)
	return derr
}

// tally stops counting deliveries and computes the final counts.
// lossTally sums what subscribers lacked or got wrong at the end of a
// run; any goroutine (each event loop) may count into it.
type lossTally struct {
	subs, lost, subsLost, subsDup, subsOOO atomic.Int64
}

// count adds one subscriber that had distinct of the published messages.
func (t *lossTally) count(published, distinct int64, dup, ooo bool) {
	t.subs.Add(1)
	if miss := published - distinct; miss > 0 {
		t.lost.Add(miss)
		t.subsLost.Add(1)
	}
	if dup {
		t.subsDup.Add(1)
	}
	if ooo {
		t.subsOOO.Add(1)
	}
}

func (b *Broadcast) tally(published int64) {
	s := b.s
	b.closed.Store(true)
	var t lossTally
	count := func(distinct int64, flags uint8) {
		t.count(published, distinct, flags&bcastDup != 0, flags&bcastOOO != 0)
	}
	// Each runs on every loop, so deliveries being handled when closed was
	// set have finished before the loop's subscribers are counted; after
	// it, no loop records anything.
	_ = s.Each(context.Background(), func(c *Conn, _ int64) {
		c.Flags |= bcastCounted
		count(c.Next, c.Flags)
	})
	b.mu.Lock()
	for _, g := range b.gone {
		count(g.distinct, g.flags)
	}
	b.mu.Unlock()
	b.last.flush()

	s.Counter(CounterBcastSubscribers).Store(t.subs.Load())
	s.Counter(CounterBcastExpected).Store(published * t.subs.Load())
	s.Counter(CounterBcastLost).Store(t.lost.Load())
	s.Counter(CounterBcastSubsLost).Store(t.subsLost.Load())
	s.Counter(CounterBcastSubsDuplicated).Store(t.subsDup.Load())
	s.Counter(CounterBcastSubsOutOfOrder).Store(t.subsOOO.Load())
	s.Counter(CounterBcastUntracked).Store(b.last.untracked.Load())

	if b.bySeq != nil {
		// Worker: hand the per-message maxima to the parent, who combines
		// them over all workers. -1 marks a message no subscriber here got.
		b.mu.Lock()
		by := make([]int64, max(published, 0))
		for i := range by {
			by[i] = -1
		}
		for seq, us := range b.bySeq {
			if seq < uint64(len(by)) {
				by[seq] = us
			}
		}
		b.mu.Unlock()
		if err := s.SetReportPart(b.Name(), bcastPart{LastBySeq: by}); err != nil {
			s.log.Warn("keeping the per-message maxima", zap.Error(err))
		}
	}
}

// keep is the worker's sink for final per-message maxima.
func (b *Broadcast) keep(seq uint64, us int64) {
	b.mu.Lock()
	b.bySeq[seq] = max(b.bySeq[seq], us)
	b.mu.Unlock()
}

// Upgraded implements ConnHandler.
func (*Broadcast) Upgraded(*Conn, int64) {}

// Tick implements ConnHandler.
func (*Broadcast) Tick(*Conn, int64) {}

// Message implements ConnHandler: one delivery to one subscriber.
func (b *Broadcast) Message(c *Conn, _ ws.OpCode, payload []byte, now int64) {
	if b.closed.Load() {
		return
	}
	seq, ts, ok := parseBroadcast(payload)
	if !ok {
		b.unparsed.Add(1)
		return
	}
	b.received.Add(1)
	if seq >= c.Expect {
		if shift := seq - c.Expect + 1; shift >= bcastWindow {
			c.Seq = 1
		} else {
			c.Seq = c.Seq<<shift | 1
		}
		c.Expect = seq + 1
	} else {
		d := c.Expect - 1 - seq
		if d < bcastWindow && c.Seq&(1<<d) != 0 {
			b.dup.Add(1)
			c.Flags |= bcastDup
			return
		}
		if d < bcastWindow {
			c.Seq |= 1 << d
		}
		b.reordered.Add(1)
		c.Flags |= bcastOOO
	}
	c.Next++
	b.distinctOpen.Add(1)
	lat := b.s.WallTime(now) - ts
	b.fanout.Record(lat)
	b.last.record(seq, (lat+500)/1000)
}

// Dropped implements ConnHandler: a subscriber lost while publishing keeps
// its count for the tally.
func (b *Broadcast) Dropped(c *Conn, _ string) {
	if !b.publishing.Load() || c.Flags&bcastCounted != 0 {
		return
	}
	c.Flags |= bcastCounted
	b.distinctOpen.Add(-c.Next)
	b.mu.Lock()
	b.gone = append(b.gone, goneSubscriber{distinct: c.Next, flags: c.Flags})
	b.mu.Unlock()
}
