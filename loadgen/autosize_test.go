package loadgen

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestAutoSize(t *testing.T) {
	one := []string{"ws://127.0.0.1:8080/echo"}
	two := []string{"ws://127.0.0.1:8080/echo", "ws://127.0.0.1:8081/echo"}
	remote := []string{"ws://10.1.2.3:8080/echo"}
	full := HostLimits{NoFile: 1 << 20, PortLo: 1024, PortHi: 65535}
	small := HostLimits{NoFile: 20000, PortLo: 32768, PortHi: 60999}
	overhead := fdOverhead(Plan{}.withDefaults())
	perProc := (20000 - overhead) * 9 / 10
	cases := []struct {
		name      string
		targets   []string
		conns     int
		host      HostLimits
		procs     bool
		sources   bool
		wantProcs int
		wantSrc   int
		wantErr   error
		errAny    bool
	}{
		{name: "few conns one proc", targets: one, conns: 1000, host: small, procs: true, wantProcs: 1},
		{name: "exactly one proc's share", targets: one, conns: perProc, host: small, procs: true, wantProcs: 1},
		{name: "one over a proc's share", targets: one, conns: perProc + 1, host: small, procs: true, wantProcs: 2},
		{name: "million under 20000", targets: one, conns: 1_000_000, host: small, procs: true, wantProcs: 1_000_000/perProc + 1},
		{name: "big limit one proc", targets: one, conns: 500_000, host: full, procs: true, wantProcs: 1},
		{name: "limit below overhead", targets: one, conns: 10, host: HostLimits{NoFile: 10, PortLo: 1, PortHi: 2}, procs: true, errAny: true},
		{name: "ports suffice", targets: one, conns: 12000, host: small, sources: true, wantProcs: 1, wantSrc: 0},
		{name: "ports short one target", targets: one, conns: 100_000, host: small, sources: true, wantProcs: 1, wantSrc: 8},
		{name: "two targets halve sources", targets: two, conns: 100_000, host: small, sources: true, wantProcs: 1, wantSrc: 4},
		{name: "million full range", targets: one, conns: 1_000_000, host: full, sources: true, wantProcs: 1, wantSrc: 35},
		// connect() stays O(1) only inside half the range: 20,000 conns
		// overflow the 12,704 planned for one pair of the small range.
		{name: "half the range per pair", targets: one, conns: 20000, host: small, sources: true, wantProcs: 1, wantSrc: 2},
		{name: "remote target needs --source", targets: remote, conns: 100_000, host: small, sources: true, wantErr: ErrAutoSources},
		{name: "remote target fits", targets: remote, conns: 100, host: small, sources: true, wantProcs: 1},
		{name: "too many sources", targets: one, conns: 50_000_000, host: full, sources: true, errAny: true},
		{name: "empty port range", targets: one, conns: 10, host: HostLimits{NoFile: 1 << 20, PortLo: 5, PortHi: 4}, sources: true, errAny: true},
		{name: "both", targets: one, conns: 1_000_000, host: small, procs: true, sources: true, wantProcs: 1_000_000/perProc + 1, wantSrc: 79},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sz, err := AutoSize(Plan{Targets: tc.targets, Conns: tc.conns}, tc.host, tc.procs, tc.sources)
			if tc.wantErr != nil || tc.errAny {
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sz.Procs != tc.wantProcs || len(sz.Sources) != tc.wantSrc {
				t.Fatalf("procs %d sources %d (%s), want %d and %d", sz.Procs, len(sz.Sources), sz.Why, tc.wantProcs, tc.wantSrc)
			}
			if tc.wantSrc > 0 && sz.Sources[0] != netip.MustParseAddr("127.0.0.2") {
				t.Fatalf("first source %v", sz.Sources[0])
			}
			if sz.Why == "" {
				t.Fatal("no reason given")
			}
		})
	}
}

func TestCoarseTick(t *testing.T) {
	cases := []struct {
		name        string
		procs, cpus int
		want        time.Duration
	}{
		{name: "one process", procs: 1, cpus: 2, want: time.Millisecond},
		{name: "as many as cores", procs: 2, cpus: 2, want: time.Millisecond},
		{name: "two per core", procs: 4, cpus: 2, want: 2 * time.Millisecond},
		{name: "rounded up", procs: 5, cpus: 2, want: 3 * time.Millisecond},
		{name: "capped", procs: 56, cpus: 2, want: maxCoarseTick},
		{name: "no cpus reported", procs: 3, cpus: 0, want: 3 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := CoarseTick(tc.procs, tc.cpus); got != tc.want {
				t.Fatalf("CoarseTick(%d, %d) = %v, want %v", tc.procs, tc.cpus, got, tc.want)
			}
		})
	}
}
