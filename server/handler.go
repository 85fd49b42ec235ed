package server

import (
	"context"
	"io"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"

	"github.com/myriadws/myriad/handshake"
)

// handler adapts the Server to gnet's EventHandler. gnet calls OnOpen,
// OnTraffic and OnClose on the connection's event loop, and OnBoot, OnTick
// and OnShutdown on other goroutines.
type handler struct {
	gnet.BuiltinEventEngine
	srv *Server
}

func (h *handler) OnBoot(eng gnet.Engine) gnet.Action {
	h.srv.booted(eng)
	return gnet.None
}

// OnShutdown runs when the engine stops. A stop nobody asked for (gnet
// ends the engine on an accept error it does not retry) is recorded so
// that Serve returns ErrEngineStopped instead of nil.
func (h *handler) OnShutdown(gnet.Engine) {
	if !h.srv.stopping.Load() {
		h.srv.failed.Store(true)
	}
}

func (h *handler) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	s := h.srv
	l := s.loopFor(gc.EventLoop())
	l.stats.accepted.Add(1)
	if !s.admit() {
		return l.shed()
	}
	now := s.nowMs()
	c := &Conn{gc: gc, loop: l, last: uint32(now), slot: noSlot}
	gc.SetContext(c)
	l.stats.open.Add(1)
	if s.cfg.SocketRecvBuffer > 0 {
		_ = gc.SetReadBuffer(s.cfg.SocketRecvBuffer)
	}
	if s.cfg.SocketSendBuffer > 0 {
		_ = gc.SetWriteBuffer(s.cfg.SocketSendBuffer)
	}
	l.wheel.add(c, now+s.handshakeMs)
	return nil, gnet.None
}

func (h *handler) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*Conn)
	if !ok {
		return gnet.Close
	}
	l := c.loop
	l.current = c
	defer func() { l.current = nil }()

	switch c.state {
	case stateHandshake:
		act := l.handshake(c)
		if act != gnet.None || c.state != stateOpen {
			return act
		}
		return l.readFrames(c) // frames pipelined behind the request
	case stateOpen:
		c.last = uint32(h.srv.nowMs())
		c.flags &^= flagPinged
		return l.readFrames(c)
	case stateClosing:
		return l.readFrames(c) // only a close frame matters now
	case statePage, stateStream:
		_, _ = gc.Discard(-1) // the answer is on its way; nothing else is
		return gnet.None
	}
	return gnet.Close
}

func (h *handler) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*Conn)
	if !ok {
		return gnet.None
	}
	s, l := h.srv, c.loop
	l.wheel.remove(c)
	l.forget(c)
	l.putInbound(c)
	if l.opening.c == c {
		l.opening = opening{}
	}
	upgraded := c.state == stateOpen || c.state == stateClosing
	c.state = stateClosed
	s.open.Add(-1)
	l.stats.open.Add(-1)
	if c.reason == ReasonNone {
		c.reason = ReasonPeerGone
		if s.stopping.Load() {
			c.reason = ReasonShutdown
		}
	}
	if upgraded {
		s.upgraded.Add(-1)
		l.stats.detail.routeOpen[c.route].Add(-1)
		l.stats.detail.countClose(c.reason, c.code)
		s.routes[c.route].h.OnClose(c, CloseInfo{Reason: c.reason, Code: ws.StatusCode(c.code), Err: err})
	}
	if c.flags&flagStream != 0 {
		s.streams[c.route].st.Handler.OnClose(c, CloseInfo{Reason: c.reason, Err: err})
	}
	s.logClose(c, err)
	return gnet.None
}

// OnTick runs on gnet's ticker goroutine. It asks each event loop to sweep
// its own timing wheel, since Conns may be touched only by their loop.
func (h *handler) OnTick() (time.Duration, gnet.Action) {
	s := h.srv
	s.sweep()
	s.flushRateLogs()
	if s.draining.Load() {
		// Drain spreads its close frames over ticks; tick often enough
		// that even a short DrainTimeout is spread in many small steps.
		return s.drainTick, gnet.None
	}
	return s.tick, gnet.None
}

// sweep asks each event loop to advance its own timing wheel, since Conns
// may be touched only by their loop. A loop whose previous sweep has not
// run yet is skipped. Any goroutine may call it.
func (s *Server) sweep() {
	for _, l := range s.loops {
		el := l.eventLoop()
		if el == nil || !l.sweeping.CompareAndSwap(false, true) {
			continue
		}
		if err := el.Execute(context.Background(), gnet.RunnableFunc(l.sweepTask)); err != nil {
			l.sweeping.Store(false)
		}
	}
}

// handshake reads the upgrade request of c. It returns gnet.None with
// c.state still stateHandshake when more input is needed.
func (l *loop) handshake(c *Conn) gnet.Action {
	s := l.srv
	buf, _ := c.gc.Peek(-1)
	scan := int(c.scan)
	req, n, err := handshake.ReadRequest(buf, s.cfg.MaxHeaderBytes, &scan)
	c.scan = uint16(min(scan, maxHeaderBytesLimit))
	if err == io.ErrShortBuffer {
		return gnet.None
	}
	if err != nil {
		return l.reject(c, refusalOf(err))
	}
	if pr, ok := s.pages[string(req.Path)]; ok {
		return l.servePage(c, pr, &req)
	}
	if si, ok := s.streamIdx[string(req.Path)]; ok {
		return l.serveStream(c, si, &req)
	}
	if string(req.Method) != "GET" {
		return l.reject(c, errMethod)
	}
	idx, ok := s.routeIndex[string(req.Path)]
	if !ok {
		return l.reject(c, errNotFound)
	}
	if herr := req.Check(); herr != nil {
		return l.reject(c, refusal(herr))
	}
	if !s.originAllowed(req.Origin, req.Origins) {
		return l.reject(c, errOrigin)
	}
	if s.draining.Load() {
		c.reason = ReasonDrain
		return l.reject(c, errDraining)
	}
	if az, ok := s.routes[idx].h.(Authorizer); ok {
		ur := &UpgradeRequest{path: req.Path, query: req.Query, fields: req.Fields, origin: req.Origin}
		if err := l.authorize(az, c, ur); err != nil {
			return l.reject(c, httpErrorFrom(err))
		}
	}

	var protocol string
	var extensions []byte
	if len(s.cfg.Subprotocols) > 0 && req.Protocol != nil {
		l.vals = handshake.HeaderValues(req.Fields, "Sec-WebSocket-Protocol", l.vals[:0])
		if c.proto = uint8(handshake.SelectSubprotocol(s.cfg.Subprotocols, l.vals)); c.proto > 0 {
			protocol = s.cfg.Subprotocols[c.proto-1]
		}
	}
	if s.cfg.Compression && req.Extensions != nil {
		l.vals = handshake.HeaderValues(req.Fields, "Sec-WebSocket-Extensions", l.vals[:0])
		if extensions = l.neg.Deflate(l.vals); extensions != nil {
			c.flags |= flagDeflate
		}
	}
	clear(l.vals)
	l.out = handshake.AppendSwitching(l.out[:0], req.Key, protocol, extensions)
	if err := l.put(c, l.out); err != nil {
		return gnet.Close
	}
	_, _ = c.gc.Discard(n)
	c.state = stateOpen
	c.route = idx
	c.scan = 0
	now := s.nowMs()
	l.stats.detail.observeHandshake(elapsed(c, now)) // c.last is the accept time until now
	c.last = uint32(now)
	l.wheel.remove(c)
	l.schedule(c, now)
	s.upgraded.Add(1)
	l.stats.upgrades.Add(1)
	l.stats.detail.routeOpen[idx].Add(1)
	l.open(c, s.routes[idx].h)
	if c.flags&flagKill != 0 {
		return gnet.Close
	}
	return gnet.None
}

// logClose writes the one log line a connection may get, at close. Normal
// endings are not logged (rates are in Stats); a slow consumer was logged
// when it was detected.
func (s *Server) logClose(c *Conn, err error) {
	switch c.reason {
	case ReasonProtocol, ReasonTooBig, ReasonHandshakeTimeout, ReasonRejected, ReasonCloseTimeout:
		if ce := s.log.Check(zap.DebugLevel, "connection closed"); ce != nil {
			ce.Write(connField(c), zap.Stringer("reason", c.reason), zap.Uint16("code", c.code), zap.Error(err))
		}
	case ReasonPeerGone:
		if err != nil {
			if ce := s.log.Check(zap.DebugLevel, "connection lost"); ce != nil {
				ce.Write(connField(c), zap.Error(err))
			}
		}
	}
}
