package main

import (
	"strings"
	"testing"
)

// TestQuietStart checks that --quiet silences the start-up lines (the
// descriptor limit, host shortfalls) that a plain run prints.
func TestQuietStart(t *testing.T) {
	url := echoServer(t)
	tests := []struct {
		name      string
		quiet     bool
		wantStart bool
	}{
		{"plain run logs the descriptor limit", false, true},
		{"--quiet logs nothing at start", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"idle", "--url", url, "--conns", "10", "--duration", "200ms", "--settle", "10ms"}
			if tc.quiet {
				args = append(args, "--quiet")
			}
			code, stdout, stderr := runCmd(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			if got := strings.Contains(stderr, "file descriptor limit"); got != tc.wantStart {
				t.Fatalf("start-up line present %v, want %v; stderr:\n%s", got, tc.wantStart, stderr)
			}
			if tc.quiet {
				for _, noise := range []string{"INFO", "WARN", "host setting short", "GOMEMLIMIT"} {
					if strings.Contains(stderr, noise) {
						t.Errorf("--quiet stderr has %q:\n%s", noise, stderr)
					}
				}
			}
		})
	}
}
