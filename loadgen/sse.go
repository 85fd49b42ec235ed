package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sync/atomic"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
)

// SSE loads a gateway's Server-Sent Events endpoint: Plan.Conns clients
// each hold GET /sse?topics=... open on the client reactor (http:// targets,
// see ssestream.go), as a browser's EventSource does. In idle mode
// (SSEIdle, the default) they only hold the stream for Plan.Duration after
// settling, counting the server's heartbeat comments, with memory per
// connection sampled as for idle WebSockets. In broadcast mode
// (SSEBroadcast) the broadcast scenario runs over the streams: a publisher
// posts numbered, timestamped messages to the API and every client checks
// loss, duplicates and order and records fan-out and last-subscriber
// latency, exactly as a WebSocket subscriber would.
type SSE struct {
	SSEParams

	b atomic.Pointer[Broadcast] // broadcast mode, set before connecting
}

// SSEParams are the sse scenario's own parameters; they travel to worker
// processes as JSON. BroadcastParams apply in broadcast mode.
type SSEParams struct {
	// Mode is SSEIdle (or empty) or SSEBroadcast.
	Mode string `json:"mode,omitempty"`
	BroadcastParams
}

// Modes of the sse scenario.
const (
	SSEIdle      = "idle"
	SSEBroadcast = "broadcast"
)

// Name implements Scenario.
func (*SSE) Name() string { return "sse" }

// Check implements Scenario.
func (e *SSE) Check(p Plan) error {
	for _, raw := range p.Targets {
		t, err := parseTarget(raw)
		if err != nil {
			return err
		}
		if !t.sse {
			return fmt.Errorf("sse: target %q must be an http:// stream URL (SSEURL makes one)", raw)
		}
	}
	switch e.Mode {
	case "", SSEIdle:
		return nil
	case SSEBroadcast:
		return (&Broadcast{BroadcastParams: e.BroadcastParams}).Check(p)
	}
	return fmt.Errorf("sse: --mode must be %s or %s, not %q", SSEIdle, SSEBroadcast, e.Mode)
}

// SSEURL returns the stream URL an sse client requests for raw, a ws:// or
// http:// URL of the server: http:// with path /sse unless raw has another
// path than "/" or "/ws", and topics=topic added unless the query names
// topics.
func SSEURL(raw, topic string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("target %q: %w", raw, err)
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "http"
	default:
		return "", fmt.Errorf("target %q: scheme must be ws:// or http://", raw)
	}
	if u.Path == "" || u.Path == "/" || u.Path == "/ws" {
		u.Path = "/sse"
	}
	q := u.Query()
	if !q.Has("topics") {
		q.Set("topics", topic)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// Drive implements Scenario.
func (e *SSE) Drive(ctx context.Context, s *Session) error {
	if e.Mode == SSEBroadcast {
		b := &Broadcast{BroadcastParams: e.BroadcastParams}
		e.b.Store(b)
		return b.Drive(ctx, s)
	}
	return new(Idle).Drive(ctx, s)
}

// Coordinate implements Coordinated: in broadcast mode over several
// processes the parent publishes, as for broadcast; idle mode has no part
// in the parent.
func (e *SSE) Coordinate(p Plan, log *zap.Logger) (Coordinator, error) {
	if e.Mode != SSEBroadcast {
		return nil, nil
	}
	b := &Broadcast{BroadcastParams: e.BroadcastParams}
	co, err := b.Coordinate(p, log)
	if err != nil {
		return nil, err
	}
	e.BroadcastParams = b.BroadcastParams
	return co, nil
}

// Summarize implements Summarizer: the broadcast part of a broadcast-mode
// run, and the heartbeats of either.
func (*SSE) Summarize(w io.Writer, r *Report) {
	(*Broadcast)(nil).Summarize(w, r)
	if n, ok := r.Counters[CounterSSEHeartbeats]; ok {
		fmt.Fprintf(w, "\nsse\n  heartbeats %d, named events %d\n", n, r.Counters[CounterSSENamedEvents])
	}
}

// Upgraded implements ConnHandler.
func (*SSE) Upgraded(*Conn, int64) {}

// Tick implements ConnHandler.
func (*SSE) Tick(*Conn, int64) {}

// Message implements ConnHandler: in broadcast mode one delivery.
func (e *SSE) Message(c *Conn, op ws.OpCode, payload []byte, now int64) {
	if b := e.b.Load(); b != nil {
		b.Message(c, op, payload, now)
	}
}

// Dropped implements ConnHandler.
func (e *SSE) Dropped(c *Conn, cause string) {
	if b := e.b.Load(); b != nil {
		b.Dropped(c, cause)
	}
}
