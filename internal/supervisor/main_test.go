package supervisor

import (
	"context"
	"fmt"
	"github.com/myriadws/myriad/internal/reuseport"
	"net"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// envTestMode selects what the re-executed test binary does as a worker.
const envTestMode = "MYRIAD_SUPERVISOR_TEST_MODE"

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
// addresses and answers every connection with one line: its pid, index
// and broker URL. A replacement (Supervisor.Replace) then reports ready.
// SIGTERM ends it with status 0. Mode "crash" exits 3 at once; mode
// "stubborn" ignores SIGTERM; mode "no-successor" makes a replacement exit
// 4 instead of reporting ready.
func testWorker(w WorkerEnv, mode string) int {
	switch mode {
	case "crash":
		return 3
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
	}
	term := make(chan os.Signal, 1)
	if mode != "stubborn" {
		signal.Notify(term, syscall.SIGTERM)
	}
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
		go answer(ln, fmt.Sprintf("%d %d %s\n", os.Getpid(), w.Index, w.Broker))
	}
	if os.Getenv(EnvReadyFD) != "" {
		if mode == "no-successor" {
			return 4 // a replacement that never comes up
		}
		ready := os.NewFile(ReadyFD, "ready")
		fmt.Fprintf(ready, "ready 1 %d\n", len(lns)-1)
		_ = ready.Close()
	}
	<-term
	for _, ln := range lns {
		_ = ln.Close()
	}
	return 0
}

func answer(ln net.Listener, line string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = c.Write([]byte(line))
		_ = c.Close()
	}
}
