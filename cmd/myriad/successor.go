package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/handover"
	"github.com/myriadws/myriad/internal/supervisor"
	"github.com/myriadws/myriad/server"
)

// restartEnv is what a process started by a restart, or a worker started
// by Supervisor.Replace, is told; nil for a process started any other
// way.
type restartEnv struct {
	fd      int
	addr    string
	apiAddr string
}

// readRestartEnv reads the restart marker. A marker with a bad descriptor
// is an error: the process would never report back.
func readRestartEnv(env func(string) (string, bool)) (*restartEnv, error) {
	v, ok := env(supervisor.EnvReadyFD)
	if !ok {
		return nil, nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("invalid %s=%q", supervisor.EnvReadyFD, v)
	}
	re := &restartEnv{fd: fd}
	re.addr, _ = env(supervisor.EnvReadyAddr)
	re.apiAddr, _ = env(supervisor.EnvReadyAPIAddr)
	if re.addr == "" {
		return nil, fmt.Errorf("%s without %s", supervisor.EnvReadyFD, supervisor.EnvReadyAddr)
	}
	return re, nil
}

// apply makes o listen where the process it replaces listens, sharing
// its ports on purpose.
func (re *restartEnv) apply(o *options) {
	o.cfg.Addr = re.addr
	o.gw.apiAddr = re.apiAddr
	o.cfg.ReusePort = true
}

// announceReady tells everyone waiting for this process that it serves:
// the process that started it for a restart, or its supervisor, gets its
// readiness line first (marked when steerOnStart steered), then the pid file names it and systemd (under Type=notify)
// learns it is ready and the service's main process. A successor whose
// line cannot be written was given up on (its starter is killing it), so
// it claims neither the pid file nor the main process. Other failures
// are logged: the process serves either way.
func announceReady(pidFile string, re *restartEnv, steered bool, srv *server.Server, api *apiServer, log *zap.Logger) {
	if re != nil {
		f := os.NewFile(uintptr(re.fd), "restart")
		wsN, apiN := countListeners(srv.Addr().String()), 0
		if api != nil {
			apiN = countListeners(api.addr())
		}
		mark := ""
		if steered {
			mark = " " + supervisor.SteeredMark
		}
		_, err := fmt.Fprintf(f, "ready %d %d%s\n", wsN, apiN, mark)
		_ = f.Close()
		if err != nil {
			log.Error("restart: readiness not sent; the old process gave up on this one", zap.Error(err))
			return
		}
	}
	if pidFile != "" {
		if err := writePIDFile(pidFile); err != nil {
			log.Error("pid file", zap.String("path", pidFile), zap.Error(err))
		}
	}
	if err := notifySystemd(fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid())); err != nil {
		log.Warn("systemd notification failed", zap.Error(err))
	}
}

// countListeners is how many listeners this process has on addr's port.
func countListeners(addr string) int {
	port, err := portOf(addr)
	if err != nil {
		return 0
	}
	fds, _ := handover.Listeners(port)
	return len(fds)
}

// writePIDFile writes this process's id to path, replacing the file in
// one step so a reader never sees it half written.
func writePIDFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".myriad-pid-*")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(tmp, "%d\n", os.Getpid())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// readPIDFile returns the process id path holds.
func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s holds %q, not a process id", path, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

// removePIDFile removes path if it still names this process: after a
// restart it names the successor, which must keep it.
func removePIDFile(path string) {
	if pid, err := readPIDFile(path); err == nil && pid == os.Getpid() {
		_ = os.Remove(path)
	}
}

// notifySystemd sends state to the socket systemd names in NOTIFY_SOCKET
// (sd_notify); without one it does nothing. A restart's successor sends
// MAINPID= from a process that is not yet the main one, which systemd
// accepts only with NotifyAccess=all.
func notifySystemd(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if strings.HasPrefix(path, "@") {
		path = "\x00" + path[1:] // abstract namespace
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}
