package supervisor

import (
	"errors"
	"fmt"
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
	cmd := s.newWorkerCmd(i)

	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return "", false
	}
	err := cmd.Start()
	s.slots[i].Starts++
	if err != nil {
		s.slots[i].LastExit = "start: " + err.Error()
		s.mu.Unlock()
		return "start: " + err.Error(), true
	}
	s.procs[i] = cmd.Process
	s.slots[i].PID = cmd.Process.Pid
	s.mu.Unlock()

	exit = describeExit(cmd.Wait())
	for next := s.handOver(i, cmd.Process); next != nil; next = s.handOver(i, cmd.Process) {
		s.log.Info("replaced worker exited", zap.Int("worker", i), zap.String("exit", exit))
		cmd = next
		exit = describeExit(cmd.Wait())
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs[i] = nil
	s.slots[i].PID = 0
	s.slots[i].LastExit = exit
	return exit, !s.stopping
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
