package supervisor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// runSlot keeps worker i running until Stop or a crash loop. It stays
// locked to its OS thread because Pdeathsig is tied to the thread that
// started the child.
func (s *Supervisor) runSlot(i int) {
	defer s.wg.Done()
	runtime.LockOSThread()
	var deaths []time.Time
	delay := s.cfg.RestartMin
	for {
		started := time.Now()
		exit, ok := s.runOnce(i)
		if !ok {
			return
		}
		now := time.Now()
		if now.Sub(started) >= s.cfg.CrashWindow {
			delay = s.cfg.RestartMin // it ran well for a while: start afresh
		}
		deaths = append(recent(deaths, now.Add(-s.cfg.CrashWindow)), now)
		s.log.Warn("worker died", zap.Int("worker", i), zap.String("exit", exit), zap.Duration("restart_in", delay))
		if len(deaths) > s.cfg.MaxCrashes {
			s.giveUp(i, exit, len(deaths))
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.stopCh:
			t.Stop()
			return
		}
		delay = min(delay*2, s.cfg.RestartMax)
	}
}

// runOnce starts worker i and waits for it. It returns how the process
// ended, and false when the supervisor is stopping (nothing was started,
// or the process ended because of Stop).
func (s *Supervisor) runOnce(i int) (exit string, ok bool) {
	cmd := s.newWorkerCmd(i, s.env(i))
	started := time.Now()
	exit, err := s.join(i, cmd, func(p *os.Process) {
		s.procs[i] = p
		s.slots[i].PID = p.Pid
		s.slots[i].Starts++
	})
	if errors.Is(err, ErrStopping) {
		return "", false
	}
	if err == nil {
		s.mu.Lock()
		s.slots[i].Ready = true
		s.mu.Unlock()
		exit = s.waitSlot(i, cmd, started)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slots[i].Ready = false
	if cmd.Process == nil {
		s.slots[i].Starts++ // a failed start counts as one
	}
	s.procs[i] = nil
	s.slots[i].PID = 0
	s.slots[i].LastExit = exit
	if err != nil && cmd.Process != nil && !s.stopping {
		s.log.Warn("worker did not report ready", zap.Int("worker", i), zap.Error(err))
	}
	return exit, !s.stopping
}

// waitSlot waits for slot i's process cmd, started at since, and for
// every successor Replace installs for it meanwhile, and returns how the
// last one ended. Each exit goes into the layout before Replace learns
// of it, so Replace steers its next slot by the layout after the exit.
func (s *Supervisor) waitSlot(i int, cmd *exec.Cmd, since time.Time) string {
	for {
		exit := describeExit(cmd.Wait())
		next := s.handOver(i, cmd.Process)
		if next != nil && next.retired.After(since) {
			since = next.retired // it closed nothing before it was told to leave
		}
		s.exited(cmd.Process.Pid, since)
		if next == nil {
			return exit
		}
		close(next.oldGone)
		s.log.Info("replaced worker exited", zap.Int("worker", i), zap.String("exit", exit))
		cmd, since = next.cmd, next.started
	}
}

// giveUp records a crash loop and stops the other workers.
func (s *Supervisor) giveUp(i int, exit string, deaths int) {
	s.log.Error("worker keeps dying: stopping", zap.Int("worker", i), zap.Int("deaths", deaths),
		zap.Duration("window", s.cfg.CrashWindow), zap.String("exit", exit))
	s.mu.Lock()
	if s.err == nil {
		s.err = fmt.Errorf("%w: worker %d died %d times within %v, last %s", ErrCrashLoop, i, deaths, s.cfg.CrashWindow, exit)
	}
	s.mu.Unlock()
	s.Stop(syscall.SIGTERM)
}

// recent drops the times before since; times are in order.
func recent(times []time.Time, since time.Time) []time.Time {
	k := 0
	for k < len(times) && times[k].Before(since) {
		k++
	}
	return append(times[:0], times[k:]...)
}

// describeExit renders a Wait result for logs and WorkerStatus.
func describeExit(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "signal " + ws.Signal().String()
		}
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	if err != nil {
		return err.Error()
	}
	return "exit status 0"
}
