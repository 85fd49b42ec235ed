package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// bcastPart is a broadcast worker's part of its report (Report.Parts):
// its largest fan-out latency of each message over its own subscribers, in
// microseconds by sequence number (-1: none received). The parent takes
// the largest over all workers to build the last_subscriber histogram.
type bcastPart struct {
	LastBySeq []int64 `json:"last_subscriber_by_seq_us"`
}

// bcastControl is the parent's word to its broadcast workers once it has
// finished publishing.
type bcastControl struct {
	Published *int64 `json:"published,omitempty"`
}

// Coordinate implements Coordinated: over several processes the parent
// publishes, once, and the workers only subscribe; they learn how many
// messages to expect when it is done.
func (b *Broadcast) Coordinate(p Plan, log *zap.Logger) (Coordinator, error) {
	bp := b.BroadcastParams.withDefaults()
	c := &bcastCoordinator{
		p:    p.withDefaults(),
		log:  log,
		pm:   newMetrics(0),
		ctl:  make(chan any, 1),
		done: make(chan struct{}),
	}
	var err error
	c.pub, err = newPublisher(c.p, bp, c.pm.recorder(HistPublish), c.pm.counter, func() int64 { return time.Now().UnixNano() })
	if err != nil {
		return nil, err
	}
	b.PublishElsewhere = true
	b.APIKey = "" // the workers never post
	return c, nil
}

// bcastCoordinator is broadcast's part in a RunProcs parent: it starts the
// publisher once every worker has its subscribers in place, and tells the
// workers how many messages it published.
type bcastCoordinator struct {
	p   Plan
	log *zap.Logger
	pm  *metrics
	pub *publisher

	started    bool
	cancel     context.CancelFunc
	publishing atomic.Bool
	res        publishResult // written by the publishing goroutine before done closes
	ctl        chan any
	done       chan struct{}
}

// Observe implements Coordinator.
func (c *bcastCoordinator) Observe(ctx context.Context, workers []WorkerState) {
	if c.started || ctx.Err() != nil {
		return
	}
	for _, w := range workers {
		switch {
		case w.Exited:
		case !w.Reported:
			return
		case w.Progress.Phase != PhaseSubscribed && phaseRank(w.Progress.Phase) < phaseRank("closing"):
			return
		}
	}
	c.started = true
	c.publishing.Store(true)
	ctx, c.cancel = context.WithCancel(ctx)
	go func() {
		defer close(c.done)
		c.res = c.pub.run(ctx, c.p.Duration)
		c.publishing.Store(false)
		c.ctl <- bcastControl{Published: &c.res.Published}
	}()
}

// Phase implements Coordinator.
func (c *bcastCoordinator) Phase() string {
	if c.publishing.Load() {
		return "publishing"
	}
	return ""
}

// Control implements Coordinator.
func (c *bcastCoordinator) Control() <-chan any { return c.ctl }

// Finish implements Coordinator: it adds the publisher's counters and
// histogram, the number of messages published, and the last_subscriber
// histogram built from the largest per-message latency over all workers.
func (c *bcastCoordinator) Finish(rep *Report, workers []*Report) {
	if c.started {
		// Every worker may have ended while the publisher was at it.
		c.cancel()
		<-c.done
	}
	for k, v := range c.pm.counters(0) {
		if strings.HasPrefix(k, "publish_") {
			if isMaxCounter(k) {
				rep.Counters[k] = max(rep.Counters[k], v)
			} else {
				rep.Counters[k] += v
			}
		}
	}
	for name, h := range c.pm.histograms() {
		if rep.Latency[name] == nil {
			rep.Latency[name] = NewHistogram()
		}
		rep.Latency[name].Merge(h)
	}
	rep.Counters[CounterBcastPublished] = c.res.Published
	last := make([]int64, c.res.Published)
	for i := range last {
		last[i] = -1
	}
	for _, w := range workers {
		var part bcastPart
		if _, err := w.ReportPart("broadcast", &part); err != nil {
			c.log.Warn("a worker's broadcast report part is unreadable", zap.Error(err))
		}
		for i, us := range part.LastBySeq {
			if i < len(last) {
				last[i] = max(last[i], us)
			}
		}
	}
	h := NewHistogram()
	for _, us := range last {
		if us >= 0 {
			h.RecordMicros(us)
		}
	}
	rep.Latency[HistLastSubscriber] = h
}

// awaitPublished waits for the parent's word on how many messages it
// published. Only workers with PublishElsewhere get one.
func awaitPublished(ctx context.Context, s *Session) (int64, error) {
	ctl := s.Control()
	if ctl == nil {
		return 0, errors.New("broadcast: this process was told another publishes, but nobody reports to it")
	}
	for {
		select {
		case raw, ok := <-ctl:
			if !ok {
				return 0, errors.New("broadcast: the parent stopped before saying how many messages it published")
			}
			var m bcastControl
			if err := json.Unmarshal(raw, &m); err == nil && m.Published != nil {
				return *m.Published, nil
			}
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Summarize implements Summarizer: a broadcast run in words, from its
// counters.
func (*Broadcast) Summarize(w io.Writer, r *Report) {
	c := r.Counters
	if _, ok := c[CounterBcastPublished]; !ok {
		return
	}
	fmt.Fprintf(w, "\nbroadcast\n")
	api := fmt.Sprintf("API delivered %d", c[CounterPublishDelivered])
	if c[CounterPublishCluster] > 0 {
		// A cluster node answers "accepted", not a count: each node
		// counts its own deliveries in /stats.
		api = fmt.Sprintf("API accepted %d in a cluster", c[CounterPublishCluster])
	}
	fmt.Fprintf(w, "  published %d messages (%d skipped, %d failed) to %d subscribers: expected %d, %s, received %d\n",
		c[CounterBcastPublished], c[CounterPublishSkipped], c[CounterPublishErrors], c[CounterBcastSubscribers],
		c[CounterBcastExpected], api, c[CounterBcastReceived])
	fmt.Fprintf(w, "  lost %d (%d subscribers), duplicated %d (%d), out of order %d (%d)\n",
		c[CounterBcastLost], c[CounterBcastSubsLost], c[CounterBcastDuplicated], c[CounterBcastSubsDuplicated],
		c[CounterBcastOutOfOrder], c[CounterBcastSubsOutOfOrder])
}
