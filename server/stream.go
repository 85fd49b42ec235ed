package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/panjf2000/gnet/v2"

	"github.com/myriadws/myriad/handshake"
)

// Stream is a held-open HTTP response served by the event loop for a
// plain GET of its path (Config.Streams): Server-Sent Events, a long
// poll. The request passes the same Origin and drain checks as an
// upgrade (and counts against MaxConns like any connection); then the Handler's OpenStream writes the response
// head with Conn.SendRaw, and the connection stays open in a stream state
// where the application writes raw bytes whenever it has some, under the
// same MaxOutbound bound and slow-consumer policies as WebSocket frames.
// No goroutine, buffer or timer is held per stream beyond the Conn and
// its wheel slot.
type Stream struct {
	// Handler opens and follows the streams of this path. Required.
	Handler StreamHandler
	// Heartbeat, when set, is written after every PingInterval without
	// output (for SSE, a comment line such as ":\n\n"), so proxies keep
	// the response open and a vanished client is found by the write.
	// Nil: nothing is written but what the application sends.
	Heartbeat []byte
}

// StreamHandler is an application mounted on a stream path. Its methods
// run on the connection's event loop and must not block.
type StreamHandler interface {
	// OpenStream runs for each GET of the path. It writes the response
	// head (status line and headers, ending with a blank line) and
	// anything to send at once with c.SendRaw, and may end the response
	// at once with c.EndStream. An error refuses the request as an
	// Authorizer's error does (a *StatusError chooses the status); the
	// handler must then have written nothing. r is valid only during the
	// call.
	OpenStream(c *Conn, r *UpgradeRequest) error
	// OnClose runs once when a stream that OpenStream accepted is gone:
	// the client closed it, a write failed, the server drained, or the
	// application ended it (EndStream) and the response went out.
	OnClose(c *Conn, info CloseInfo)
}

// streamRoute is one entry of Config.Streams; a streaming Conn's route
// field indexes the server's table of them.
type streamRoute struct {
	path string
	st   Stream
}

// validateStream checks one entry of Config.Streams.
func validateStream(path string, st Stream, c *Config) []error {
	var errs []error
	if !strings.HasPrefix(path, "/") {
		errs = append(errs, fmt.Errorf("stream %q must start with /", path))
	}
	if _, ok := c.Routes[path]; ok {
		errs = append(errs, fmt.Errorf("stream %q is also a route", path))
	}
	if _, ok := c.Pages[path]; ok {
		errs = append(errs, fmt.Errorf("stream %q is also a page", path))
	}
	if st.Handler == nil {
		errs = append(errs, fmt.Errorf("stream %q has no handler", path))
	}
	return errs
}

// errStreamMethod answers a method other than GET on a stream path.
var errStreamMethod = &httpError{status: http.StatusMethodNotAllowed, reason: "only GET is allowed here", header: "Allow: GET\r\n"}

// serveStream answers a request for a stream path: checks as for an
// upgrade, then the handler's OpenStream. On success the Conn is in
// stateStream, flagged as a stream so that its handler's OnClose runs.
func (l *loop) serveStream(c *Conn, idx uint8, req *handshake.Request) gnet.Action {
	s := l.srv
	switch {
	case req.Upgrade:
		return l.reject(c, errNotFound)
	case string(req.Method) != http.MethodGet:
		return l.reject(c, errStreamMethod)
	case !s.originAllowed(req.Origin, req.Origins):
		return l.reject(c, errOrigin)
	case s.draining.Load():
		c.reason = ReasonDrain
		return l.reject(c, errDraining)
	}
	_, _ = c.gc.Discard(-1) // a stream reads nothing more from its client
	c.state = stateStream
	c.route = idx
	c.scan = 0
	ur := &UpgradeRequest{path: req.Path, query: req.Query, fields: req.Fields, origin: req.Origin}
	if err := s.streams[idx].st.Handler.OpenStream(c, ur); err != nil {
		c.state = stateHandshake
		return l.reject(c, httpErrorFrom(err))
	}
	l.stats.streams.Add(1)
	c.code = http.StatusOK
	if c.state == stateStream {
		c.flags |= flagStream
		now := s.nowMs()
		c.last = uint32(now)
		l.wheel.remove(c)
		l.scheduleStream(c, now)
	} else {
		c.flags |= flagStream // ended inside OpenStream: OnClose still runs
	}
	if c.flags&flagKill != 0 {
		return gnet.Close
	}
	return gnet.None
}

// scheduleStream puts a stream in the wheel at its next heartbeat, or
// once per wheel turn (so that Drain finds it) when it has none.
func (l *loop) scheduleStream(c *Conn, last int64) {
	s := l.srv
	if s.pingMs > 0 && s.streams[c.route].st.Heartbeat != nil {
		l.wheel.add(c, last+s.pingMs)
		return
	}
	l.wheel.add(c, last+l.wheel.span())
}

// expireStream writes a stream's heartbeat when it has been silent for
// PingInterval, and reschedules it.
func (l *loop) expireStream(c *Conn, now int64) {
	s := l.srv
	hb := s.streams[c.route].st.Heartbeat
	if e := elapsed(c, now); hb != nil && s.pingMs > 0 && e < s.pingMs {
		l.wheel.add(c, now+s.pingMs-e)
		return
	}
	if hb != nil && s.pingMs > 0 {
		if err := c.SendRaw(hb, SlowClose); err != nil {
			return
		}
	}
	l.scheduleStream(c, now)
}

// SendRaw writes b, bytes of a held-open HTTP response, to a stream
// connection (one that a StreamHandler's OpenStream accepted) under the
// MaxOutbound bound, applying policy when the queue is full: SlowClose
// closes the connection and returns ErrSlowConsumer, SlowDrop skips b and
// returns ErrDropped. b is copied or written before SendRaw returns. It
// returns ErrClosed on any connection that is not an open stream.
// Loop-only.
func (c *Conn) SendRaw(b []byte, policy SlowPolicy) error {
	if c.state != stateStream || c.flags&flagKill != 0 {
		return ErrClosed
	}
	l := c.loop
	if queued, ok := l.fits(c, len(b), queueCost(len(b))); !ok {
		if policy == SlowDrop {
			l.stats.dropped.Add(1)
			l.atLimit(c, l.srv.nowMs())
			return ErrDropped
		}
		c.reason = ReasonSlowConsumer
		l.closeSlow(c, queued)
		return ErrSlowConsumer
	}
	if err := l.put(c, b); err != nil {
		return ErrClosed
	}
	if c.gc.OutboundBuffered() > 0 {
		l.hold(c) // counted against MaxBuffered like any queued bytes
	}
	c.last = uint32(l.srv.nowMs())
	l.stats.bytesOut.Add(uint64(len(b)))
	return nil
}

// EndStream ends a stream's response: the connection is closed once what
// was written has gone out (or after CloseTimeout, if the client does not
// read it), and the handler's OnClose follows. Later SendRaw calls fail
// with ErrClosed. A no-op on a connection that is not an open stream.
// Loop-only.
func (c *Conn) EndStream() {
	if c.state != stateStream || c.flags&flagKill != 0 {
		return
	}
	l := c.loop
	c.reason = ReasonApp
	if c.gc.OutboundBuffered() == 0 {
		l.kill(c)
		return
	}
	c.state = statePage
	now := l.srv.nowMs()
	c.last = uint32(now)
	l.wheel.remove(c)
	l.wheel.add(c, now+l.srv.closeMs)
}

// Streaming reports whether c is an open stream connection, one that
// SendRaw writes to. Loop-only.
func (c *Conn) Streaming() bool { return c.state == stateStream }
