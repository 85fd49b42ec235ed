package supervisor

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

// testConfig supervises n copies of the test binary as workers.
func testConfig(n int, mode string) Config {
	return Config{
		Workers:      n,
		Addr:         "127.0.0.1:0",
		APIAddr:      "127.0.0.1:0",
		Command:      os.Args[0],
		Env:          []string{envTestMode + "=" + mode},
		Stderr:       os.Stderr,
		RestartMin:   time.Millisecond,
		RestartMax:   10 * time.Millisecond,
		DrainTimeout: 5 * time.Second,
		DrainMargin:  time.Second,
		Steer:        true,
	}
}

func startSupervisor(t *testing.T, cfg Config) *Supervisor {
	t.Helper()
	s, err := Start(cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		s.Stop(syscall.SIGKILL)
		<-s.Done()
	})
	return s
}

// ask dials addr and returns the answering worker's pid, index and broker.
func ask(addr string) (pid, index int, brokerURL string, err error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return 0, 0, "", err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0, 0, "", err
	}
	f := strings.Fields(line)
	if len(f) != 3 {
		return 0, 0, "", fmt.Errorf("bad answer %q", line)
	}
	pid, _ = strconv.Atoi(f[0])
	index, _ = strconv.Atoi(f[1])
	return pid, index, f[2], nil
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// answeredBy polls addr with new connections until every pid in want has
// answered; SO_REUSEPORT picks a listener by hashing the connection.
func answeredBy(t *testing.T, s *Supervisor, addr string, want ...int) {
	t.Helper()
	seen := map[int]bool{}
	eventually(t, fmt.Sprintf("answers from pids %v on %s", want, addr), func() bool {
		pid, _, brk, err := ask(addr)
		if err != nil {
			return false
		}
		if brk != s.BrokerURL() {
			t.Fatalf("worker %d was told broker %q, want %q", pid, brk, s.BrokerURL())
		}
		seen[pid] = true
		for _, p := range want {
			if !seen[p] {
				return false
			}
		}
		return true
	})
}

func pids(s *Supervisor) []int {
	var out []int
	for _, w := range s.Workers() {
		out = append(out, w.PID)
	}
	return out
}

// allRunning reports whether every slot's worker runs and reported ready.
func allRunning(s *Supervisor) bool {
	for _, w := range s.Workers() {
		if w.PID == 0 || !w.Ready {
			return false
		}
	}
	return true
}

func TestKilledWorkerIsRestartedAndPortKeepsAccepting(t *testing.T) {
	s := startSupervisor(t, testConfig(2, "serve"))
	if strings.HasSuffix(s.Addr(), ":0") || strings.HasSuffix(s.APIAddr(), ":0") {
		t.Fatalf("ports not resolved: %s %s", s.Addr(), s.APIAddr())
	}
	eventually(t, "both workers running", func() bool { return allRunning(s) })
	before := pids(s)
	answeredBy(t, s, s.Addr(), before...)
	answeredBy(t, s, s.APIAddr(), before...)

	if err := syscall.Kill(before[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "worker 0 restarted", func() bool {
		w := s.Workers()[0]
		return w.PID != 0 && w.PID != before[0] && w.Starts == 2
	})
	w0 := s.Workers()[0]
	if w0.LastExit != "signal killed" {
		t.Fatalf("LastExit = %q, want the SIGKILL", w0.LastExit)
	}
	if s.Workers()[1].PID != before[1] || s.Workers()[1].Starts != 1 {
		t.Fatalf("worker 1 was disturbed: %+v", s.Workers()[1])
	}
	answeredBy(t, s, s.Addr(), w0.PID, before[1])
	answeredBy(t, s, s.APIAddr(), w0.PID, before[1])
}

func TestStopEndsEveryWorker(t *testing.T) {
	cases := []struct {
		name, mode, exit string
	}{
		{"workers drain on SIGTERM", "serve", "exit status 0"},
		{"stubborn workers are killed after the drain bound", "stubborn", "signal killed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(3, tc.mode)
			cfg.DrainTimeout, cfg.DrainMargin = time.Millisecond, time.Millisecond
			if tc.mode == "serve" {
				cfg.DrainTimeout = 10 * time.Second
			}
			s := startSupervisor(t, cfg)
			eventually(t, "workers running", func() bool { return allRunning(s) })
			running := pids(s)
			answeredBy(t, s, s.Addr(), running...)
			s.Stop(syscall.SIGTERM)
			if err := s.Wait(); err != nil {
				t.Fatalf("Wait after Stop: %v", err)
			}
			for _, w := range s.Workers() {
				if w.PID != 0 || w.LastExit != tc.exit || w.Starts != 1 {
					t.Fatalf("worker after Stop: %+v, want exit %q", w, tc.exit)
				}
			}
			for _, pid := range running {
				if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
					t.Fatalf("worker %d still exists: %v", pid, err)
				}
			}
			if _, _, _, err := ask(s.Addr()); err == nil {
				t.Fatal("the port still answers after Stop")
			}
		})
	}
}

func TestCrashLoopGivesUp(t *testing.T) {
	cfg := testConfig(2, "crash")
	cfg.MaxCrashes = 3
	s := startSupervisor(t, cfg)
	err := s.Wait()
	if !errors.Is(err, ErrCrashLoop) {
		t.Fatalf("Wait = %v, want ErrCrashLoop", err)
	}
	for _, w := range s.Workers() {
		if w.PID != 0 {
			t.Fatalf("worker still running after the give-up: %+v", w)
		}
	}
	if w := s.Workers(); w[0].LastExit != "exit status 3" && w[1].LastExit != "exit status 3" {
		t.Fatalf("exits %+v", w)
	}
}

// TestDerivedWorkerCountStartsThem asks for Workers 0, a connection
// target and a descriptor limit, and checks that the count WorkerCount
// derives is the number of workers actually started, each with its share.
func TestDerivedWorkerCountStartsThem(t *testing.T) {
	cases := []struct {
		name          string
		maxConns      int
		nofile        uint64
		wantWorkers   int
		wantPerWorker int
	}{
		{"target under one worker's limit", 500, 1100, 1, 500},
		{"target needing three workers", 2500, 1100, 3, 834},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(0, "serve")
			cfg.MaxConns, cfg.NoFile = tc.maxConns, tc.nofile
			s := startSupervisor(t, cfg)
			if got := len(s.Workers()); got != tc.wantWorkers {
				t.Fatalf("%d worker slots, want %d", got, tc.wantWorkers)
			}
			eventually(t, "every worker running", func() bool { return allRunning(s) })
			answeredBy(t, s, s.Addr(), pids(s)...)
			if s.perConns != tc.wantPerWorker {
				t.Errorf("%d connections per worker, want %d", s.perConns, tc.wantPerWorker)
			}
		})
	}
}
