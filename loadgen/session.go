package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Session is one run in one process: a gnet client reactor, a bounded pool
// of dial workers, the pacer that drives the loops' timing wheels, and the
// metrics. A Scenario's Drive shapes the run through its methods, which may
// be called from any goroutine unless they say otherwise.
type Session struct {
	plan  Plan
	log   *zap.Logger
	base  time.Time // origin of the Session clock
	wall0 int64     // base as Unix ns
	seed  uint64
	hooks ConnHandler

	targets  []target
	requests []requestTemplate
	dialers  []net.Dialer

	client  *gnet.Client
	loops   loops
	m       *metrics
	connRec *Recorder

	// sseBeats and sseNamed count SSE heartbeats and named events; nil
	// unless a target is an SSE stream.
	sseBeats, sseNamed *Counter

	jobs      chan job
	redials   redials
	retryMu   sync.Mutex
	retryQ    []job
	pending   atomic.Int64 // connections scheduled and not yet upgraded or given up
	planned   atomic.Int64
	nextID    uint64
	workers   sync.WaitGroup
	dialCtx   context.Context
	dialStop  context.CancelFunc
	pacerStop context.CancelFunc
	pacerDone chan struct{}
	wake      chan struct{} // Session.nudge; capacity 1

	connectNs  atomic.Int64 // time spent in Connect calls
	connectUps atomic.Int64 // upgrades completed during them

	stopping atomic.Bool // teardown: closes are no longer counted
	phase    atomic.Pointer[string]
	settled  atomic.Bool
	notify   chan struct{} // phase changes, for the progress reporter

	memMu sync.Mutex
	mem   Memory

	// control delivers a worker's control lines from its parent; nil in a
	// standalone run.
	control <-chan json.RawMessage
	// parts are the scenario's own parts of the report (Report.Parts).
	partsMu sync.Mutex
	parts   map[string]json.RawMessage
}

// job is one connection attempt waiting for a dial worker.
type job struct {
	id      uint64
	due     int64 // scheduled start (first attempt) or earliest retry time
	target  uint16
	source  uint16
	attempt uint8
}

// retryBackoff is the pause before a failed attempt is retried. It is
// constant so the retry queue stays in time order.
const retryBackoff = 250 * time.Millisecond

func newSession(p Plan, log *zap.Logger, hooks ConnHandler) (*Session, error) {
	if log == nil {
		log = zap.NewNop()
	}
	base := time.Now()
	s := &Session{
		plan:   p,
		log:    log,
		base:   base,
		wall0:  base.UnixNano(),
		seed:   rand.Uint64(),
		hooks:  hooks,
		m:      newMetrics(len(p.Targets)),
		jobs:   make(chan job, p.DialWorkers),
		notify: make(chan struct{}, 1),
		nextID: uint64(p.IDOffset),
	}
	s.connRec = s.m.recorder(HistConnect)
	s.SetPhase("starting")
	if len(p.Targets) > 1<<16 {
		return nil, errors.New("too many targets")
	}
	for _, raw := range p.Targets {
		t, err := parseTarget(raw)
		if err != nil {
			return nil, err
		}
		s.targets = append(s.targets, t)
		s.requests = append(s.requests, newRequestTemplate(t))
		if t.sse && s.sseBeats == nil {
			s.sseBeats = s.m.counter(CounterSSEHeartbeats)
			s.sseNamed = s.m.counter(CounterSSENamedEvents)
		}
	}
	s.dialers = make([]net.Dialer, max(1, len(p.Sources)))
	for i := range s.dialers {
		s.dialers[i].Timeout = p.HandshakeTimeout
		s.dialers[i].KeepAlive = -1 // idle sockets must cost nothing: no keep-alive probes
		if len(p.Sources) > 0 {
			s.dialers[i].LocalAddr = &net.TCPAddr{IP: p.Sources[i].AsSlice()}
			s.dialers[i].Control = bindNoPort
		}
	}
	return s, nil
}

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT before the dialer binds its source
// address, so the kernel picks the port at connect time per (source,
// destination) pair instead of reserving one per source address: that is
// what lets one source address carry more than 64K connections across
// several targets.
func bindNoPort(network, address string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT from linux/in.h; the
// syscall package does not name it.
const ipBindAddressNoPort = 24

// start starts the reactor, the dial workers and the pacer, and takes the
// "before" memory samples.
func (s *Session) start() error {
	gl := s.log.WithOptions(zap.IncreaseLevel(zapcore.WarnLevel)).Sugar()
	cli, err := gnet.NewClient(&handler{s: s},
		gnet.WithNumEventLoop(s.plan.Loops),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gl),
	)
	if err != nil {
		return fmt.Errorf("gnet client: %w", err)
	}
	if err := cli.Start(); err != nil {
		return fmt.Errorf("gnet client: %w", err)
	}
	s.client = cli

	s.dialCtx, s.dialStop = context.WithCancel(context.Background())
	for range s.plan.DialWorkers {
		s.workers.Add(1)
		go s.dialWorker()
	}
	var pctx context.Context
	pctx, s.pacerStop = context.WithCancel(context.Background())
	s.pacerDone = make(chan struct{})
	s.wake = make(chan struct{}, 1)
	go s.pace(pctx)
	s.sampleBefore()
	return nil
}

// stop closes whatever is still open (without counting it) and stops the
// workers, the pacer and the reactor.
func (s *Session) stop() {
	s.stopping.Store(true)
	s.dialStop()
	s.stopRedials()
	close(s.jobs)
	s.workers.Wait()
	s.pacerStop()
	<-s.pacerDone
	if err := s.client.Stop(); err != nil {
		s.log.Warn("stopping the client reactor", zap.Error(err))
	}
}

// Now is the Session clock: monotonic nanoseconds since the Session began.
// Safe for concurrent use.
func (s *Session) Now() int64 { return int64(time.Since(s.base)) }

// WallTime converts now, a time on the Session clock, to wall-clock Unix
// nanoseconds, for comparing with times taken by other processes (a
// publisher's send time) without reading the clock again. Safe for
// concurrent use.
func (s *Session) WallTime(now int64) int64 { return s.wall0 + now }

// SendTime is the time a latency should be measured from, for a message
// whose send was scheduled at due and actually made at now. The pacer's
// timer has a resolution of about a tick, so lateness up to two ticks is
// the load generator's own jitter and is not counted (the result is now);
// beyond that the send was held up, by back-pressure or a busy loop, and
// the delay counts (the result is due plus two ticks). This is how an open
// model avoids coordinated omission without charging the server for the
// timer.
func (s *Session) SendTime(due, now int64) int64 {
	return min(now, due+2*int64(s.plan.Tick))
}

// Plan returns the plan with defaults applied.
func (s *Session) Plan() Plan { return s.plan }

// Logger returns the Session's logger.
func (s *Session) Logger() *zap.Logger { return s.log }

// Counter returns the named counter, creating it; it appears in the report
// under that name. Safe for concurrent use; look it up once, not per event.
func (s *Session) Counter(name string) *Counter { return s.m.counter(name) }

// Recorder returns the named latency histogram, creating it; it appears in
// the report and the progress line under that name. Safe for concurrent use.
func (s *Session) Recorder(name string) *Recorder { return s.m.recorder(name) }

// Open returns the number of upgraded connections currently open.
func (s *Session) Open() int64 { return s.m.open.Load() }

// MessagesSent and MessagesReceived count data messages so far.
func (s *Session) MessagesSent() int64 { return s.m.msgsOut.Load() }

// MessagesReceived counts data messages received so far.
func (s *Session) MessagesReceived() int64 { return s.m.msgsIn.Load() }

// SetPhase names what the run is doing, for progress lines and for the
// parent of worker processes.
func (s *Session) SetPhase(name string) {
	s.phase.Store(&name)
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Session) phaseName() string { return *s.phase.Load() }

// upgraded accounts for a completed handshake, on the connection's loop.
func (s *Session) upgraded(c *Conn, now int64) {
	s.m.upgraded.Add(1)
	s.m.opened(c.target)
	s.pending.Add(-1)
	s.redialDone(c.id)
	s.connRec.Record(now - c.start)
	if s.hooks != nil {
		s.hooks.Upgraded(c, now)
	}
}
