package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/internal/history"
)

// UseHistory gives g a history store: from now on every published message
// is stored before it is delivered and carries its offset and epoch, and
// clients may recover with a cursor (see PROTOCOL.md). On a single node
// st is a *history.Local, whose AppendThen hands each message to the
// loops in offset order. On a cluster node (JoinCluster first) st is a
// *history.JetStream whose stream republishes onto the broker's topic
// subjects (JetStreamConfig.Republish): a publish appends to the stream,
// and every node delivers what the republish hands to Receive, with the
// stream's sequence as offset. Call it once, before the server serves,
// not concurrently with anything else on g. The caller closes st after
// the server has stopped.
func (g *Gateway) UseHistory(st history.Store) error {
	if g.hist != nil {
		return errors.New("gateway: history already set")
	}
	switch s := st.(type) {
	case *history.Local:
		if g.cluster != nil {
			return errors.New("gateway: a cluster node needs a shared (JetStream) history")
		}
		g.local = s
	case nil:
		return errors.New("gateway: nil history store")
	default:
		if g.cluster == nil {
			return errors.New("gateway: a shared history needs JoinCluster first")
		}
	}
	g.hist = st
	g.reads = make(chan struct{}, maxHistoryReads)
	return nil
}

// post hands m to every loop as part of j, which must count one share per
// loop for it; a loop without subscribers of m's topic does not build it.
// It returns the first refusal, like dispatch.
func (g *Gateway) post(j *job, m *lazyMessage) error {
	var first error
	run := func(sh *shard) int {
		if sh.topics[m.topic] == nil {
			return 0
		}
		return sh.deliverMessage(m.get(g))
	}
	for _, sh := range g.shards {
		if err := sh.enqueueRun(j, run); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// publishLocal stores each topic's message in the Local history and,
// under the topic's history lock, posts it to the loops (AppendThen), so
// that every loop receives one topic's messages in offset order even
// when publishers race. A message the history cannot take (larger than
// its whole budget) is delivered without a position. Any goroutine may
// call it, including an event loop: it does not wait.
func (g *Gateway) publishLocal(topics []string, compact []byte, done chan struct{}) (*job, error) {
	j := &job{done: done}
	j.pending.Store(int32(len(g.shards)*len(topics)) + 1)
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	now := time.Now()
	for _, t := range topics {
		_, err := g.local.AppendThen(t, compact, now, func(p history.Position) {
			keep(g.post(j, &lazyMessage{topic: t, data: compact, pos: p}))
		})
		if err != nil {
			keep(g.post(j, &lazyMessage{topic: t, data: compact}))
		}
	}
	j.finish(0)
	return j, first
}

// History returns up to limit messages of topic after since, whether
// they reach back to since, and the topic's position now; a since without
// epoch gets no messages, only the position (the cursor to read from
// later). Any goroutine may call it; it waits for the
// store (JetStream: a round trip).
func (g *Gateway) History(ctx context.Context, topic string, since history.Position, limit int) ([]history.Entry, bool, history.Position, error) {
	if g.hist == nil {
		return nil, false, history.Position{}, ErrNoHistory
	}
	if err := checkTopic(topic, g.cfg.MaxTopicLen); err != nil {
		return nil, false, history.Position{}, &PublishError{Reason: err.Error()}
	}
	if since.Epoch == "" {
		cur, err := g.hist.Position(ctx, topic)
		return nil, false, cur, err
	}
	return g.hist.Since(ctx, topic, since, limit)
}

// ErrNoHistory is returned by History on a gateway without a store.
var ErrNoHistory = errors.New("gateway: history is off")

// publishHistory appends one message per topic to the shared history; the
// stream republishes each onto the topic's broker subject, from where
// every node, this one included, delivers it (Receive) with its offset.
// It waits for each append's acknowledgement, bounded by FlushTimeout:
// not to be called on an event loop.
func (cl *clusterLink) publishHistory(g *Gateway, topics []string, compact []byte) (sendResult, error) {
	var res sendResult
	var first error
	for _, t := range topics {
		ctx, cancel := context.WithTimeout(context.Background(), cl.cfg.FlushTimeout)
		_, err := g.hist.Append(ctx, t, compact)
		cancel()
		if err != nil {
			res.unsent++
			cl.unsent.Add(1)
			if first == nil {
				first = err
			}
			continue
		}
		res.sent++
	}
	if first != nil {
		return res, errors.Join(ErrBrokerUnavailable, first)
	}
	return res, nil
}

// positionOf reads the history position of a message the JetStream
// stream republished: its sequence and the epoch its appender knew. A
// message without them (history off, or published around the stream)
// has none.
func (g *Gateway) positionOf(m broker.Message) history.Position {
	if g.hist == nil {
		return history.Position{}
	}
	off, ok := history.OffsetOf(m.Header)
	epoch := m.Header.Get(history.HeaderEpoch)
	if !ok || !validEpoch(epoch) {
		return history.Position{}
	}
	return history.Position{Offset: off, Epoch: epoch}
}
