package gateway

import (
	"time"

	"github.com/myriadws/myriad/server"
)

// pollHandler serves GET /poll: long polling. The answer comes at once
// when there is something newer than the request's cursors (or a cursor
// cannot be honoured), otherwise with the first message to arrive, or
// empty after Config.PollTimeout. It is one JSON object (PROTOCOL.md):
// the messages, "next" (the cursors to poll with next) and, when the
// request gave cursors, "recovered".
type pollHandler struct{ g *Gateway }

// OpenStream implements server.StreamHandler. Loop-only.
func (h pollHandler) OpenStream(c *server.Conn, r *server.UpgradeRequest) error {
	g := h.g
	sh, s, o, err := g.openStream(c, r, true)
	if err != nil {
		return err
	}
	st := s.stream
	sh.subscribeFrom(c, s, o.topics, o.since, func(res []topicResult) {
		var out []*message
		var recovered *bool
		for _, tr := range res {
			out = append(out, tr.out...)
			if tr.asked {
				if recovered == nil {
					recovered = new(bool)
					*recovered = true
				}
				*recovered = *recovered && tr.recovered
				if !tr.recovered {
					st.pos[tr.topic] = tr.next
				}
			}
		}
		if len(out) > maxPollMessages {
			out = out[:maxPollMessages] // the rest on the next poll, from "next"
		}
		if len(out) > 0 || (recovered != nil && !*recovered) {
			sh.answerPoll(c, st, out, recovered)
			return
		}
		if c.Streaming() {
			sh.polls[c] = time.Now().Add(g.cfg.PollTimeout).UnixMilli()
			sh.pollCount.Store(int64(len(sh.polls)))
		}
	})
	return nil
}

// OnClose implements server.StreamHandler. Loop-only.
func (h pollHandler) OnClose(c *server.Conn, _ server.CloseInfo) {
	h.g.closeStream(c)
	if sh := h.g.shardFor(c); sh != nil {
		sh.pollCount.Store(int64(len(sh.polls)))
	}
}

// answerPoll writes a long poll's whole answer and ends the response.
// Loop-only.
func (sh *shard) answerPoll(c *server.Conn, st *streamState, msgs []*message, recovered *bool) bool {
	body := append(sh.body[:0], `{"messages":[`...)
	for i, m := range msgs {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, m.json()...)
		if m.pos.Epoch != "" {
			st.pos[m.topic] = m.pos
		}
	}
	body = append(body, `],"next":{`...)
	for i, t := range st.positioned() {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, '"')
		body = append(body, t...)
		body = append(body, `":"`...)
		body = appendCursor(body, st.pos[t])
		body = append(body, '"')
	}
	body = append(body, '}')
	if recovered != nil {
		if *recovered {
			body = append(body, `,"recovered":true`...)
		} else {
			body = append(body, `,"recovered":false`...)
		}
	}
	body = append(body, "}\n"...)
	sh.body = body
	sh.scratch = appendHead(sh.scratch[:0], st, "application/json", len(body))
	sh.scratch = append(sh.scratch, body...)
	// An answer is one write that ends the response: it bypasses the
	// drop policy, since a dropped answer would be a poll that never
	// answers.
	err := c.SendRaw(sh.scratch, server.SlowClose)
	delete(sh.polls, c)
	c.EndStream()
	if cap(sh.body) > maxKeptScratch {
		sh.body, sh.scratch = nil, nil // a big answer's buffers are not kept
	}
	return sh.countSend(err)
}

// maxPollMessages bounds one long-poll answer; a client behind by more
// gets the rest on its next poll.
const maxPollMessages = 1000

// maxKeptScratch is the largest answer buffer a shard keeps for reuse.
const maxKeptScratch = 64 << 10

// sweepPolls answers empty every held poll of this loop whose timeout has
// passed. Loop-only.
func (sh *shard) sweepPolls(now int64) {
	for c, deadline := range sh.polls {
		if now < deadline {
			continue
		}
		if s := sh.conns[c]; s != nil && s.stream != nil {
			sh.answerPoll(c, s.stream, nil, nil)
		} else {
			delete(sh.polls, c)
		}
	}
	sh.pollCount.Store(int64(len(sh.polls)))
}

// pollSweepEvery is how often held polls are checked for their timeout.
const pollSweepEvery = 250 * time.Millisecond

// runPollSweeper asks each loop that holds polls to answer those whose
// timeout has passed, until the server stops. Loops with none are not
// disturbed.
func (g *Gateway) runPollSweeper(done <-chan struct{}) {
	t := time.NewTicker(pollSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			ms := now.UnixMilli()
			for _, sh := range g.shards {
				if sh.pollCount.Load() > 0 {
					_ = sh.l.Post(func() { sh.sweepPolls(ms) })
				}
			}
		}
	}
}
