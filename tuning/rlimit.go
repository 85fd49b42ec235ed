package tuning

import (
	"fmt"
	"syscall"
)

// NoFileLimit returns this process's RLIMIT_NOFILE.
func NoFileLimit() (Rlimit, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return Rlimit{}, fmt.Errorf("getrlimit RLIMIT_NOFILE: %w", err)
	}
	return Rlimit{Soft: lim.Cur, Hard: lim.Max}, nil
}

// RaiseNoFileLimit raises this process's soft RLIMIT_NOFILE to its hard
// limit and returns the soft limit before and after. Both binaries call it
// first thing and log the result, so the descriptor budget is visible in
// the log rather than discovered as EMFILE under load.
//
// The Go runtime already raises the soft limit at start-up, but to one
// below the hard limit, and only when it was lower; calling this makes the
// full hard limit available and makes the outcome explicit. A side effect:
// child processes inherit the raised limit instead of the original one.
// Raising the hard limit needs privileges the binaries do not assume; see
// Check for what to do when it is too low.
//
// It changes process-wide state; call it once at start, before other
// goroutines open files.
func RaiseNoFileLimit() (before, after uint64, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, fmt.Errorf("getrlimit RLIMIT_NOFILE: %w", err)
	}
	before = lim.Cur
	if lim.Cur >= lim.Max {
		return before, before, nil
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return before, before, fmt.Errorf("setrlimit RLIMIT_NOFILE to %d: %w", lim.Max, err)
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return before, 0, fmt.Errorf("getrlimit RLIMIT_NOFILE: %w", err)
	}
	return before, lim.Cur, nil
}
