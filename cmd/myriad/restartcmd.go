package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// runRestart is `myriad restart --pid-file PATH`: it sends SIGHUP to the
// server the pid file names and waits until the file names the new
// process, which is then serving (it writes the file once ready), or,
// for a supervisor of --workers, which stays, until it rewrites the file
// after replacing every worker. It
// returns the exit code: 0 once the new process took over, 1 when the
// restart did not happen in time, 2 for a usage error.
func runRestart(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("myriad restart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pidFile, _ := env("MYRIAD_PID_FILE")
	fs.StringVar(&pidFile, "pid-file", pidFile, "the server's --pid-file (or MYRIAD_PID_FILE)")
	timeout := fs.Duration("timeout", time.Minute, "how long to wait for the new process")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if pidFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "myriad restart: usage: myriad restart --pid-file PATH [--timeout 1m]")
		return 2
	}
	old, err := readPIDFile(pidFile)
	if err != nil {
		fmt.Fprintf(stderr, "myriad restart: %v\n", err)
		return 1
	}
	sent := time.Now()
	if err := syscall.Kill(old, syscall.SIGHUP); err != nil {
		fmt.Fprintf(stderr, "myriad restart: signal pid %d: %v\n", old, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if pid, err := readPIDFile(pidFile); err == nil && syscall.Kill(pid, 0) == nil {
			if pid != old {
				fmt.Fprintf(stdout, "restarted: pid %d took over from %d, which is draining\n", pid, old)
				return 0
			}
			// A supervisor (--workers) stays; it rewrites the file once
			// every worker is replaced.
			if fi, err := os.Stat(pidFile); err == nil && fi.ModTime().After(sent) {
				fmt.Fprintf(stdout, "restarted: every worker of pid %d was replaced, one at a time\n", pid)
				return 0
			}
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "myriad restart: %s still names pid %d after %v; see the server's log\n", pidFile, old, *timeout)
			return 1
		case <-tick.C:
		}
	}
}
