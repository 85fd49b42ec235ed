package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"
)

// errReconnectProcs refuses a reconnect run over worker processes: each
// would run its own publisher on the topic, and the counts would mean
// nothing.
var errReconnectProcs = errors.New("reconnect runs in one process: drop --procs (one process holds tens of thousands of subscribers)")

// Coordinate implements Coordinated only to refuse worker processes.
func (*Reconnect) Coordinate(Plan, *zap.Logger) (Coordinator, error) {
	return nil, errReconnectProcs
}

// tally stops counting deliveries and computes the final counts: per
// subscriber, the published messages it lacks (lost) and whether it saw
// duplicates; for the wave, the time from the first drop to the last
// "subscribed" answer.
func (r *Reconnect) tally(published int64) {
	s := r.s
	r.closed.Store(true)
	var t lossTally
	count := func(distinct int64, flags uint8) {
		t.count(published, distinct, flags&rcDup != 0, false)
	}
	// As for broadcast, Each runs on every loop after closed was set, so
	// no delivery is being counted while the loop's subscribers are.
	_ = s.Each(context.Background(), func(c *Conn, _ int64) {
		c.Flags |= rcCounted
		count(c.Next, c.Flags)
	})
	r.mu.Lock()
	for _, g := range r.gone {
		count(g.distinct, g.flags)
	}
	r.mu.Unlock()
	// A dropped subscriber whose reconnection failed is neither open nor
	// gone: it lost everything it did not have when it dropped.
	if missing := r.dropped.Load() - r.back.Load(); missing > 0 {
		t.subs.Add(missing)
		t.subsLost.Add(missing)
	}

	s.Counter(CounterRcSubscribers).Store(t.subs.Load())
	s.Counter(CounterRcLost).Store(t.lost.Load())
	s.Counter(CounterRcSubsLost).Store(t.subsLost.Load())
	s.Counter(CounterRcSubsDup).Store(t.subsDup.Load())
	if t0, t1 := r.t0.Load(), r.tBack.Load(); t0 > 0 && t1 >= t0 {
		s.Counter(CounterRcAllBackMs).Store((t1 - t0) / int64(time.Millisecond))
	}
}

// Summarize implements Summarizer: a reconnect run in words.
func (*Reconnect) Summarize(w io.Writer, r *Report) {
	c := r.Counters
	if _, ok := c[CounterRcPublished]; !ok {
		return
	}
	fmt.Fprintf(w, "\nreconnect\n")
	fmt.Fprintf(w, "  published %d messages to %d subscribers; the wave dropped %d, %d back within %d ms of the first drop\n",
		c[CounterRcPublished], c[CounterRcSubscribers], c[CounterRcDropped], c[CounterRcBack], c[CounterRcAllBackMs])
	fmt.Fprintf(w, "  recovered %d messages, %d answers recovered:false; lost %d (%d subscribers, %d offset gaps), duplicated %d (%d subscribers)\n",
		c[CounterRcRecovered], c[CounterRcNotRecovered], c[CounterRcLost], c[CounterRcSubsLost], c[CounterRcGaps],
		c[CounterRcDuplicated], c[CounterRcSubsDup])
}
