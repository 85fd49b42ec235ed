package gateway

import (
	"errors"

	"github.com/myriadws/myriad/server"
)

// sseHandler serves GET /sse: a Server-Sent Events stream of the topics'
// messages, each an event whose data is the message's JSON object (as on
// the WebSocket) and whose id is its cursor (see cursor.go), so a
// browser's EventSource resumes with Last-Event-ID through the recovery
// path. A resume that cannot be honoured is told by an event
// "recovery" with data {"topic":..,"recovered":false}.
type sseHandler struct{ g *Gateway }

// OpenStream implements server.StreamHandler. Loop-only.
func (h sseHandler) OpenStream(c *server.Conn, r *server.UpgradeRequest) error {
	g := h.g
	sh, s, o, err := g.openStream(c, r, false)
	if err != nil {
		return err
	}
	sh.scratch = appendHead(sh.scratch[:0], s.stream, "text/event-stream; charset=utf-8", -1)
	sh.scratch = append(sh.scratch, "retry: 2000\n\n"...)
	if err := c.SendRaw(sh.scratch, server.SlowClose); err != nil {
		sh.drop(c)
		return errors.Join(err, errNotReady)
	}
	st := s.stream
	sh.subscribeFrom(c, s, o.topics, o.since, func(res []topicResult) {
		for _, tr := range res {
			if tr.asked {
				sh.scratch = append(sh.scratch[:0], "event: recovery\ndata: {\"topic\":\""...)
				sh.scratch = append(sh.scratch, tr.topic...)
				if tr.recovered {
					sh.scratch = append(sh.scratch, "\",\"recovered\":true}\n\n"...)
				} else {
					sh.scratch = append(sh.scratch, "\",\"recovered\":false}\n\n"...)
				}
				_ = c.SendRaw(sh.scratch, g.policy())
			}
			for _, m := range tr.out {
				sh.sendEvent(c, st, m)
			}
		}
	})
	return nil
}

// OnClose implements server.StreamHandler. Loop-only.
func (h sseHandler) OnClose(c *server.Conn, _ server.CloseInfo) { h.g.closeStream(c) }

// sendEvent writes m as one event. Loop-only.
func (sh *shard) sendEvent(c *server.Conn, st *streamState, m *message) bool {
	b := sh.scratch[:0]
	if m.pos.Epoch != "" {
		st.pos[m.topic] = m.pos
		b = append(b, "id: "...)
		if len(st.topics) == 1 {
			b = appendCursor(b, m.pos)
		} else {
			for i, t := range st.positioned() {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, t...)
				b = append(b, '=')
				b = appendCursor(b, st.pos[t])
			}
		}
		b = append(b, '\n')
	}
	b = append(b, "data: "...)
	b = append(b, m.json()...)
	b = append(b, "\n\n"...)
	sh.scratch = b
	return sh.countSend(c.SendRaw(b, sh.g.policy()))
}

// countSend counts what the slow policy did with a stream write.
func (sh *shard) countSend(err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, server.ErrDropped):
		sh.stats.dropped.Add(1)
	case errors.Is(err, server.ErrSlowConsumer):
		sh.stats.slowClosed.Add(1)
	}
	return false
}
