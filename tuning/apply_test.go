package tuning

import (
	"os"
	"strings"
	"testing"
)

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		sysctls map[string]string
		target  Target
		want    []Change
	}{
		{
			name:    "stock host, 1M loadgen over 40 sources",
			sysctls: stockSysctls(),
			target:  Target{Conns: 1_000_000, Role: Loadgen, Sources: 40, Port: 8080},
			want: []Change{
				{"net.core.netdev_max_backlog", "1000", "16384"},
				{"net.ipv4.ip_local_port_range", "32768 60999", "1024 65535"},
				{"net.ipv4.ip_local_reserved_ports", "", "8080"},
				{"net.ipv4.tcp_tw_reuse", "2", "1"},
				{"net.ipv4.tcp_fin_timeout", "60", "30"},
				{"net.ipv4.tcp_max_orphans", "131072", "1000000"},
				{"net.netfilter.nf_conntrack_max", "262144", "1250000"},
				{"net.ipv4.tcp_mem", "287901 383868 575802", "500000 1000000 1500000"},
			},
		},
		{
			name:    "tuned host changes nothing",
			sysctls: tunedSysctls(),
			target:  Target{Conns: 1_000_000, Port: 8080},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := fakeHost(t, tc.sysctls, meminfo24G, highNoFile())
			r := mustCheck(t, h, tc.target)
			got, err := Apply(h.Root, r)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("changes:\n%v\nwant:\n%v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("change %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
			for _, f := range mustCheck(t, h, tc.target).Shortfalls() {
				if f.Key != "" {
					t.Errorf("after Apply, %s still %s", f.Key, f.Severity)
				}
			}
			// Applying the same report again finds everything in place.
			if again, err := Apply(h.Root, r); err != nil || len(again) != 0 {
				t.Errorf("second Apply = %v, %v", again, err)
			}
		})
	}
}

func TestApplyStopsAtFirstFailure(t *testing.T) {
	h := fakeHost(t, stockSysctls(), meminfo24G, highNoFile())
	r := mustCheck(t, h, Target{Conns: 1_000_000, Port: 8080})
	// Replace one file the report wants to write with a directory, which
	// no write can succeed on, even as root.
	p := sysctlPath(h.Root, "net.ipv4.tcp_fin_timeout")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Apply(h.Root, r)
	if err == nil || !strings.Contains(err.Error(), "net.ipv4.tcp_fin_timeout") {
		t.Fatalf("Apply error = %v, want one naming tcp_fin_timeout", err)
	}
	want := []string{"net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_migrate_req", "net.core.netdev_max_backlog"}
	if len(got) != len(want) {
		t.Fatalf("changes before the failure = %v, want %v", got, want)
	}
	for i, c := range got {
		if c.Key != want[i] {
			t.Errorf("change %d is %s, want %s", i, c.Key, want[i])
		}
	}
}
