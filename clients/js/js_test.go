package jsclient_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// requireInteropEnv turns a missing Node into a test failure rather than a
// skip; `make test` sets it after installing Node.
const requireInteropEnv = "MYRIAD_REQUIRE_INTEROP"

// minNodeMajor is the first Node with a global WebSocket (behind
// --experimental-websocket until Node 22).
const minNodeMajor = 20

// jwtSecret signs the tokens the Node tests make for the auth server.
const jwtSecret = "js-client-test-secret"

// TestNodeClient runs the Node tests of the JavaScript client in test/
// against real myriad processes: an open one that lets clients publish and
// sends presence events, and one that requires a token. The reconnect test
// starts and kills a third one itself, from the binary path it is given.
func TestNodeClient(t *testing.T) {
	node, major := needNode(t)
	bin := buildMyriad(t)
	open := startMyriad(t, bin, "--client-publish", "--presence-events")
	auth := startMyriad(t, bin, "--jwt-secret", jwtSecret)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A hung test fails on its own after --test-timeout, with its name,
	// well before ctx kills the runner.
	// The files are named one by one: Node 20 searches a directory, but
	// later versions take globs instead.
	files, err := filepath.Glob(filepath.Join("test", "*.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in test/: %v", err)
	}
	args := append([]string{"--test", "--test-timeout=15000"}, files...)
	if major < 22 {
		args = append([]string{"--experimental-websocket"}, args...)
	}
	cmd := exec.CommandContext(ctx, node, args...)
	// Node runs each file in a child process and the reconnect test starts
	// servers of its own: on timeout, kill the whole process group so none
	// of them outlives the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(cleanEnv(),
		"MYRIAD_BIN="+bin,
		"MYRIAD_WS_URL=ws://"+open.ws+"/ws",
		"MYRIAD_API_URL=http://"+open.api,
		"MYRIAD_AUTH_WS_URL=ws://"+auth.ws+"/ws",
		"MYRIAD_AUTH_API_URL=http://"+auth.api,
		"MYRIAD_JWT_SECRET="+jwtSecret,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s\nopen server log:\n%s\nauth server log:\n%s", err, out, open.log(), auth.log())
	}
	t.Logf("node --test:\n%s", out)
}

// needNode returns the path and major version of a Node new enough to run
// the tests. When there is none the test fails if MYRIAD_REQUIRE_INTEROP=1
// and is skipped, saying how to run it, otherwise.
func needNode(t *testing.T) (string, int) {
	t.Helper()
	major := 0
	path, err := exec.LookPath("node")
	if err == nil {
		major, err = nodeMajor(path)
	}
	if err == nil {
		return path, major
	}
	if os.Getenv(requireInteropEnv) == "1" {
		t.Fatalf("node >= %d is required (%s=1) but cannot run: %v", minNodeMajor, requireInteropEnv, err)
	}
	t.Skipf("node >= %d cannot run (%v); `make test` installs it and runs this test with %s=1", minNodeMajor, err, requireInteropEnv)
	return "", 0
}

// nodeMajor returns node's major version, or an error unless node runs
// and is at least minNodeMajor.
func nodeMajor(node string) (int, error) {
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return 0, err
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if err != nil {
		return 0, fmt.Errorf("unexpected node --version %q", out)
	}
	if major < minNodeMajor {
		return 0, fmt.Errorf("node %s is older than %d", v, minNodeMajor)
	}
	return major, nil
}

// buildMyriad builds cmd/myriad into a temporary directory.
func buildMyriad(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "myriad")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/myriadws/myriad/cmd/myriad").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/myriad: %v\n%s", err, out)
	}
	return bin
}

// cleanEnv is the test's environment without MYRIAD_* variables, which
// the server would read as settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MYRIAD_") {
			env = append(env, kv)
		}
	}
	return env
}

// server is a running myriad process and the addresses it bound.
type server struct {
	ws, api string
	mu      sync.Mutex
	buf     bytes.Buffer
}

// log returns what the server has logged so far.
func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// startMyriad starts bin on loopback port 0 for both listeners and waits
// for the addresses it logs on binding them, so no port is guessed. The
// process is killed when the test ends.
func startMyriad(t *testing.T, bin string, extra ...string) *server {
	t.Helper()
	args := append([]string{"--addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0", "--loops", "1",
		"--log-level", "info", "--log-format", "json"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start myriad: %v", err)
	}
	s := &server{}
	bound := make(chan struct{})
	copied := make(chan struct{})
	go s.scan(stderr, bound, copied)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-copied
		_ = cmd.Wait()
	})
	select {
	case <-bound:
		return s
	case <-copied:
		t.Fatalf("myriad %v exited before listening:\n%s", args, s.log())
	case <-time.After(15 * time.Second):
		t.Fatalf("myriad %v did not log its addresses:\n%s", args, s.log())
	}
	return nil
}

// scan keeps the server's log and closes bound once both the WebSocket
// and the API addresses are known. It closes copied at end of output.
func (s *server) scan(r io.Reader, bound, copied chan struct{}) {
	defer close(copied)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		_ = json.Unmarshal(sc.Bytes(), &line)
		s.mu.Lock()
		s.buf.Write(sc.Bytes())
		s.buf.WriteByte('\n')
		switch {
		case line.Addr == "" || !strings.Contains(line.Msg, "listening"):
		case strings.Contains(line.Msg, "api"):
			s.api = line.Addr
		default:
			s.ws = line.Addr
		}
		done := s.ws != "" && s.api != "" && bound != nil
		s.mu.Unlock()
		if done {
			close(bound)
			bound = nil
		}
	}
	_, _ = io.Copy(io.Discard, r)
}
