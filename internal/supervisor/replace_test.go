package supervisor

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"testing"
)

// gone reports whether pid has exited (or is a zombie: only its parent
// reaps it, and the supervisor waits for its workers).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err != nil || slices.Contains([]string{"Z", "X"}, statState(b))
}

// statState is the state field of a /proc/PID/stat line.
func statState(b []byte) string {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' && i+3 <= len(b) {
			return string(b[i+2 : i+3])
		}
	}
	return ""
}

// TestReplaceSwapsEveryWorker replaces two workers: each slot gets a new
// process that answers on the shared port, the old ones exit, and no slot
// counts the old one's exit as a death.
func TestReplaceSwapsEveryWorker(t *testing.T) {
	s := startSupervisor(t, testConfig(2, ""))
	eventually(t, "both workers", func() bool { return allRunning(s) })
	before := pids(s)
	answeredBy(t, s, s.Addr(), before...)
	if err := s.Replace(); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	after := pids(s)
	for i, p := range after {
		if p == 0 || slices.Contains(before, p) {
			t.Fatalf("slot %d has pid %d after Replace; before: %v", i, p, before)
		}
	}
	for _, p := range before {
		eventually(t, "the replaced worker "+strconv.Itoa(p)+" to exit", func() bool { return gone(p) })
	}
	answeredBy(t, s, s.Addr(), after...)
	answeredBy(t, s, s.APIAddr(), after...)
	for _, w := range s.Workers() {
		if w.Starts != 2 || w.PID != after[w.Index] {
			t.Errorf("slot %d: %+v, want 2 starts and pid %d", w.Index, w, after[w.Index])
		}
	}
}

// TestReplaceFailureKeepsTheOldWorker starts replacements that exit
// before reporting ready: Replace fails with ErrNotReady and the old
// workers keep serving.
func TestReplaceFailureKeepsTheOldWorker(t *testing.T) {
	s := startSupervisor(t, testConfig(2, "no-successor"))
	eventually(t, "both workers", func() bool { return allRunning(s) })
	before := pids(s)
	if err := s.Replace(); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Replace = %v, want ErrNotReady", err)
	}
	if after := pids(s); !slices.Equal(after, before) {
		t.Fatalf("pids %v after a failed Replace, want %v", after, before)
	}
	answeredBy(t, s, s.Addr(), before...)
}
