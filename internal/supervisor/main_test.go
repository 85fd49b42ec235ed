package supervisor

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/myriadws/myriad/internal/handover"
	"github.com/myriadws/myriad/internal/reuseport"
)

// envTestMode selects what the re-executed test binary does as a worker.
const envTestMode = "MYRIAD_SUPERVISOR_TEST_MODE"

// Test workers' drain: they answer drainingLine for drainFor, as a real
// worker answers 503 while it drains, then exit. A retired worker first
// serves as usual for settleFor, as a real one finishes the upgrades it
// accepted.
const (
	drainingLine = "draining\n"
	drainFor     = 300 * time.Millisecond
	settleFor    = 100 * time.Millisecond
)

// TestMain turns the test binary into a worker when a supervisor started
// it, so the tests supervise real processes without another binary.
func TestMain(m *testing.M) {
	w, err := ParseWorkerEnv(os.Getenv)
	if err == nil {
		os.Exit(testWorker(w, os.Getenv(envTestMode)))
	}
	os.Exit(m.Run())
}

// testWorker listens with SO_REUSEPORT on the shared WebSocket and API
// addresses, one listener each, and answers every connection with one
// line: its pid, index and broker URL. A replacement attaches the
// steering program it was given, then every worker reports ready. It
// speaks the steering protocol: SIGTERM drains it (drainingLine for
// drainFor, then exit 0), SignalRetire does the same after settleFor,
// SignalUnsteer hands the ports back to the kernel. Mode "crash" exits 3
// at once; mode "stubborn" ignores SIGTERM; mode "no-successor" makes a
// replacement exit 4 instead of reporting ready.
func testWorker(w WorkerEnv, mode string) int {
	switch mode {
	case "crash":
		return 3
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, SignalRetire, SignalUnsteer)
	if mode != "stubborn" {
		signal.Notify(sigs, syscall.SIGTERM)
	}
	var draining atomic.Bool
	var lns []net.Listener
	for _, addr := range []string{w.Addr, w.APIAddr} {
		if addr == "" {
			continue
		}
		ln, err := reuseport.Listen(context.Background(), "tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "test worker:", err)
			return 2
		}
		lns = append(lns, ln)
		go answer(ln, fmt.Sprintf("%d %d %s\n", os.Getpid(), w.Index, w.Broker), &draining)
	}
	if w.Replaces != 0 && mode == "wide" {
		ln, err := reuseport.Listen(context.Background(), "tcp", w.Addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "test worker:", err)
			return 2
		}
		defer ln.Close()
		go answer(ln, fmt.Sprintf("%d %d %s\n", os.Getpid(), w.Index, w.Broker), &draining)
	}
	if w.Replaces != 0 && mode == "no-successor" {
		return 4 // a replacement that never comes up
	}
	wsN := 1
	if w.Replaces != 0 && mode == "wide" {
		wsN = 2
	}
	mark := ""
	if w.Steer.Set() && w.Steer.WS.Len == wsN {
		if err := testSteer(w.Steer, lns); err != nil {
			fmt.Fprintln(os.Stderr, "test worker:", err)
			return 5
		}
		mark = " " + SteeredMark
	}
	ready := os.NewFile(ReadyFD, "ready")
	fmt.Fprintf(ready, "ready %d %d%s\n", wsN, len(lns)-1, mark)
	_ = ready.Close()
	for sig := range sigs {
		switch sig {
		case SignalUnsteer:
			for _, ln := range lns {
				_ = handover.Unsteer(listenerFD(ln))
			}
			continue
		case SignalRetire:
			time.Sleep(settleFor)
		}
		break
	}
	draining.Store(true)
	time.Sleep(drainFor)
	for _, ln := range lns {
		_ = ln.Close()
	}
	return 0
}

// testSteer attaches s to the groups of lns (WebSocket, then API).
func testSteer(s Steering, lns []net.Listener) error {
	if !s.Set() {
		return nil
	}
	for i, k := range []Skip{s.WS, s.API} {
		if k.Len == 0 {
			continue
		}
		if k.Len != 1 || i >= len(lns) {
			return fmt.Errorf("steering %s does not fit one listener per port", s)
		}
		if err := handover.SteerAround(listenerFD(lns[i]), k.First, k.Len, k.Total); err != nil {
			return err
		}
	}
	return nil
}

// listenerFD is ln's descriptor.
func listenerFD(ln net.Listener) int {
	sc, err := ln.(syscall.Conn).SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = sc.Control(func(u uintptr) { fd = int(u) })
	return fd
}

func answer(ln net.Listener, line string, draining *atomic.Bool) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if draining != nil && draining.Load() {
			_, _ = c.Write([]byte(drainingLine))
		} else {
			_, _ = c.Write([]byte(line))
		}
		_ = c.Close()
	}
}

// pidOf reads the pid of an answer line, 0 for drainingLine.
func pidOf(line string) int {
	for i := 0; i < len(line); i++ {
		if line[i] == ' ' {
			p, _ := strconv.Atoi(line[:i])
			return p
		}
	}
	return 0
}
