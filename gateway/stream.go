package gateway

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server"
)

// streamState is the gateway state of an SSE or long-poll connection,
// kept in its session. Loop-only.
type streamState struct {
	poll   bool
	topics []string                    // as the request listed them
	pos    map[string]history.Position // last position delivered (or given) per topic
	origin string                      // the request's Origin, echoed for CORS
}

// sseHeartbeat is the comment the server writes after PingInterval of
// silence on an SSE stream.
var sseHeartbeat = []byte(":\n\n")

// Streams returns the gateway's held-open HTTP endpoints, to put in
// server.Config.Streams beside its WebSocket route: "/sse" (Server-Sent
// Events) and "/poll" (long polling). Both take the same ?topics=,
// ?since.<topic>= and ?token= as the WebSocket upgrade and pass the same
// Origin rules. Any goroutine may call it.
func (g *Gateway) Streams() map[string]server.Stream {
	return map[string]server.Stream{
		"/sse":  {Handler: sseHandler{g}, Heartbeat: sseHeartbeat},
		"/poll": {Handler: pollHandler{g}},
	}
}

// openStream checks a stream request and gives c a session with its
// stream state. Loop-only.
func (g *Gateway) openStream(c *server.Conn, r *server.UpgradeRequest, poll bool) (*shard, *session, *opening, error) {
	o, err := g.authorizeQuery(c, r)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(o.topics) == 0 {
		return nil, nil, nil, &server.StatusError{Status: http.StatusBadRequest, Reason: "missing ?topics="}
	}
	if id := r.Header("Last-Event-ID"); id != "" && !poll {
		if o.since, err = sinceFromEventID(id, o.topics); err != nil {
			return nil, nil, nil, &server.StatusError{Status: http.StatusBadRequest, Reason: err.Error()}
		}
	}
	sh := g.shardFor(c)
	s := sh.session(c, true)
	s.grant = o.grant
	s.stream = &streamState{poll: poll, topics: o.topics, pos: make(map[string]history.Position, len(o.topics)), origin: r.Origin()}
	for t, p := range o.since {
		s.stream.pos[t] = p
	}
	return sh, s, o, nil
}

// appendHead appends a 200 head; Content-Length when n >= 0.
func appendHead(b []byte, st *streamState, contentType string, n int) []byte {
	b = append(b, "HTTP/1.1 200 OK\r\nContent-Type: "...)
	b = append(b, contentType...)
	b = append(b, "\r\nCache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n"...)
	if n >= 0 {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, "\r\n"...)
	}
	if st.origin != "" && headerSafe(st.origin) {
		// The server let this Origin through; say so to the browser.
		b = append(b, "Access-Control-Allow-Origin: "...)
		b = append(b, st.origin...)
		b = append(b, "\r\nVary: Origin\r\n"...)
	}
	return append(b, "\r\n"...)
}

// headerSafe reports whether v can be echoed as a header value.
func headerSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] == 0x7f {
			return false
		}
	}
	return true
}

// sendStream writes m to a stream connection: an SSE event, or the
// answer of a held long poll. Loop-only.
func (sh *shard) sendStream(c *server.Conn, m *message) bool {
	s := sh.conns[c]
	if s == nil || s.stream == nil {
		return false
	}
	if s.stream.poll {
		return sh.answerPoll(c, s.stream, []*message{m}, nil)
	}
	return sh.sendEvent(c, s.stream, m)
}

// closeStream forgets a stream connection. Loop-only.
func (g *Gateway) closeStream(c *server.Conn) {
	if sh := g.shardFor(c); sh != nil {
		delete(sh.polls, c)
		sh.drop(c)
	}
}

// policy is the server's slow policy for the gateway's.
func (g *Gateway) policy() server.SlowPolicy {
	if g.cfg.SlowPolicy == SlowDrop {
		return server.SlowDrop
	}
	return server.SlowClose
}

// sortedTopics returns the topics of pos in the stream's order.
func (st *streamState) positioned() []string {
	out := make([]string, 0, len(st.pos))
	for _, t := range st.topics {
		if p, ok := st.pos[t]; ok && p.Epoch != "" {
			out = append(out, t)
		}
	}
	return slices.Clip(out)
}
