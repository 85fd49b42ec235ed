package loadgen

import (
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
)

// An http:// target is a Server-Sent Events stream: the connection sends a
// plain GET, expects a 200 whose Content-Type is text/event-stream, and
// from then on reads the body as events instead of frames. The body is
// parsed in place from gnet's buffer as bytes arrive; only complete events
// (up to their blank line) are consumed, so a partial event waits for the
// rest without any per-connection state.
//
// Each event with data and no "event:" name (or the name "message") is a
// data message for ConnHandler.Message, its data lines joined with '\n'.
// An event with another name goes to EventHandler.Event when the scenario
// implements it, and is otherwise only counted. Comment lines (":...") are
// the server's heartbeats and are counted. The response must be
// Connection: close style (no chunked encoding), as an event stream is.

// EventHandler is implemented by a ConnHandler that wants an SSE stream's
// named events (such as a gateway's "recovery"). It runs on the
// connection's event loop; name and data are valid only during the call.
type EventHandler interface {
	Event(c *Conn, name, data []byte, now int64)
}

// Counter names of SSE streams.
const (
	CounterSSEHeartbeats  = "sse_heartbeats"   // comment lines received
	CounterSSENamedEvents = "sse_named_events" // events with an event: name other than message
)

// errStreamHead is a 200 to an SSE GET that is not an event stream.
var errStreamHead = errors.New("response is not text/event-stream")

// maxStreamHead bounds the response head of an SSE GET.
const maxStreamHead = 8 << 10

// parseStreamHead parses the HTTP response head at the start of b: its
// length and status. It returns io.ErrShortBuffer while the head is
// incomplete. A 200 must say Content-Type: text/event-stream; another
// status is returned with a nil error for the caller to classify.
func parseStreamHead(b []byte) (n, status int, err error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > maxStreamHead {
			return 0, 0, errResponseTooLong
		}
		return 0, 0, io.ErrShortBuffer
	}
	head := b[:end+2]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if !bytes.HasPrefix(line, []byte("HTTP/1.")) || len(line) < 12 || line[8] != ' ' {
		return 0, 0, errBadStatusLine
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, errBadStatusLine
	}
	if status != 200 {
		return end + 4, status, nil
	}
	for len(rest) > 0 {
		var field []byte
		field, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(field, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Type")) &&
			bytes.HasPrefix(bytes.ToLower(bytes.TrimSpace(value)), []byte("text/event-stream")) {
			return end + 4, status, nil
		}
	}
	return 0, 0, errStreamHead
}

// streamHandshake is handshake for an SSE target.
func (h *handler) streamHandshake(c *Conn, now int64) (act gnet.Action, done bool) {
	buf, _ := c.gc.Peek(-1)
	n, status, err := parseStreamHead(buf)
	return h.answered(c, n, status, 200, err, now)
}

// events handles every complete event buffered for c, then discards what it
// consumed in one step. A pending event longer than Plan.MaxMessage closes
// the connection as a protocol error.
func (h *handler) events(c *Conn, now int64) gnet.Action {
	buf, _ := c.gc.Peek(-1)
	off := 0
	for off < len(buf) && c.phase == phaseOpen {
		n, ok := h.event(c, buf[off:], now)
		if !ok {
			break
		}
		off += n
	}
	if c.phase == phaseClosed {
		return gnet.None
	}
	if off > 0 {
		_, _ = c.gc.Discard(off)
	}
	if len(buf)-off > h.s.plan.MaxMessage+maxStreamHead {
		c.cause = codeProtocol
		return gnet.Close
	}
	return gnet.None
}

// event parses the event at the start of b, if it is complete (ends with a
// blank line), dispatches it, and returns its length.
func (h *handler) event(c *Conn, b []byte, now int64) (int, bool) {
	s := h.s
	var name, data []byte
	lines, comments := 0, int64(0)
	joined := false
	for off := 0; ; {
		nl := bytes.IndexByte(b[off:], '\n')
		if nl < 0 {
			return 0, false
		}
		line := bytes.TrimSuffix(b[off:off+nl], []byte("\r"))
		off += nl + 1
		if len(line) == 0 {
			if comments > 0 {
				s.sseBeats.Add(comments)
			}
			if lines > 0 {
				h.dispatch(c, name, data, now)
			}
			return off, true
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "":
			comments++
		case "event":
			name = value
		case "data":
			switch {
			case lines == 0:
				data = value
			case !joined:
				// A second data line: join them in a copy (rare; the
				// gateway writes one line per event).
				data = append(append(append([]byte(nil), data...), '\n'), value...)
				joined = true
			default:
				data = append(append(data, '\n'), value...)
			}
			lines++
		}
	}
}

// dispatch hands one event to the scenario.
func (h *handler) dispatch(c *Conn, name, data []byte, now int64) {
	if len(name) == 0 || string(name) == "message" {
		h.message(c, ws.OpText, data, now)
		return
	}
	h.s.sseNamed.Add(1)
	if eh, ok := h.s.hooks.(EventHandler); ok {
		eh.Event(c, name, data, now)
	}
}
