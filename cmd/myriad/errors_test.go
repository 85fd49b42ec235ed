package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUsageErrors runs the command with bad values and checks that the one
// line it prints names the flag or variable, the value and the expected
// form, and that nothing else ran first: no log line, no warning, no API
// listener.
func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{name: "duration without unit", args: []string{"--ping-interval", "30"},
			want: []string{"--ping-interval", `"30"`, "with a unit", "30s"}},
		{name: "number from the environment", env: map[string]string{"MYRIAD_MAX_CONNS": "abc"},
			want: []string{"MYRIAD_MAX_CONNS", `"abc"`, "whole number"}},
		{name: "duration from the environment", env: map[string]string{"MYRIAD_DRAIN_TIMEOUT": "10"},
			want: []string{"MYRIAD_DRAIN_TIMEOUT", `"10"`, "with a unit"}},
		{name: "boolean", args: []string{"--compression=maybe"},
			want: []string{"--compression", `"maybe"`, "true or false"}},
		{name: "negative loops", args: []string{"--loops", "-3"},
			want: []string{"loops", "-3", "0 (the default: one per CPU)"}},
		{name: "address without port", args: []string{"--addr", "nonsense"},
			want: []string{"--addr", `"nonsense"`, "host:port"}},
		{name: "port out of range", args: []string{"--addr", ":99999"},
			want: []string{"--addr", `":99999"`, "0 to 65535"}},
		{name: "api address without port", args: []string{"--api-addr", "localhost"},
			want: []string{"--api-addr", `"localhost"`, "host:port"}},
		{name: "unknown flag", args: []string{"--no-such-flag"},
			want: []string{"--no-such-flag"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			apiAddr := freePort(t)
			args := append([]string{"--api-addr", apiAddr}, tc.args...)
			if tc.name == "api address without port" {
				args = tc.args
			}
			var stdout, stderr syncBuffer
			code := run(context.Background(), args, envFrom(tc.env), &stdout, &stderr, nil)
			if code != 2 {
				t.Fatalf("exit code %d, want 2; stderr: %s", code, stderr.String())
			}
			out := stderr.String()
			if n := strings.Count(strings.TrimRight(out, "\n"), "\n"); n != 0 {
				t.Fatalf("want exactly one line (nothing logged before the error), got %q", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("error %q does not mention %q", out, w)
				}
			}
		})
	}
}

// TestSecondSignalForcesExit drains a server whose one client never
// answers its close frame, then signals again: the command exits 1 at
// once and logs that the exit was forced. The drain log gives its timeout
// with a unit.
func TestSecondSignalForcesExit(t *testing.T) {
	addr := freePort(t)
	sigs := make(chan os.Signal, 2)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"--addr", addr, "--api-addr=", "--drain-timeout", "30s", "--close-timeout", "30s"},
			envFrom(nil), &stdout, &stderr, sigs)
	}()
	c := dialRetry(t, "ws://"+addr+"/echo") // proves the server is up
	c.Close()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	req := "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := raw.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(raw)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}

	sigs <- syscall.SIGTERM
	// The close frame arrives at once; this client never answers it.
	if b, err := br.ReadByte(); err != nil || b != 0x88 {
		t.Fatalf("want a close frame first, got %#x %v", b, err)
	}
	sigs <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != 1 {
			t.Fatalf("exit code %d, want 1", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second signal did not end the command")
	}
	out := stderr.String()
	for _, w := range []string{`"timeout":"30s"`, "forced exit"} {
		if !strings.Contains(out, w) {
			t.Errorf("log does not mention %s:\n%s", w, out)
		}
	}
}

// TestVersion checks that `myriad version` reports the link-time version
// when one was set, and a version from the build info otherwise.
func TestVersion(t *testing.T) {
	cases := []struct {
		name, linked, want string
	}{
		{"from build info", "", "myriad "},
		{"from -ldflags -X", "v1.2.3-test", "myriad v1.2.3-test "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := buildVersion
			buildVersion = tc.linked
			defer func() { buildVersion = old }()
			var stdout, stderr syncBuffer
			if code := run(context.Background(), []string{"version"}, envFrom(nil), &stdout, &stderr, nil); code != 0 {
				t.Fatalf("exit code %d", code)
			}
			if out := stdout.String(); !strings.HasPrefix(out, tc.want) || !strings.Contains(out, "go1.") {
				t.Fatalf("version %q, want it to start with %q and name the Go release", out, tc.want)
			}
		})
	}
}

// TestAPIErrorText runs the command with an API key and reads a refused
// request's answer as bytes: "Bearer <key>" reads as written, not
// HTML-escaped.
func TestAPIErrorText(t *testing.T) {
	addr, apiAddr := freePort(t), freePort(t)
	sigs := make(chan os.Signal, 1)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"--addr", addr, "--api-addr", apiAddr, "--api-key", "k3y", "--drain-timeout", "1s", "--log-level", "warn"},
			envFrom(nil), &stdout, &stderr, sigs)
	}()
	defer func() {
		sigs <- syscall.SIGTERM
		<-done
	}()
	dialRetry(t, "ws://"+addr+"/echo").Close()
	cases := []struct {
		name, method, path string
	}{
		{"publish without key", "POST", "/publish"},
		{"stats without key", "GET", "/stats"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://"+apiAddr+tc.path, strings.NewReader(`{"topic":"t","data":1}`))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "Bearer <key>") {
				t.Fatalf("%d %q, want 401 saying Bearer <key>", resp.StatusCode, b)
			}
		})
	}
}
