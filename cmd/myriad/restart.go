package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/handover"
	"github.com/myriadws/myriad/internal/supervisor"
	"github.com/myriadws/myriad/server"
)

// A restarting process gives its successor the environment of a
// replacement worker (supervisor.EnvReadyFD and the addresses): the
// marker makes the new process report its readiness on the inherited
// pipe, and the resolved addresses make a restart of a server started on
// port 0 listen on the same port.

// defaultRestartTimeout is --restart-timeout's default: time for the new
// process to start, join the cluster and listen.
const defaultRestartTimeout = 30 * time.Second

// handoverGrace is how long the old process keeps serving after it
// steered new connections away: a SYN it answered just before still
// completes its handshake and its upgrade here. It covers a slow
// network's round trip; a loopback one takes microseconds.
const handoverGrace = time.Second

// errRestartBusy refuses a SIGHUP while a restart runs.
var errRestartBusy = errors.New("a restart is already in progress")

// restarter replaces this process by a new one running the same binary
// with the same arguments: see run. Its methods may be called from any
// goroutine.
type restarter struct {
	args           []string
	stdout, stderr io.Writer
	timeout        time.Duration // for the successor to become ready
	settleMax      time.Duration // bound on the wait for upgrades in flight: the handshake timeout
	srv            *server.Server
	apiAddr        func() string // resolved API address, or ""
	log            *zap.Logger

	busy       atomic.Bool
	handedOver chan struct{} // closed once the successor takes new connections
}

// newRestarter returns the restarter of a single process serving srv and
// api, started with args.
func newRestarter(o *options, args []string, stdout, stderr io.Writer, srv *server.Server, api *apiServer, log *zap.Logger) *restarter {
	return &restarter{args: args, stdout: stdout, stderr: stderr, timeout: o.restartTO, settleMax: o.cfg.HandshakeTimeout,
		srv: srv, apiAddr: api.addrOrNone, log: log, handedOver: make(chan struct{})}
}

// hangups returns the channel of the SIGHUPs that restart this process,
// and the function that stops them. A single process restarts itself
// (its listeners are SO_REUSEPORT whatever ReusePort says, so the new
// process can listen beside it). A worker's channel never receives: its
// supervisor replaces it, and a SIGHUP must not kill it.
func hangups(worker *supervisor.WorkerEnv) (<-chan os.Signal, func()) {
	if worker != nil {
		signal.Ignore(syscall.SIGHUP)
		return nil, func() {}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup, func() { signal.Stop(hup) }
}

// HandedOver is closed when a restart has handed the ports over: the
// caller drains this process and exits.
func (r *restarter) HandedOver() <-chan struct{} { return r.handedOver }

// watch restarts on every signal from hup until ctx ends. A signal while
// a restart runs, or after one succeeded, is refused with a log line.
func (r *restarter) watch(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if !r.busy.CompareAndSwap(false, true) {
			r.log.Warn("SIGHUP ignored", zap.Error(errRestartBusy))
			continue
		}
		go func() {
			if err := r.run(); err != nil {
				r.log.Error("restart failed; still serving", zap.Error(err))
				r.busy.Store(false)
				return
			}
			close(r.handedOver) // busy stays set: this process is on its way out
		}()
	}
}

// run starts the successor, waits for it to listen, steers every new
// connection to it, and lets the connections this process accepted until
// then finish their upgrade. On error the successor is stopped and this
// process keeps serving as before.
func (r *restarter) run() error {
	start := time.Now()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("own executable: %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	cmd := exec.Command(exe, r.args...)
	cmd.Env = r.successorEnv()
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Stdout, cmd.Stderr = r.stdout, r.stderr
	err = cmd.Start()
	_ = pw.Close() // only the successor writes now; its exit is our EOF
	if err != nil {
		return fmt.Errorf("start %s: %w", exe, err)
	}
	r.log.Info("restart: new process started", zap.Int("pid", cmd.Process.Pid))
	go func() { _ = cmd.Wait() }() // reap it if it dies while this process lives
	wsN, apiN, err := supervisor.ReadReady(pr, r.timeout)
	if err == nil {
		err = r.steer(wsN, apiN)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	r.settle()
	r.log.Info("restart: new process took over; draining", zap.Int("pid", cmd.Process.Pid),
		zap.Duration("took", time.Since(start).Round(time.Millisecond)))
	return nil
}

// successorEnv is this process's environment minus any restart marker it
// was started with, plus the successor's.
func (r *restarter) successorEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != supervisor.EnvReadyFD && k != supervisor.EnvReadyAddr && k != supervisor.EnvReadyAPIAddr {
			env = append(env, kv)
		}
	}
	return append(env,
		supervisor.EnvReadyFD+"="+strconv.Itoa(supervisor.ReadyFD),
		supervisor.EnvReadyAddr+"="+r.srv.Addr().String(),
		supervisor.EnvReadyAPIAddr+"="+r.apiAddr())
}

// steer attaches the handover program to the WebSocket port's group and,
// with an API listener, to the API port's.
func (r *restarter) steer(wsN, apiN int) error {
	if err := steerPort(r.srv.Addr().String(), wsN); err != nil {
		return err
	}
	if a := r.apiAddr(); a != "" && apiN > 0 {
		return steerPort(a, apiN)
	}
	return nil
}

// steerPort sends every new connection on addr's port to the successor's
// n listeners, which joined the group after this process's own.
func steerPort(addr string, n int) error {
	port, err := portOf(addr)
	if err != nil {
		return err
	}
	own, err := handover.Listeners(port)
	if err != nil {
		return err
	}
	if len(own) == 0 {
		return fmt.Errorf("restart: no listener of this process on port %d", port)
	}
	return handover.Steer(own[0], len(own), n)
}

// settle waits until the connections this process accepted before the
// steer have finished their upgrade: the grace for handshakes in flight,
// then until its accept queues are empty and no connection is between
// accept and upgrade, at most the handshake timeout. A drain would
// answer them 503.
func (r *restarter) settle() {
	time.Sleep(handoverGrace)
	port, _ := portOf(r.srv.Addr().String())
	bound := r.settleMax
	if bound <= 0 {
		bound = server.DefaultHandshakeTimeout
	}
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		st := r.srv.Stats()
		if st.Open == st.Upgraded && queuedOn(port) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// queuedOn sums the accept queues of this process's listeners on port.
func queuedOn(port int) int {
	fds, _ := handover.Listeners(port)
	total := 0
	for _, fd := range fds {
		if n, err := handover.Queued(fd); err == nil {
			total += n
		}
	}
	return total
}

// portOf is the port of a "host:port" address.
func portOf(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(p)
}
