package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// migrateSysctl lets a closing listener hand its queued connections to
// another listener of its SO_REUSEPORT group instead of resetting them.
const migrateSysctl = "/proc/sys/net/ipv4/tcp_migrate_req"

// enableMigrate sets net.ipv4.tcp_migrate_req=1 for the test, as the
// README asks of a host that restarts, and restores it afterwards. It
// fails the test where the sysctl cannot be set: without it the old
// process's last listeners close with a possible connection in their
// queues, and a zero-failure check would not be honest.
func enableMigrate(t *testing.T) {
	t.Helper()
	old, err := os.ReadFile(migrateSysctl)
	if err != nil {
		t.Fatalf("%s: %v (Linux 5.14 or later is needed)", migrateSysctl, err)
	}
	if strings.TrimSpace(string(old)) == "1" {
		return
	}
	if err := os.WriteFile(migrateSysctl, []byte("1\n"), 0o644); err != nil {
		t.Fatalf("set %s: %v", migrateSysctl, err)
	}
	t.Cleanup(func() { _ = os.WriteFile(migrateSysctl, old, 0o644) })
}

// processNode is the myriad command as a real process (this test binary
// running main), so that it can restart itself.
type processNode struct {
	addr, apiAddr, pidFile, logPath string
	cmd                             *exec.Cmd
	exited                          chan struct{}
	waitErr                         error
}

func startProcess(t *testing.T, args ...string) *processNode {
	t.Helper()
	dir := t.TempDir()
	n := &processNode{addr: freePort(t), apiAddr: freePort(t), pidFile: filepath.Join(dir, "myriad.pid"),
		logPath: filepath.Join(dir, "myriad.log"), exited: make(chan struct{})}
	logf, err := os.Create(n.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	args = append([]string{"--addr", n.addr, "--api-addr", n.apiAddr, "--pid-file", n.pidFile, "--log-level", "info"}, args...)
	n.cmd = exec.Command(os.Args[0], args...)
	n.cmd.Env = append(os.Environ(), childEnv+"=1")
	n.cmd.Stdout, n.cmd.Stderr = logf, logf // files: Wait does not wait for a successor holding them
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.waitErr = n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(func() { n.stopAll(t) })
	eventually(t, "the pid file", func() bool { pid, _ := readPIDFile(n.pidFile); return pid == n.cmd.Process.Pid })
	return n
}

// stopAll stops the first process and whichever process the pid file
// names now, and waits until both are gone.
func (n *processNode) stopAll(t *testing.T) {
	if pid, err := readPIDFile(n.pidFile); err == nil && pid != n.cmd.Process.Pid {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		eventually(t, "the new process to exit", func() bool { return gone(pid) })
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(ioWait):
		_ = n.cmd.Process.Kill()
		t.Error("first process did not exit")
	}
	if t.Failed() {
		b, _ := os.ReadFile(n.logPath)
		t.Logf("log:\n%s", b)
	}
}

// gone reports whether pid has exited: no such process, or a zombie no
// one reaps yet (its parent, the first process, is gone).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}

func (n *processNode) log() string {
	b, _ := os.ReadFile(n.logPath)
	return string(b)
}

func (n *processNode) status(path string) int {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + n.apiAddr + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// churn dials and upgrades on url from one goroutine until stopped,
// counting upgrades and failures: a refused connection, a reset, or any
// answer but 101.
type churn struct {
	upgrades, failures atomic.Int64
	mu                 sync.Mutex
	errs               []string
	stop               chan struct{}
	done               chan struct{}
}

func startChurn(url string) *churn {
	c := &churn{stop: make(chan struct{}), done: make(chan struct{})}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	go func() {
		defer close(c.done)
		for {
			select {
			case <-c.stop:
				return
			default:
			}
			conn, resp, err := d.Dial(url, nil)
			if err != nil {
				c.failures.Add(1)
				c.mu.Lock()
				if len(c.errs) < 5 {
					status := 0
					if resp != nil {
						status = resp.StatusCode
					}
					c.errs = append(c.errs, fmt.Sprintf("%v (status %d)", err, status))
				}
				c.mu.Unlock()
				continue
			}
			c.upgrades.Add(1)
			_ = conn.Close()
		}
	}()
	return c
}

func (c *churn) end() {
	close(c.stop)
	<-c.done
}

// heldClient is a subscriber connected before the restart: it records
// the messages it receives and how its connection ended.
type heldClient struct {
	mu   sync.Mutex
	data []string
	err  error
	done chan struct{}
}

func holdClient(c *websocket.Conn) *heldClient {
	h := &heldClient{done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for {
			_ = c.SetReadDeadline(time.Now().Add(ioWait))
			var m struct {
				Type string          `json:"type"`
				Data json.RawMessage `json:"data"`
			}
			err := c.ReadJSON(&m)
			h.mu.Lock()
			if err != nil {
				h.err = err
				h.mu.Unlock()
				return
			}
			if m.Type == "message" {
				h.data = append(h.data, string(m.Data))
			}
			h.mu.Unlock()
		}
	}()
	return h
}

func (h *heldClient) got(data string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.data {
		if d == data {
			return true
		}
	}
	return false
}

// TestRestartOnSIGHUP restarts a real process with `myriad restart`
// while a client keeps dialling and upgrading: no attempt fails, upgrades
// happen while the old process drains, a client connected before gets a
// publish answered just before the signal and then Close 1001 from the
// old process, a second SIGHUP during the restart is refused, the old
// process exits 0 and the new one is ready on the same ports.
func TestRestartOnSIGHUP(t *testing.T) {
	enableMigrate(t)
	n := startProcess(t, "--drain-timeout", "2s", "--loops", "2")
	oldPID := n.cmd.Process.Pid
	eventually(t, "readiness", func() bool { return n.status("/readyz") == http.StatusOK })

	held := holdClient(dialRetry(t, "ws://"+n.addr+"/ws?topics=room"))
	k := 0
	eventually(t, "the held client receiving", func() bool {
		apiPublish(t, n.apiAddr, "room", strconv.Itoa(k))
		k++
		return held.got("0")
	})
	ch := startChurn("ws://" + n.addr + "/echo")
	eventually(t, "churn upgrades", func() bool { return ch.upgrades.Load() > 20 })

	apiPublish(t, n.apiAddr, "room", `"before"`)
	restarted := make(chan int, 1)
	var out, errOut syncBuffer
	go func() {
		restarted <- run(context.Background(), []string{"restart", "--pid-file", n.pidFile}, envFrom(nil), &out, &errOut, nil)
	}()
	eventually(t, "the new process to start", func() bool { return strings.Contains(n.log(), "restart: new process started") })
	_ = n.cmd.Process.Signal(syscall.SIGHUP)
	atHUP := ch.upgrades.Load()
	select {
	case code := <-restarted:
		if code != 0 {
			t.Fatalf("myriad restart: exit %d: %s", code, errOut.String())
		}
	case <-time.After(ioWait):
		t.Fatal("myriad restart did not return")
	}
	select {
	case <-n.exited:
	case <-time.After(ioWait):
		t.Fatal("old process did not exit after its drain")
	}
	atExit := ch.upgrades.Load()
	if n.waitErr != nil {
		t.Errorf("old process: %v, want exit status 0", n.waitErr)
	}
	newPID, err := readPIDFile(n.pidFile)
	if err != nil || newPID == oldPID {
		t.Fatalf("pid file names %d (%v), want the new process, not %d", newPID, err, oldPID)
	}
	eventually(t, "the new process ready on the API port", func() bool { return n.status("/readyz") == http.StatusOK })
	eventually(t, "churn upgrades on the new process", func() bool { return ch.upgrades.Load() > atExit+20 })
	ch.end()

	if f := ch.failures.Load(); f != 0 {
		t.Errorf("%d of %d connection attempts failed across the restart; first: %v", f, f+ch.upgrades.Load(), ch.errs)
	}
	if atExit == atHUP {
		t.Error("no upgrade happened between SIGHUP and the old process's exit: the churn did not cover the handover")
	}
	<-held.done
	if !held.got(`"before"`) {
		t.Errorf("held client got %v, not the publish made before the restart", held.data)
	}
	var ce *websocket.CloseError
	if !errors.As(held.err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("held client ended with %v, want close 1001 from the drain", held.err)
	}
	log := n.log()
	for _, want := range []string{"SIGHUP ignored", "new process took over", `"pid":` + strconv.Itoa(newPID)} {
		if !strings.Contains(log, want) {
			t.Errorf("log does not mention %s", want)
		}
	}
	t.Logf("%d upgrades, %d during the handover, 0 failures", ch.upgrades.Load(), atExit-atHUP)
}

// TestRestartGivesUpOnASlowSuccessor gives the new process no time to
// become ready: the restart fails, the new process is killed, the old one
// keeps serving and keeps the pid file, and a later SIGHUP is accepted
// (and fails the same way) rather than refused as in progress.
func TestRestartGivesUpOnASlowSuccessor(t *testing.T) {
	n := startProcess(t, "--drain-timeout", "1s", "--restart-timeout", "1ns")
	eventually(t, "readiness", func() bool { return n.status("/readyz") == http.StatusOK })
	for i := 1; i <= 2; i++ {
		_ = n.cmd.Process.Signal(syscall.SIGHUP)
		eventually(t, "the restart to fail", func() bool {
			return strings.Count(n.log(), "restart failed; still serving") == i
		})
	}
	if strings.Contains(n.log(), "SIGHUP ignored") {
		t.Error("a SIGHUP after a failed restart was refused")
	}
	if pid, err := readPIDFile(n.pidFile); err != nil || pid != n.cmd.Process.Pid {
		t.Errorf("pid file names %d (%v), want the old process %d", pid, err, n.cmd.Process.Pid)
	}
	if s := n.status("/readyz"); s != http.StatusOK {
		t.Errorf("/readyz %d after a failed restart, want 200", s)
	}
	c := dialRetry(t, "ws://"+n.addr+"/echo")
	c.Close()
	select {
	case <-n.exited:
		t.Fatalf("old process exited: %v", n.waitErr)
	default:
	}
}

// TestRestartCommandErrors checks `myriad restart` on bad input: it
// signals nothing it cannot name, and says why in one line.
func TestRestartCommandErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no pid file", []string{"restart"}, 2, "usage"},
		{"stray argument", []string{"restart", "--pid-file", "x", "now"}, 2, "usage"},
		{"missing file", []string{"restart", "--pid-file", filepath.Join(dir, "none")}, 1, "no such file"},
		{"not a number", []string{"restart", "--pid-file", write("junk", "hello\n")}, 1, "not a process id"},
		{"negative", []string{"restart", "--pid-file", write("neg", "-4\n")}, 1, "not a process id"},
		{"no such process", []string{"restart", "--pid-file", write("dead", "2147483646\n")}, 1, "signal pid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut syncBuffer
			code := run(context.Background(), tc.args, envFrom(nil), &out, &errOut, nil)
			if code != tc.code || !strings.Contains(errOut.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tc.code, tc.want)
			}
		})
	}
}
