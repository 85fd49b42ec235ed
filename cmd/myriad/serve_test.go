package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/myriadws/myriad/server/servertest"
)

func envFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestParseOptions(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, o *options)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, o *options) {
				if o.cfg.Addr != ":8080" || !o.multicore || o.cfg.MaxMessage != 1<<20 || o.cfg.MaxOutbound != 4<<20 {
					t.Errorf("unexpected defaults: %+v", o.cfg)
				}
				if o.cfg.PingInterval != 30*time.Second || o.cfg.IdleTimeout != 75*time.Second || o.cfg.DrainTimeout != 30*time.Second {
					t.Errorf("unexpected timeouts: %+v", o.cfg)
				}
			},
		},
		{
			name: "environment",
			env:  map[string]string{"MYRIAD_MAX_CONNS": "500", "MYRIAD_MAX_MESSAGE": "64KiB", "MYRIAD_ADDR": "127.0.0.1:9"},
			check: func(t *testing.T, o *options) {
				if o.cfg.MaxConns != 500 || o.cfg.MaxMessage != 64<<10 || o.cfg.Addr != "127.0.0.1:9" {
					t.Errorf("environment not applied: %+v", o.cfg)
				}
			},
		},
		{
			name: "flag wins over environment",
			args: []string{"--max-conns", "7"},
			env:  map[string]string{"MYRIAD_MAX_CONNS": "500"},
			check: func(t *testing.T, o *options) {
				if o.cfg.MaxConns != 7 {
					t.Errorf("max-conns = %d, want 7", o.cfg.MaxConns)
				}
			},
		},
		{
			name: "single loop",
			args: []string{"--multicore=false"},
			check: func(t *testing.T, o *options) {
				if o.cfg.Loops != 1 {
					t.Errorf("loops = %d, want 1", o.cfg.Loops)
				}
			},
		},
		{
			name: "negotiation",
			args: []string{"--compression", "--subprotocols", "chat.v2, chat.v1", "--allowed-origins", "https://app.example.com"},
			env:  map[string]string{"MYRIAD_COMPRESSION_LEVEL": "6"},
			check: func(t *testing.T, o *options) {
				c := o.cfg
				if !c.Compression || c.CompressionLevel != 6 || c.CompressionMinSize != 128 {
					t.Errorf("compression options: %v %d %d", c.Compression, c.CompressionLevel, c.CompressionMinSize)
				}
				if strings.Join(c.Subprotocols, "|") != "chat.v2|chat.v1" || strings.Join(c.AllowedOrigins, "|") != "https://app.example.com" {
					t.Errorf("lists: %q %q", c.Subprotocols, c.AllowedOrigins)
				}
			},
		},
		{name: "bad environment value", env: map[string]string{"MYRIAD_IDLE_TIMEOUT": "soon"}, wantErr: "MYRIAD_IDLE_TIMEOUT"},
		{name: "bad size", args: []string{"--max-message", "lots"}, wantErr: "invalid value"},
		{name: "bad log format", args: []string{"--log-format", "xml"}, wantErr: "log-format"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := parseOptions(tc.args, envFrom(tc.env), &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseOptions: %v (%s)", err, stderr.String())
			}
			tc.check(t, o)
		})
	}
}

func TestByteSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4096", 4096, true}, {"64KiB", 64 << 10, true}, {"4MiB", 4 << 20, true},
		{"1GiB", 1 << 30, true}, {"2m", 2 << 20, true}, {"-1", 0, false}, {"x", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseBytes(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("parseBytes(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestExitCodes(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "unknown flag", args: []string{"--no-such-flag"}, code: 2, stderr: "no-such-flag"},
		{name: "invalid config", args: []string{"--ping-interval", "80s", "--idle-timeout", "75s"}, code: 2, stderr: "ping-interval"},
		{name: "port in use", args: []string{"--addr", busy.Addr().String()}, code: 1, stderr: "address already in use"},
		{name: "version", args: []string{"--version"}, code: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			code := run(context.Background(), tc.args, envFrom(nil), &stdout, &stderr, nil)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), tc.stderr)
			}
			if tc.name == "port in use" && strings.Count(strings.TrimSpace(lastLine(stderr.String())), "\n") != 0 {
				t.Fatalf("want a one-line error, got %q", stderr.String())
			}
		})
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func dialRetry(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("dial %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSignalDrains runs the binary's main path: the first signal drains,
// clients receive Close 1001, and the process exits 0.
func TestSignalDrains(t *testing.T) {
	addr, apiAddr := freePort(t), freePort(t)
	sigs := make(chan os.Signal, 2)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"--addr", addr, "--api-addr", apiAddr, "--drain-timeout", "1s", "--log-level", "warn"},
			envFrom(nil), &stdout, &stderr, sigs)
	}()
	const n = 3
	var conns []*websocket.Conn
	for i := 0; i < n; i++ {
		c := dialRetry(t, "ws://"+addr+"/echo")
		defer c.Close()
		if err := c.WriteMessage(websocket.TextMessage, []byte("hi "+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "hi "+strconv.Itoa(i) {
			t.Fatalf("echo: %q %v", msg, err)
		}
		conns = append(conns, c)
	}
	sigs <- syscall.SIGTERM
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := c.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("client %d: got %v, want close 1001", i, err)
		}
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d, want 0; stderr: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit after drain")
	}
}

// eventually polls cond until it holds, failing the test with what after
// servertest's bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	servertest.Eventually(t, cond, "timed out waiting for "+what)
}
