package tuning

import (
	"os"
	"strconv"
	"syscall"
	"testing"
)

// TestStartupCheckOnThisMachine runs the check against the real /proc and
// the test process's own limits.
func TestStartupCheckOnThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/sys/fs/nr_open"); err != nil {
		t.Skip("no Linux /proc/sys here")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	const conns = 1_000_000
	r, err := StartupCheck(Target{Conns: conns, Port: 8080}, []string{"GOMEMLIMIT=8GiB"})
	if err != nil {
		t.Fatal(err)
	}
	f := mustFind(t, r, "RLIMIT_NOFILE hard")
	if f.Current != strconv.FormatUint(lim.Max, 10) {
		t.Fatalf("reported hard limit %s, getrlimit says %d", f.Current, lim.Max)
	}
	if f.Needed != ">= 1001024" {
		t.Fatalf("needed %s for %d conns", f.Needed, conns)
	}
	if lim.Max < conns && f.Severity != Fail {
		t.Fatalf("hard limit %d cannot hold %d conns, but severity is %s", lim.Max, conns, f.Severity)
	}
	if lim.Max >= conns+FDHeadroom && f.Severity != OK {
		t.Fatalf("hard limit %d suffices, but severity is %s", lim.Max, f.Severity)
	}
	if g := mustFind(t, r, "GOMEMLIMIT"); g.Current != "8GiB" {
		t.Fatalf("environment not used: GOMEMLIMIT current %q", g.Current)
	}
	t.Logf("this machine:\n%s", r)
}

func TestRaiseNoFileLimit(t *testing.T) {
	before, after, err := RaiseNoFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	lim, err := NoFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	if after != lim.Hard || lim.Soft != lim.Hard {
		t.Fatalf("after = %d, limit now %+v; want soft raised to hard", after, lim)
	}
	if before > after {
		t.Fatalf("before %d > after %d", before, after)
	}
	// A second call has nothing left to raise.
	if b2, a2, err := RaiseNoFileLimit(); err != nil || b2 != a2 || a2 != after {
		t.Fatalf("second call = %d, %d, %v", b2, a2, err)
	}
}
