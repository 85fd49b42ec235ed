package supervisor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"go.uber.org/zap"
)

// Replace replaces the workers one at a time, for a new binary at the
// same path: for each slot it starts a new worker, waits until it reports
// that it listens (ReadReady), makes it the slot's process, and sends the
// old one SIGTERM, which drains it while the next slot is replaced. A slot
// whose worker is not running (between a death and its restart) is
// skipped: its restart starts the new binary anyway. On the first
// failure the new worker is killed, the old one keeps serving, and
// Replace returns the error; slots already replaced stay replaced. It
// returns ErrReplacing while another Replace runs. Any goroutine may call
// it.
func (s *Supervisor) Replace() error {
	if !s.replacing.CompareAndSwap(false, true) {
		return ErrReplacing
	}
	defer s.replacing.Store(false)
	for i := range s.cfg.Workers {
		if err := s.replaceOne(i); err != nil {
			return fmt.Errorf("worker %d: %w", i, err)
		}
	}
	return nil
}

// replaceOne replaces worker i; see Replace.
func (s *Supervisor) replaceOne(i int) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	cmd := s.newWorkerCmd(i)
	cmd.ExtraFiles = []*os.File{pw}
	w := s.env(i)
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", EnvReadyFD, ReadyFD), EnvReadyAddr+"="+w.Addr, EnvReadyAPIAddr+"="+w.APIAddr)

	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		_ = pw.Close()
		return ErrStopping
	}
	if s.procs[i] == nil {
		s.mu.Unlock()
		_ = pw.Close()
		return nil
	}
	err = cmd.Start()
	s.mu.Unlock()
	_ = pw.Close()
	if err != nil {
		return err
	}
	if _, _, err := ReadReady(pr, s.cfg.ReadyTimeout); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return err
	}

	s.mu.Lock()
	old := s.procs[i]
	if s.stopping || old == nil {
		s.mu.Unlock()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if s.stopping {
			return ErrStopping
		}
		return nil // the old one died meanwhile; its restart starts the new binary
	}
	s.next[i] = cmd
	s.retiring = append(s.retiring, old)
	s.procs[i] = cmd.Process
	s.slots[i].PID = cmd.Process.Pid
	s.slots[i].Starts++
	s.mu.Unlock()
	s.log.Info("worker replaced; draining the old one", zap.Int("worker", i), zap.Int("pid", cmd.Process.Pid), zap.Int("old_pid", old.Pid))
	if err := old.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.log.Warn("signal to the replaced worker failed", zap.Int("worker", i), zap.Error(err))
	}
	return nil
}

// newWorkerCmd is the exec.Cmd of a new worker i. The replacement's is
// started from an unlocked goroutine: Pdeathsig then follows whichever
// pooled thread ran Start, which lives as long as the process (Go ends a
// thread only when a goroutine exits locked to it).
func (s *Supervisor) newWorkerCmd(i int) *exec.Cmd {
	cmd := exec.Command(s.command, s.cfg.Args...)
	cmd.Env = append(append(cmd.Environ(), s.cfg.Env...), s.env(i).Environ()...)
	cmd.Stdout, cmd.Stderr = s.cfg.Stdout, s.cfg.Stderr // nil: /dev/null
	cmd.SysProcAttr = sysProcAttr()
	return cmd
}

// handOver is called by slot i's goroutine when the process it waited for
// has exited. When Replace installed a successor for that process, it
// drops the old one from the retiring list and returns the successor to
// wait for; otherwise nil.
func (s *Supervisor) handOver(i int, exited *os.Process) *exec.Cmd {
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
