package supervisor

import (
	"fmt"
	"os"
	"os/exec"
	"time"

	"go.uber.org/zap"
)

// join starts cmd as worker i and waits until it reports that it listens
// (ReadReady), as the only worker joining the ports' groups meanwhile:
// it holds joinMu throughout, so each worker's listeners form one block
// (see layout). onStart runs under s.mu right after the start. On
// success the worker's block is appended to the layout. When the worker
// does not report ready (it exited, stayed silent past ReadyTimeout, or
// wrote something else) it is killed and reaped before joinMu is
// released, so its listeners, the groups' last members, are gone before
// anyone else joins; join then returns how it ended and the error.
// ErrStopping means nothing was started.
func (s *Supervisor) join(i int, cmd *exec.Cmd, onStart func(*os.Process)) (exit string, err error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer pr.Close()
	w := s.env(i)
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", EnvReadyFD, ReadyFD), EnvReadyAddr+"="+w.Addr, EnvReadyAPIAddr+"="+w.APIAddr)

	s.joinMu.Lock()
	defer s.joinMu.Unlock()
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		_ = pw.Close()
		return "", ErrStopping
	}
	started := time.Now()
	err = cmd.Start()
	if err == nil {
		s.layout.joinStarted(cmd.Process.Pid)
		onStart(cmd.Process)
	}
	s.mu.Unlock()
	_ = pw.Close() // only the worker writes now; its exit is our EOF
	if err != nil {
		return "start: " + err.Error(), err
	}
	r, err := readReady(pr, s.cfg.ReadyTimeout)
	if err != nil {
		_ = cmd.Process.Kill()
		exit = describeExit(cmd.Wait())
		s.mu.Lock()
		now := time.Now()
		s.layout.joinFailed(now)
		s.layout.exited(cmd.Process.Pid, started, now)
		s.mu.Unlock()
		return exit, err
	}
	s.mu.Lock()
	s.layout.joined(block{pid: cmd.Process.Pid, ws: r.ws, api: r.api, steered: r.steered}, time.Now())
	s.mu.Unlock()
	return "", nil
}

// exited records in the layout that pid, which could not close a
// listener before since, has been reaped.
func (s *Supervisor) exited(pid int, since time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.layout.known()
	s.layout.exited(pid, since, time.Now())
	if was && !s.layout.known() && !s.stopping { // workers stopping together lose it harmlessly
		s.log.Warn("worker order in the port's listener group lost: replacements will not steer new connections away from draining workers",
			zap.String("reason", s.layout.unknown))
	}
}
