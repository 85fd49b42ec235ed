package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWorkersRestartCommandAndSystemd runs `myriad --workers 2
// --pid-file F` under a fake systemd notify socket: exactly one READY=1
// arrives, naming the supervisor as MAINPID, and none from the workers;
// `myriad restart --pid-file F` then returns 0 once every worker is
// replaced (new pids), although the supervisor's pid stays the same.
func TestWorkersRestartCommandAndSystemd(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	pidFile := filepath.Join(dir, "myriad.pid")

	_, apiAddr, _ := startSupervisor(t, "--workers", "2", "--pid-file", pidFile, "--drain-timeout", "1s", "--log-level", "info")

	_ = nc.SetReadDeadline(time.Now().Add(ioWait))
	buf := make([]byte, 256)
	n, err := nc.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	if want := fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid()); string(buf[:n]) != want {
		t.Fatalf("notification %q, want %q", buf[:n], want)
	}
	var before []clusterNode
	eventually(t, "two workers answering /stats", func() bool {
		before, err = clusterStats(apiAddr)
		return err == nil && len(before) == 2
	})

	var out, errOut bytes.Buffer
	if code := runRestart(context.Background(), []string{"--pid-file", pidFile, "--timeout", "40s"}, envFrom(nil), &out, &errOut); code != 0 {
		t.Fatalf("myriad restart exited %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "every worker") {
		t.Errorf("restart said %q", out.String())
	}
	var after []clusterNode
	eventually(t, "two new workers answering /stats", func() bool {
		after, err = clusterStats(apiAddr)
		return err == nil && len(after) == 2
	})
	for _, a := range after {
		for _, b := range before {
			if a.pid() == b.pid() {
				t.Errorf("worker pid %d was not replaced", a.pid())
			}
		}
	}
	// The workers, old and new, never notified.
	_ = nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := nc.Read(buf); err == nil {
		t.Errorf("a further notification %q", buf[:n])
	}
}
