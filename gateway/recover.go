package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server"
)

// recoverPage is how many messages one history read asks for; a recovery
// reads page after page until one comes back short.
const recoverPage = 1000

// maxHistoryReads bounds the recoveries reading the history store at
// once, so that a wave of reconnecting clients queues in the gateway
// instead of sending the store (JetStream: the broker) thousands of
// requests at the same moment.
const maxHistoryReads = 64

// maxRecoverBuffer bounds the live messages a subscription buffers while
// its history is read; past it the recovery fails (recovered: false) and
// the subscriber goes on from where the live messages are.
const maxRecoverBuffer = 4096

// catchup is one subscription's recovery state, kept as its value in
// topicSubs.subs while there is some (nil otherwise, the common case). It
// follows the package history recipe: live messages are buffered while
// the history is read on another goroutine, then history.Catchup joins
// the two, and until the first new live message has passed, live
// messages already delivered from the history are skipped. Loop-only.
type catchup struct {
	since   history.Position
	reading bool       // the history read is running: buffer live messages
	buf     []*message // live messages that arrived while reading
	over    bool       // buf overflowed
	cu      *history.Catchup
	epoch   string // the epoch cu counts in
}

// topicResult is what a recovery found for one topic.
type topicResult struct {
	topic     string
	asked     bool             // the client gave a cursor
	recovered bool             // ...and everything after it was delivered
	out       []*message       // history after the cursor, then buffered live messages
	next      history.Position // the subscriber's position after out
}

// readHistory reads everything after since, page by page.
func readHistory(ctx context.Context, st history.Store, topic string, since history.Position) ([]history.Entry, bool, history.Position, error) {
	var all []history.Entry
	for {
		msgs, ok, cur, err := st.Since(ctx, topic, since, recoverPage)
		if err != nil || !ok {
			return nil, false, cur, err
		}
		all = append(all, msgs...)
		if len(msgs) < recoverPage {
			return all, true, cur, nil
		}
		since.Offset = msgs[len(msgs)-1].Offset
	}
}

// subscribeFrom subscribes c to topics and recovers those with a cursor in
// since (all of them when all is set: streams learn every topic's
// position); done runs on the loop with one result per topic once the
// history reads are over, or at once when there are none. Without a
// history store a cursor cannot be honoured: its topic is reported not
// recovered. Loop-only.
func (sh *shard) subscribeFrom(c *server.Conn, s *session, topics []string, since map[string]history.Position, done func([]topicResult)) {
	res := make([]topicResult, len(topics))
	var reads []int
	var states []*catchup
	for i, t := range topics {
		p, asked := since[t]
		res[i] = topicResult{topic: t, asked: asked}
		fresh := !sh.isSubscribed(c, t)
		sh.subscribe(c, s, t)
		if !asked || !fresh || sh.g.hist == nil {
			continue
		}
		cs := &catchup{since: p, reading: true}
		sh.topics[t].subs[c] = cs
		reads = append(reads, i)
		states = append(states, cs)
	}
	if len(reads) == 0 {
		done(res)
		return
	}
	st, slots := sh.g.hist, sh.g.reads
	go func() {
		slots <- struct{}{} // a reconnect wave queues here, not at the store
		defer func() { <-slots }()
		type read struct {
			msgs []history.Entry
			ok   bool
			cur  history.Position
		}
		got := make([]read, len(reads))
		for k, i := range reads {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			// On a cluster node the topic's interest must reach the
			// broker client before the history read does: the read
			// travels on the same connection, so the broker then sends
			// every message after the history's end live, with none in
			// between. Failing that, the read is not tried.
			if err := sh.g.awaitInterest(ctx, topics[i]); err == nil {
				r := &got[k]
				r.msgs, r.ok, r.cur, err = readHistory(ctx, st, topics[i], since[topics[i]])
				r.ok = r.ok && err == nil
			}
			cancel()
		}
		sh.postPatiently(func() {
			for k, i := range reads {
				res[i] = sh.finishCatchup(c, states[k], res[i], got[k].msgs, got[k].ok, got[k].cur)
			}
			if sh.conns[c] != nil { // not closed meanwhile
				done(res)
			}
		})
	}()
}

// finishCatchup joins a topic's history with the live messages buffered
// meanwhile. A subscription that went away during the read is left
// alone. Loop-only.
func (sh *shard) finishCatchup(c *server.Conn, cs *catchup, r topicResult, msgs []history.Entry, ok bool, cur history.Position) topicResult {
	ts := sh.topics[r.topic]
	if ts == nil {
		return r
	}
	if now, there := ts.subs[c]; !there || now != cs || !cs.reading {
		return r // unsubscribed (and maybe subscribed again) meanwhile
	}
	base := cs.since
	if !ok || cs.over {
		ok = false
		base = cur
	}
	cs.cu = history.NewCatchup(base.Offset)
	cs.epoch = base.Epoch
	for _, m := range cs.buf {
		if m.pos.Epoch == base.Epoch {
			cs.cu.Buffer(history.Entry{Offset: m.pos.Offset, Payload: m.data})
		}
	}
	if !ok {
		msgs = nil
	}
	for _, e := range cs.cu.Finish(msgs) {
		r.out = append(r.out, newMessage(r.topic, e.Payload, history.Position{Offset: e.Offset, Epoch: base.Epoch}))
	}
	cs.reading, cs.buf = false, nil
	r.recovered = ok
	r.next = history.Position{Offset: cs.cu.Last(), Epoch: base.Epoch}
	return r
}

// admit decides whether a live message goes to a subscriber that is
// recovering: buffered while its history is read, skipped when the
// history already delivered it, passed otherwise, and the recovery state
// is dropped at the first message that passes. Loop-only.
func (sh *shard) admit(c *server.Conn, ts *topicSubs, cs *catchup, m *message) bool {
	if cs.reading {
		if len(cs.buf) >= maxRecoverBuffer {
			cs.over = true
			return false
		}
		cs.buf = append(cs.buf, m)
		return false
	}
	if m.pos.Epoch == cs.epoch && !cs.cu.Pass(history.Entry{Offset: m.pos.Offset}) {
		return false
	}
	ts.subs[c] = nil
	return true
}

// postPatiently posts fn to the shard's loop, waiting out a full queue: a
// recovery's result must reach its loop, or the subscription would buffer
// forever. It gives up only when the server stops. Not for a loop.
func (sh *shard) postPatiently(fn func()) {
	for {
		err := sh.l.Post(fn)
		if !errors.Is(err, server.ErrBusy) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
