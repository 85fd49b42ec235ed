package supervisor

import (
	"errors"
	"fmt"
	"github.com/myriadws/myriad/internal/reuseport"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/myriadws/myriad/internal/broker"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// WorkerStatus describes one worker slot.
type WorkerStatus struct {
	Index int
	// PID is the running process, or 0 between a death and the restart.
	PID int
	// Ready is set once the running process reported that it listens.
	Ready bool
	// Starts counts processes started in this slot; Starts-1 restarts.
	Starts int
	// LastExit describes how the previous process ended.
	LastExit string
}

// Supervisor runs the embedded broker and the worker processes. Its
// methods may be called from any goroutine.
type Supervisor struct {
	cfg      Config
	log      *zap.Logger
	command  string
	perConns int
	brk      *broker.Server
	addr     *reuseport.Reservation
	api      *reuseport.Reservation

	// joinMu lets one worker at a time open its listeners: held from a
	// worker's start until it reported ready or was reaped (see layout).
	joinMu sync.Mutex

	mu       sync.Mutex
	slots    []WorkerStatus
	procs    []*os.Process
	next     []*successor  // per slot: a replacement waiting for the old process to exit
	retiring []*os.Process // replaced workers still draining
	layout   layout        // the workers' order in the ports' groups
	stopping bool
	err      error
	stopCh   chan struct{}

	replacing atomic.Bool // a Replace runs

	wg   sync.WaitGroup
	done chan struct{}
}

// Start reserves the ports, starts the embedded broker and the workers, and
// returns; Wait tells when they are all gone.
func Start(cfg Config, log *zap.Logger) (*Supervisor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Supervisor{cfg: cfg, log: log, stopCh: make(chan struct{}), done: make(chan struct{})}
	if err := s.plan(); err != nil {
		return nil, err
	}
	// plan resolved Workers 0 into a count in s.cfg: everything below
	// must read that, or a derived count starts no worker at all.
	cfg = s.cfg
	if err := s.open(); err != nil {
		s.close()
		return nil, err
	}
	s.slots = make([]WorkerStatus, cfg.Workers)
	s.procs = make([]*os.Process, cfg.Workers)
	s.next = make([]*successor, cfg.Workers)
	s.layout.span = cfg.closeSpan
	log.Info("supervisor started", zap.Int("workers", cfg.Workers), zap.Int("max_conns_per_worker", s.perConns),
		zap.String("addr", s.addr.Addr()), zap.String("broker", s.brk.URL()))
	for i := range s.slots {
		s.slots[i].Index = i
		s.wg.Add(1)
		go s.runSlot(i)
	}
	go func() {
		s.wg.Wait()
		s.close()
		close(s.done)
	}()
	return s, nil
}

// plan settles the worker count, each worker's share and the command.
func (s *Supervisor) plan() error {
	cfg := &s.cfg
	if cfg.Workers == 0 {
		nofile := cfg.NoFile
		if nofile == 0 {
			var rl unix.Rlimit
			if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
				return fmt.Errorf("supervisor: descriptor limit: %w", err)
			}
			nofile = rl.Cur
		}
		n, _, err := WorkerCount(cfg.MaxConns, nofile, cfg.Headroom, runtime.NumCPU())
		if err != nil {
			return err
		}
		cfg.Workers = n
	}
	if cfg.MaxConns > 0 {
		s.perConns = (cfg.MaxConns + cfg.Workers - 1) / cfg.Workers
	}
	s.command = cfg.Command
	if s.command == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("supervisor: own executable: %w", err)
		}
		s.command = exe
	}
	return nil
}

// open reserves the ports and starts the broker.
func (s *Supervisor) open() error {
	var err error
	if s.addr, err = reuseport.Reserve(s.cfg.Addr); err != nil {
		return err
	}
	if s.cfg.APIAddr != "" {
		if s.api, err = reuseport.Reserve(s.cfg.APIAddr); err != nil {
			return err
		}
	}
	s.brk, err = broker.StartServer(s.cfg.Broker, s.log)
	return err
}

// close stops the broker and releases the ports, after the last worker.
func (s *Supervisor) close() {
	if s.brk != nil {
		s.brk.Shutdown()
	}
	for _, r := range []*reuseport.Reservation{s.addr, s.api} {
		if r != nil {
			_ = r.Release()
		}
	}
}

// env is what worker i is told.
func (s *Supervisor) env(i int) WorkerEnv {
	w := WorkerEnv{Index: i, Count: s.cfg.Workers, Broker: s.brk.URL(), Addr: s.addr.Addr(), MaxConns: s.perConns}
	if s.api != nil {
		w.APIAddr = s.api.Addr()
	}
	return w
}

// Addr is the WebSocket address every worker listens on, port resolved.
func (s *Supervisor) Addr() string { return s.addr.Addr() }

// APIAddr is the workers' API address, port resolved, or "".
func (s *Supervisor) APIAddr() string {
	if s.api == nil {
		return ""
	}
	return s.api.Addr()
}

// BrokerURL is the embedded broker's client URL.
func (s *Supervisor) BrokerURL() string { return s.brk.URL() }

// Workers returns the state of every slot.
func (s *Supervisor) Workers() []WorkerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WorkerStatus(nil), s.slots...)
}

// Signal forwards sig to every running worker and changes nothing else.
// It is the hook for SIGHUP (restart or reload, as the workers define it).
func (s *Supervisor) Signal(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signalLocked(sig)
}

// signalReady sends sig to every worker that reported ready: a signal
// of the steering protocol must not reach a process that may not have
// set up its handler yet.
func (s *Supervisor) signalReady(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.procs {
		if p != nil && s.slots[i].Ready {
			if err := p.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
				s.log.Warn("signal to worker failed", zap.Int("worker", i), zap.Error(err))
			}
		}
	}
}

func (s *Supervisor) signalLocked(sig os.Signal) {
	for _, p := range s.retiring {
		if err := p.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			s.log.Warn("signal to replaced worker failed", zap.Int("pid", p.Pid), zap.Error(err))
		}
	}
	for i, p := range s.procs {
		if p != nil {
			if err := p.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
				s.log.Warn("signal to worker failed", zap.Int("worker", i), zap.Error(err))
			}
		}
	}
}

// Stop ends the supervisor: no worker is restarted any more, sig (SIGTERM
// or SIGINT: drain) goes to every worker, and workers still alive after
// DrainTimeout plus DrainMargin are killed. It returns at once; Wait
// returns when every worker is gone. Later calls only forward sig.
func (s *Supervisor) Stop(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signalLocked(sig)
	if s.stopping {
		return
	}
	s.stopping = true
	close(s.stopCh)
	go s.killAfterDrain()
}

// killAfterDrain kills the workers that outlive the drain bound.
func (s *Supervisor) killAfterDrain() {
	t := time.NewTimer(s.cfg.DrainTimeout + s.cfg.DrainMargin)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.log.Warn("workers still alive after the drain timeout: killing them")
		s.Signal(syscall.SIGKILL)
	}
}

// Done is closed when every worker has exited and the broker stopped.
func (s *Supervisor) Done() <-chan struct{} { return s.done }

// Wait blocks until Done and returns nil after Stop, or ErrCrashLoop (with
// the worker) when the supervisor gave up on a worker.
func (s *Supervisor) Wait() error {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
