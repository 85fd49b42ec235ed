package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// startTimeout bounds how long a server may take to listen.
const startTimeout = 15 * time.Second

// stopGrace is how long a server has to exit after SIGTERM before it is
// killed.
const stopGrace = 3 * time.Second

// Errors of a server process.
var (
	ErrExited = errors.New("server exited before listening")
	ErrDied   = errors.New("server exited during the run")
)

// server is one running server process.
type server struct {
	name    string
	ws, api string // listen addresses
	pid     int
	cmd     *exec.Cmd
	log     string // path of its stdout and stderr
	exited  chan struct{}
}

// startServer starts name on fresh loopback ports, with its output in a
// log file in dir, and returns once both its listeners accept.
func startServer(ctx context.Context, dir, name string, seq int) (*server, error) {
	ws, err := freeAddr()
	if err != nil {
		return nil, err
	}
	api, err := freeAddr()
	if err != nil {
		return nil, err
	}
	sp := spec(name)
	logPath := filepath.Join(dir, fmt.Sprintf("%03d-%s.log", seq, name))
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child has its own descriptor
	cmd := exec.Command(filepath.Join(dir, sp.bin), sp.args(ws, api)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: name, ws: ws, api: api, pid: cmd.Process.Pid, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	for _, addr := range []string{ws, api} {
		if err := s.awaitListening(ctx, addr); err != nil {
			s.stop()
			return nil, fmt.Errorf("%s: %w (log: %s)", name, err, logPath)
		}
	}
	return s, nil
}

// awaitListening polls addr until a TCP connection succeeds.
func (s *server) awaitListening(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-s.exited:
			return ErrExited
		case <-ctx.Done():
			return fmt.Errorf("not listening on %s: %w", addr, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop ends the server: SIGTERM, then SIGKILL after stopGrace. It waits
// for the process to be gone.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return
	case <-time.After(stopGrace):
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// freeAddr returns a loopback address with a port nobody listens on now.
// Another process could take it before the server does; the server then
// fails to listen and the measurement reports it.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
