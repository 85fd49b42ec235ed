package server

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestConfigValidate checks each field's bounds; a nil route table in a
// case stands for "one valid route", so that each case tests one thing.
func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{"zero value with a route", Config{}, nil},
		{"negative max posted", Config{MaxPosted: -1}, []string{"max-posted"}},
		{"short timeouts", Config{HandshakeTimeout: time.Millisecond, PingInterval: 100 * time.Millisecond, IdleTimeout: 400 * time.Millisecond}, nil},
		{"pings and idle timeout disabled", Config{PingInterval: -1, IdleTimeout: -1}, nil},
		{"pings only", Config{PingInterval: time.Second, IdleTimeout: -1}, nil},
		{"negative loops", Config{Loops: -1}, []string{"loops"}},
		{"too many loops", Config{Loops: 257}, []string{"loops"}},
		{"no connection cap", Config{MaxConns: -1}, nil},
		{"negative max message", Config{MaxMessage: -1}, []string{"max-message"}},
		{"header limit too small", Config{MaxHeaderBytes: 255}, []string{"max-header-bytes"}},
		{"header limit too large", Config{MaxHeaderBytes: maxHeaderBytesLimit + 1}, []string{"max-header-bytes"}},
		{"negative handshake timeout", Config{HandshakeTimeout: -1}, []string{"handshake-timeout"}},
		{"negative close timeout", Config{CloseTimeout: -1}, []string{"close-timeout"}},
		{"negative drain timeout", Config{DrainTimeout: -1}, []string{"drain-timeout"}},
		{"ping not shorter than idle", Config{PingInterval: time.Second, IdleTimeout: time.Second}, []string{"ping-interval"}},
		{"tiny outbound bound", Config{MaxOutbound: 1023}, []string{"max-outbound"}},
		{"tiny read buffer", Config{ReadBufferSize: 1023}, []string{"read-buffer"}},
		{"negative socket buffer", Config{SocketSendBuffer: -1}, []string{"socket buffer"}},
		{"route without slash", Config{Routes: map[string]Handler{"echo": Echo{}}}, []string{`route "echo"`}},
		{"route without handler", Config{Routes: map[string]Handler{"/x": nil}}, []string{`route "/x" has no handler`}},
		{"every error at once", Config{Loops: -1, MaxPosted: -1, MaxOutbound: 1}, []string{"loops", "max-posted", "max-outbound"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.Routes == nil {
				tc.cfg.Routes = map[string]Handler{"/echo": Echo{}}
			}
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted an invalid config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("Validate: %v; want it to mention %q", err, w)
				}
			}
			if _, nerr := New(tc.cfg); nerr == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

// TestNewNeedsRoutes checks that a server with nothing mounted is refused,
// not given a hidden /echo.
func TestNewNeedsRoutes(t *testing.T) {
	cases := []struct {
		name   string
		routes map[string]Handler
	}{
		{"nil", nil},
		{"empty", map[string]Handler{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(Config{Routes: tc.routes}); !errors.Is(err, ErrNoRoutes) {
				t.Fatalf("New: %v, want ErrNoRoutes", err)
			}
		})
	}
}
