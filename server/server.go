package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Server is a myriad WebSocket server. Create it with New, run it with
// Serve, and stop it with Drain or Close. All exported methods may be
// called from any goroutine.
type Server struct {
	cfg   Config
	log   *zap.Logger
	start time.Time

	routes     []route
	routeIndex map[string]uint8
	pages      map[string]*pageResponse // Config.Pages, rendered
	streams    []streamRoute            // Config.Streams, sorted by path
	streamIdx  map[string]uint8
	origins    []originPattern // Config.AllowedOrigins parsed; nil allows all

	loops   []*loop
	loopsMu sync.Mutex // serializes binding loops to gnet event loops

	// Millisecond durations of the timeouts, for the loops' clock.
	handshakeMs, pingMs, idleMs, closeMs, messageMs, slowMs int64
	tick                                                    time.Duration
	drainTick                                               time.Duration // tick while draining

	maxConns int     // Config.MaxConns resolved: 0 for no limit
	shedLog  rateLog // connections shed over maxConns
	slowLog  rateLog // slow consumers closed

	maxBuffered int64       // Config.MaxBuffered resolved: <= 0 for no bound
	overBudget  atomic.Bool // the last count was over maxBuffered

	open     atomic.Int64 // TCP connections, handshaking or upgraded
	upgraded atomic.Int64 // WebSocket connections

	pubLoops []*Loop // the loops as applications see them; fixed after New

	draining atomic.Bool
	stopping atomic.Bool
	serving  atomic.Bool
	failed   atomic.Bool // the engine stopped without Close or Drain

	engMu sync.Mutex
	eng   gnet.Engine
	addr  net.Addr
	ready chan struct{}
	done  chan struct{}
}

// New checks cfg and returns a Server ready to Serve. Its loops exist from
// now on (see Loops); nothing listens until Serve.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Routes) == 0 {
		return nil, ErrNoRoutes
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:        cfg,
		log:        cfg.Logger,
		start:      time.Now(),
		routeIndex: make(map[string]uint8, len(cfg.Routes)),
		ready:      make(chan struct{}),
		done:       make(chan struct{}),
	}
	paths := make([]string, 0, len(cfg.Routes))
	for p := range cfg.Routes {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for i, p := range paths {
		s.routes = append(s.routes, route{path: p, h: cfg.Routes[p]})
		s.routeIndex[p] = uint8(i)
	}
	s.pages = make(map[string]*pageResponse, len(cfg.Pages))
	for path, p := range cfg.Pages {
		s.pages[path] = renderPage(p)
	}
	s.streamIdx = make(map[string]uint8, len(cfg.Streams))
	spaths := make([]string, 0, len(cfg.Streams))
	for p := range cfg.Streams {
		spaths = append(spaths, p)
	}
	sort.Strings(spaths)
	for i, p := range spaths {
		s.streams = append(s.streams, streamRoute{path: p, st: cfg.Streams[p]})
		s.streamIdx[p] = uint8(i)
	}
	for _, o := range cfg.AllowedOrigins {
		p, _ := parseOriginPattern(o) // checked by Validate
		s.origins = append(s.origins, p)
	}
	switch {
	case cfg.MaxConns == 0:
		s.maxConns = DefaultMaxConns()
	case cfg.MaxConns > 0:
		s.maxConns = cfg.MaxConns
	}
	s.shedLog.lastMs.Store(-rateLogMs)
	s.slowLog.lastMs.Store(-rateLogMs)
	s.handshakeMs = cfg.HandshakeTimeout.Milliseconds()
	s.pingMs = max(cfg.PingInterval.Milliseconds(), 0)
	s.idleMs = max(cfg.IdleTimeout.Milliseconds(), 0)
	s.closeMs = cfg.CloseTimeout.Milliseconds()
	s.messageMs = max(cfg.MessageTimeout.Milliseconds(), 0)
	s.slowMs = max(cfg.SlowTimeout.Milliseconds(), 0)
	s.maxBuffered = cfg.MaxBuffered
	if s.maxBuffered == 0 {
		s.maxBuffered = DefaultMaxBuffered()
	}
	s.tick = tickFor(cfg)
	s.drainTick = min(max(cfg.DrainTimeout/100, 5*time.Millisecond), s.tick)
	now := s.nowMs()
	s.loops = make([]*loop, cfg.Loops)
	s.pubLoops = make([]*Loop, cfg.Loops)
	for i := range s.loops {
		l := &loop{srv: s, idx: i, z: codec{level: cfg.CompressionLevel}}
		l.pub.l = l
		l.runBox = l.newRunBox()
		l.stats.detail.routeOpen = make([]atomic.Int64, len(s.routes))
		l.jobs.task = gnet.RunnableFunc(l.runJobs)
		l.wheel.init(s.tick.Milliseconds(), now)
		s.loops[i] = l
		s.pubLoops[i] = &l.pub
	}
	return s, nil
}

// tickFor picks the wheel's resolution: an eighth of the shortest timeout,
// between 5 ms and 500 ms. Timeouts fire up to one tick late.
func tickFor(cfg Config) time.Duration {
	shortest := cfg.HandshakeTimeout
	for _, d := range []time.Duration{cfg.PingInterval, cfg.IdleTimeout, cfg.CloseTimeout, cfg.MessageTimeout} {
		if d > 0 && d < shortest {
			shortest = d
		}
	}
	t := shortest / 8
	return min(max(t, 5*time.Millisecond), 500*time.Millisecond)
}

// ErrEngineStopped is returned by Serve when the event loops stopped
// although neither Close nor Drain asked them to. gnet ends its engine on
// an accept error it does not retry (such as EMFILE, which MaxConns is
// there to prevent); a program should exit non-zero on it so that a
// supervisor restarts it.
var ErrEngineStopped = errors.New("server: event loops stopped unexpectedly (see the log for gnet's error)")

// Serve listens on Config.Addr and runs the event loops until Close or
// Drain stops them. It returns nil after a requested stop, the error
// that prevented listening (such as the address being in use), or
// ErrEngineStopped when the engine stopped on its own.
func (s *Server) Serve() error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("server: Serve called twice")
	}
	defer close(s.done)
	addr, hold, err := pinPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	defer func() { _ = hold.Release() }()
	if hold == nil && !s.cfg.ReusePort {
		if err := checkPortFree(addr); err != nil {
			return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
		}
	}
	opts := []gnet.Option{
		gnet.WithNumEventLoop(s.cfg.Loops),
		gnet.WithTicker(true),
		// One listener per loop: see port.go.
		gnet.WithReusePort(true),
		// SO_REUSEADDR lets a restarted server bind while the previous
		// one's connections sit in TIME_WAIT (the server closes first, so
		// after a drain there are as many as it had clients). It does not
		// let two live listeners share the port.
		gnet.WithReuseAddr(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReadBufferCap(s.cfg.ReadBufferSize),
		gnet.WithLogger(s.log.WithOptions(zap.AddCallerSkip(1)).Sugar()),
	}
	err = gnet.Run(&handler{srv: s}, "tcp://"+addr, opts...)
	if err != nil && !s.stopping.Load() {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	if s.failed.Load() {
		return ErrEngineStopped
	}
	return nil
}

// booted runs when gnet has bound the listener.
func (s *Server) booted(eng gnet.Engine) {
	s.engMu.Lock()
	s.eng = eng
	if fd, err := eng.Dup(); err == nil {
		if sa, err := unix.Getsockname(fd); err == nil {
			s.addr = sockaddrToTCP(sa)
		}
		_ = unix.Close(fd)
	}
	s.engMu.Unlock()
	s.log.Info("listening", zap.Stringer("addr", s.Addr()), zap.Int("loops", s.cfg.Loops),
		zap.Int("max_conns", s.maxConns))
	close(s.ready)
}

// Ready is closed once the listener is bound and connections are accepted.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Done is closed when Serve has returned.
func (s *Server) Done() <-chan struct{} { return s.done }

// Addr returns the bound listener address, or nil before Ready.
func (s *Server) Addr() net.Addr {
	s.engMu.Lock()
	defer s.engMu.Unlock()
	if s.addr == nil {
		return nil
	}
	return s.addr
}

// Close stops the server at once: every connection is closed without a
// close handshake and Serve returns.
func (s *Server) Close() error {
	select {
	case <-s.ready:
	default:
		return nil
	}
	s.stopping.Store(true)
	s.engMu.Lock()
	eng := s.eng
	s.engMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := eng.Stop(ctx)
	<-s.done
	return err
}

// DrainReport is what a drain did: how many connections it started with,
// how many were still open when it stopped waiting, whether it stopped
// because DrainTimeout (or the caller's context) ran out rather than
// because every connection had closed, and how long it took.
type DrainReport struct {
	Connections int64
	Left        int64
	TimedOut    bool
	Took        time.Duration
}

// Drain shuts the server down gracefully: upgrade requests get 503 from
// now on, every connection is sent Close 1001 (the first few per loop at
// once, the rest spread over the first half of DrainTimeout), and once all
// have closed, or DrainTimeout or ctx has expired, the rest are closed and
// Serve returns. The report says which of the two ended the wait. Any
// goroutine may call it, once.
func (s *Server) Drain(ctx context.Context) (DrainReport, error) {
	select {
	case <-s.ready:
	default:
		return DrainReport{}, s.Close()
	}
	start := time.Now()
	s.draining.Store(true)
	rep := DrainReport{Connections: s.open.Load()}
	s.sweep() // start sending close frames now, not at the next tick
	s.log.Info("draining", zap.Int64("connections", rep.Connections), zap.Stringer("timeout", s.cfg.DrainTimeout))
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DrainTimeout)
	defer cancel()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for s.open.Load() > 0 {
		select {
		case <-ctx.Done():
			rep.TimedOut = true
		case <-poll.C:
			continue
		}
		break
	}
	rep.Left = s.open.Load()
	rep.Took = time.Since(start)
	s.log.Info("drained", zap.Int64("connections_left", rep.Left), zap.Bool("timed_out", rep.TimedOut),
		zap.Stringer("took", rep.Took.Round(time.Millisecond)))
	return rep, s.Close()
}

// Loops returns the server's event loops, Config.Loops of them, in Index
// order. The slice is fixed when New returns, so an application can build
// its per-loop state right after New, before Serve. The caller must not
// modify the slice. Any goroutine may call it.
func (s *Server) Loops() []*Loop { return s.pubLoops }

// Execute runs fn on the event loop that owns c, through gnet's own task
// queue, which does not keep order under load: use c.Loop().Post for
// work that must run in the order it was handed over. fn must check that
// c is still open. Any goroutine may call it; it returns ErrClosed when
// c's loop is not running.
func (s *Server) Execute(c *Conn, fn func()) error {
	el := c.loop.eventLoop()
	if el == nil {
		return ErrClosed
	}
	return el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		fn()
		return nil
	}))
}

// nowMs is the server's monotonic clock in milliseconds.
func (s *Server) nowMs() int64 { return time.Since(s.start).Milliseconds() }

// loopFor returns the loop state bound to el, binding a free one the first
// time el is seen. gnet gives each event loop a fixed identity, and there
// are exactly cfg.Loops of them.
func (s *Server) loopFor(el gnet.EventLoop) *loop {
	for _, l := range s.loops {
		if l.eventLoop() == el {
			return l
		}
	}
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	for _, l := range s.loops {
		cur := l.eventLoop()
		if cur == el {
			return l
		}
		if cur == nil {
			l.el.Store(el)
			return l
		}
	}
	// Unreachable while gnet runs cfg.Loops loops; share the first rather
	// than fail.
	return s.loops[0]
}

func sockaddrToTCP(sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return nil
}
