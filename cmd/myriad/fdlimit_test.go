package main

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// childEnv makes the test binary run the real command instead of the
// tests (see TestMain), so a test can start it as a child process with
// its own descriptor limit.
const childEnv = "MYRIAD_TEST_RUN_AS_COMMAND"

// child is the myriad command running in a child process.
type child struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	code   int
}

// startChild runs the command under `prlimit --nofile=nofile:nofile`.
func startChild(t *testing.T, nofile int, args ...string) *child {
	t.Helper()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatalf("prlimit (util-linux) is needed to lower the child's descriptor limit: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	n := strconv.Itoa(nofile)
	ch := &child{stderr: &syncBuffer{}, exited: make(chan struct{})}
	ch.cmd = exec.Command(prlimit, append([]string{"--nofile=" + n + ":" + n, self}, args...)...)
	ch.cmd.Env = append(os.Environ(), childEnv+"=1")
	ch.cmd.Stderr = ch.stderr
	if err := ch.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = ch.cmd.Wait()
		ch.code = ch.cmd.ProcessState.ExitCode()
		close(ch.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-ch.exited:
		default:
			_ = ch.cmd.Process.Kill()
			<-ch.exited
		}
	})
	return ch
}

func (ch *child) alive() bool {
	select {
	case <-ch.exited:
		return false
	default:
		return true
	}
}

// flood opens n TCP connections to addr that never send a byte, as an
// attacker exhausting descriptors would, and returns those that connected.
func flood(addr string, n int) []*net.TCPConn {
	var (
		mu    sync.Mutex
		conns []*net.TCPConn
		wg    sync.WaitGroup
	)
	const workers = 8
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					continue
				}
				mu.Lock()
				conns = append(conns, c.(*net.TCPConn))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return conns
}

func echoOnce(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("write %q: %v", msg, err)
	}
	if _, got, err := c.ReadMessage(); err != nil || string(got) != msg {
		t.Fatalf("echo of %q: got %q, %v", msg, got, err)
	}
}

// TestDescriptorFlood runs the real binary with a low descriptor limit
// and opens three times as many idle TCP connections as it may hold. The
// server must shed the excess at accept, keep serving the connections it
// had, upgrade a fresh one once the flood is closed, and never exit.
func TestDescriptorFlood(t *testing.T) {
	const nofile = 512
	addr := freePort(t)
	ch := startChild(t, nofile, "--addr", addr, "--api-addr=", "--loops", "2", "--drain-timeout", "1s", "--log-level", "info")
	var held []*websocket.Conn
	for i := range 4 {
		c := dialRetry(t, "ws://"+addr+"/echo")
		defer c.Close()
		echoOnce(t, c, "before "+strconv.Itoa(i))
		held = append(held, c)
	}

	conns := flood(addr, 3*nofile)
	if !ch.alive() {
		t.Fatalf("server exited with %d during the flood; stderr:\n%s", ch.code, ch.stderr.String())
	}
	if len(conns) < nofile {
		t.Fatalf("only %d of %d flood connections connected: the test did not reach the limit", len(conns), 3*nofile)
	}
	for i, c := range held {
		echoOnce(t, c, "during "+strconv.Itoa(i))
	}
	// While the flood holds every free slot, a fresh client is shed like
	// any other connection past the cap; once the attacker lets go, the
	// server must take clients again.
	for _, c := range conns {
		_ = c.Close()
	}
	fresh := dialRetry(t, "ws://"+addr+"/echo")
	defer fresh.Close()
	echoOnce(t, fresh, "fresh")

	logs := ch.stderr.String()
	if !ch.alive() {
		t.Fatalf("server exited with %d; stderr:\n%s", ch.code, logs)
	}
	if strings.Contains(logs, "too many open files") {
		t.Fatalf("the server ran out of descriptors:\n%s", logs)
	}
	if !strings.Contains(logs, "shedding connections over max-conns") {
		t.Fatalf("no rate-limited shed line in the log:\n%s", logs)
	}
	_ = ch.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-ch.exited:
		if ch.code != 0 {
			t.Fatalf("exit code %d after SIGTERM, want 0", ch.code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit after SIGTERM")
	}
}

// TestEngineFailureExitsNonZero removes the connection cap so that a
// flood does reach EMFILE, which makes gnet stop its engine: the command
// must then exit non-zero, so that a supervisor restarts it, not 0 as
// after a requested stop.
func TestEngineFailureExitsNonZero(t *testing.T) {
	const nofile = 256
	addr := freePort(t)
	ch := startChild(t, nofile, "--addr", addr, "--api-addr=", "--loops", "1", "--max-conns", "-1", "--log-level", "warn")
	c := dialRetry(t, "ws://"+addr+"/echo")
	defer c.Close()
	conns := flood(addr, 2*nofile)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	select {
	case <-ch.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("the server neither stopped nor shed; stderr:\n%s", ch.stderr.String())
	}
	if ch.code == 0 {
		t.Fatalf("exit code 0 after the engine stopped on its own; stderr:\n%s", ch.stderr.String())
	}
}
