package supervisor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// successor is a replacement installed in a slot whose old process has
// not exited yet.
type successor struct {
	cmd     *exec.Cmd
	started time.Time     // when the replacement started
	retired time.Time     // when the old process was told to leave
	oldGone chan struct{} // closed once the old process's exit is in the layout
}

// Replace replaces the workers one at a time, for a new binary at the
// same path. For each slot it starts a new worker (as the only one
// joining the ports' groups) and waits until it reports that it listens,
// makes it the slot's process, tells the old one to leave, and waits
// until the old one has exited before it goes on to the next slot.
//
// With Config.Steer, the new worker is given the block of the old one
// in the supervisor's layout of the ports' groups, and attaches a program
// that sends every new connection to any listener but the old worker's
// before it reports ready; the old one is sent SignalRetire, finishes the
// upgrades it had accepted and drains. After the last slot every worker
// is sent SignalUnsteer. When the layout is lost (see layout) or the new
// worker's listener counts differ from the old one's, that slot is
// replaced unsteered, with a warning: the old worker then gets SIGTERM
// and keeps its share of new connections while it drains.
//
// A slot whose worker is not running (between a death and its restart)
// is skipped: its restart starts the new binary anyway. On the first
// failure the new worker is killed, the old one keeps serving, and
// Replace returns the error; slots already replaced stay replaced. An old
// worker still alive DrainTimeout plus DrainMargin after it was told to
// leave is killed. It returns ErrReplacing while another Replace runs.
// Any goroutine may call it.
func (s *Supervisor) Replace() error {
	if !s.replacing.CompareAndSwap(false, true) {
		return ErrReplacing
	}
	defer s.replacing.Store(false)
	if s.cfg.Steer {
		// Also after a failure: a new worker may have attached its program
		// and died before it reported ready.
		defer s.signalReady(SignalUnsteer)
	}
	for i := range s.cfg.Workers {
		if err := s.replaceOne(i); err != nil {
			return fmt.Errorf("worker %d: %w", i, err)
		}
	}
	return nil
}

// replaceOne replaces worker i; see Replace.
func (s *Supervisor) replaceOne(i int) error {
	s.mu.Lock()
	old := s.procs[i]
	var steer Steering
	if old != nil && s.cfg.Steer {
		var ok bool
		if steer, ok = s.layout.steering(old.Pid); !ok {
			s.log.Warn("replacing a worker without steering: its place in the port's listener group is unknown",
				zap.Int("worker", i), zap.String("reason", s.layout.unknown))
		}
	}
	s.mu.Unlock()
	if old == nil {
		return nil
	}
	w := s.env(i)
	w.Replaces, w.Steer = old.Pid, steer
	cmd := s.newWorkerCmd(i, w)
	started := time.Now()
	if _, err := s.join(i, cmd, func(*os.Process) {}); err != nil {
		return err
	}
	steered := steer.Set() && s.steerAccepted(i, cmd.Process.Pid, steer)

	next := &successor{cmd: cmd, started: started, oldGone: make(chan struct{})}
	s.mu.Lock()
	if s.stopping || s.procs[i] != old {
		stopping := s.stopping
		s.mu.Unlock()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		s.exited(cmd.Process.Pid, started)
		if stopping {
			return ErrStopping
		}
		return nil // the old one died meanwhile; its restart starts the new binary
	}
	next.retired = time.Now()
	s.next[i] = next
	s.retiring = append(s.retiring, old)
	s.procs[i] = cmd.Process
	s.slots[i].PID = cmd.Process.Pid
	s.slots[i].Ready = true
	s.slots[i].Starts++
	s.mu.Unlock()
	sig := os.Signal(syscall.SIGTERM)
	if steered {
		sig = SignalRetire
	}
	s.log.Info("worker replaced; draining the old one", zap.Int("worker", i), zap.Int("pid", cmd.Process.Pid),
		zap.Int("old_pid", old.Pid), zap.Bool("steered", steered))
	if err := old.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.log.Warn("signal to the replaced worker failed", zap.Int("worker", i), zap.Error(err))
	}
	return s.awaitRetired(i, old, next)
}

// steerAccepted reports whether the new worker pid attached steer. It
// does only when its listener counts are the old worker's, which its
// readiness line shows; otherwise this logs why the slot goes unsteered.
func (s *Supervisor) steerAccepted(i, pid int, steer Steering) bool {
	s.mu.Lock()
	p := s.layout.find(pid)
	var b block
	if p >= 0 {
		b = s.layout.blocks[p]
	}
	s.mu.Unlock()
	switch {
	case b.steered:
		return true
	case b.ws != steer.WS.Len || b.api != steer.API.Len:
		s.log.Warn("replacing a worker without steering: the new worker's listener counts differ from the old one's",
			zap.Int("worker", i), zap.Int("listeners", b.ws), zap.Int("old_listeners", steer.WS.Len),
			zap.Int("api_listeners", b.api), zap.Int("old_api_listeners", steer.API.Len))
	default:
		s.log.Warn("replacing a worker without steering: the new worker did not attach the program (see its log)", zap.Int("worker", i))
	}
	return false
}

// awaitRetired waits until old, replaced by next in slot i, has exited
// and its exit is in the layout: the next slot's steering must not count
// its listeners any more. Past DrainTimeout plus DrainMargin it is
// killed.
func (s *Supervisor) awaitRetired(i int, old *os.Process, next *successor) error {
	t := time.NewTimer(s.cfg.DrainTimeout + s.cfg.DrainMargin)
	defer t.Stop()
	select {
	case <-next.oldGone:
		return nil
	case <-s.stopCh:
		return ErrStopping
	case <-t.C:
	}
	s.log.Warn("replaced worker still alive after the drain timeout: killing it", zap.Int("worker", i), zap.Int("pid", old.Pid))
	_ = old.Kill()
	select {
	case <-next.oldGone:
		return nil
	case <-s.stopCh:
		return ErrStopping
	}
}

// newWorkerCmd is the exec.Cmd of a new worker i told w. The
// replacement's is started from an unlocked goroutine: Pdeathsig then
// follows whichever pooled thread ran Start, which lives as long as the
// process (Go ends a thread only when a goroutine exits locked to it).
func (s *Supervisor) newWorkerCmd(i int, w WorkerEnv) *exec.Cmd {
	cmd := exec.Command(s.command, s.cfg.Args...)
	cmd.Env = append(append(cmd.Environ(), s.cfg.Env...), w.Environ()...)
	cmd.Stdout, cmd.Stderr = s.cfg.Stdout, s.cfg.Stderr // nil: /dev/null
	cmd.SysProcAttr = sysProcAttr()
	return cmd
}

// handOver is called by slot i's goroutine when the process it waited for
// has exited. When Replace installed a successor for that process, it
// drops the old one from the retiring list and returns the successor to
// wait for; otherwise nil.
func (s *Supervisor) handOver(i int, exited *os.Process) *successor {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.next[i]
	if next == nil {
		return nil
	}
	s.next[i] = nil
	for k, p := range s.retiring {
		if p == exited {
			s.retiring = append(s.retiring[:k], s.retiring[k+1:]...)
			break
		}
	}
	return next
}
