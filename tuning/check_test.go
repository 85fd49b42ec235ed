package tuning

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const goodEnv = "GOMEMLIMIT=12GiB"
	type want struct {
		sev    Severity
		want   string // Finding.Want; "*" means do not compare; not compared when OK
		substr string // must appear in Current, Needed, Why or Fix; "" means do not check
	}
	tests := []struct {
		name    string
		sysctls map[string]string
		meminfo string
		lim     Rlimit
		environ []string
		target  Target
		want    map[string]want
		absent  []string
	}{
		{
			name:    "stock host, 1M server",
			sysctls: stockSysctls(), meminfo: meminfo24G, lim: lowNoFile(),
			target: Target{Conns: 1_000_000, Role: Server, Port: 8080},
			want: map[string]want{
				"RLIMIT_NOFILE hard":               {Fail, "1001024", "ulimit -Hn 1001024"},
				"RLIMIT_NOFILE soft":               {Fail, "*", ""},
				"fs.nr_open":                       {OK, "", ""},
				"fs.file-max":                      {OK, "", ""},
				"net.core.somaxconn":               {Warn, "65535", "sysctl -w net.core.somaxconn=65535"},
				"net.ipv4.tcp_max_syn_backlog":     {Warn, "65535", ""},
				"net.core.netdev_max_backlog":      {Warn, "16384", ""},
				"net.ipv4.ip_local_reserved_ports": {OK, "", ""},
				"net.ipv4.tcp_fin_timeout":         {Warn, "30", ""},
				"net.ipv4.tcp_max_orphans":         {Warn, "1000000", ""},
				"net.netfilter.nf_conntrack_max":   {Warn, "1250000", "(0 tracked now)"},
				"net.ipv4.tcp_mem":                 {Fail, "500000 1000000 1500000", "'net.ipv4.tcp_mem = 500000 1000000 1500000' >> /etc/sysctl.d/90-myriad.conf"},
				"net.ipv4.tcp_rmem":                {OK, "", ""},
				"net.ipv4.tcp_wmem":                {OK, "", ""},
				"MemAvailable":                     {OK, "", ""},
				"GOMEMLIMIT":                       {Warn, "14GiB", "Environment=GOMEMLIMIT=14GiB"},
				"GOGC":                             {OK, "", ""},
			},
			absent: []string{"net.ipv4.ip_local_port_range", "net.ipv4.tcp_tw_reuse"},
		},
		{
			name:    "tuned host, 1M server",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: Rlimit{Soft: 1001024, Hard: 1001024}, environ: []string{goodEnv},
			target: Target{Conns: 1_000_000, Role: Server, Port: 8080},
			want: map[string]want{
				"RLIMIT_NOFILE hard": {OK, "", ""}, "RLIMIT_NOFILE soft": {OK, "", ""},
				"net.core.somaxconn": {OK, "", ""}, "net.ipv4.tcp_mem": {OK, "", ""},
				"net.ipv4.ip_local_reserved_ports": {OK, "", ""},
				"net.netfilter.nf_conntrack_max":   {OK, "", "tracked now"},
				"GOMEMLIMIT":                       {OK, "", ""},
			},
		},
		{
			name:    "stock host, small server needs nothing",
			sysctls: stockSysctls(), meminfo: meminfo24G, lim: lowNoFile(), environ: []string{"GOMEMLIMIT=1GiB"},
			target: Target{Conns: 1000},
			want: map[string]want{
				"RLIMIT_NOFILE hard": {OK, "", ""}, "net.core.somaxconn": {OK, "", ">= 4096"},
				"net.ipv4.tcp_max_syn_backlog": {Warn, "4096", ""}, // stock 2048 < 4096
				"net.core.netdev_max_backlog":  {OK, "", ""}, "net.ipv4.tcp_fin_timeout": {OK, "", ""},
				"net.ipv4.tcp_mem": {OK, "", ""}, "GOMEMLIMIT": {OK, "", ""},
			},
			absent: []string{"net.ipv4.ip_local_reserved_ports"}, // port 0 skips it
		},
		{
			name:    "soft limit below target but hard enough",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: Rlimit{Soft: 1024, Hard: 1048576},
			target: Target{Conns: 1_000_000},
			want:   map[string]want{"RLIMIT_NOFILE soft": {Warn, "", "raises soft to hard"}, "RLIMIT_NOFILE hard": {OK, "", ""}},
		},
		{
			name:    "nr_open below the needed limit",
			sysctls: with(tunedSysctls(), "fs.nr_open", "1048576", "fs.file-max", "1048576"), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 2_000_000},
			want: map[string]want{
				"fs.nr_open":         {Fail, "2097152", ""},
				"RLIMIT_NOFILE hard": {Fail, "2001024", "fs.nr_open >= 2001024"},
				"fs.file-max":        {Fail, "2066560", ""},
			},
		},
		{
			name:    "loadgen, one source cannot reach 1M",
			sysctls: stockSysctls(), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1_000_000, Role: Loadgen},
			want: map[string]want{
				"net.ipv4.ip_local_port_range": {Fail, "1024 65535", ">= 32 source addresses"},
				"net.ipv4.tcp_tw_reuse":        {Warn, "1", "loopback only"},
			},
			absent: []string{"net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog"},
		},
		{
			name:    "loadgen, 40 sources over a wide range",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1_000_000, Role: Loadgen, Sources: 40},
			want: map[string]want{
				"net.ipv4.ip_local_port_range": {OK, "", "25000 ports"},
				"net.ipv4.tcp_tw_reuse":        {OK, "", ""},
			},
		},
		{
			// 62,500 ports per pair fit the range, but past half of it
			// every connect() walks the used half first.
			name:    "loadgen, 16 sources fit but connect slows",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1_000_000, Role: Loadgen, Sources: 16},
			want: map[string]want{
				"net.ipv4.ip_local_port_range": {Warn, "", "dial from >= 32 source addresses"},
			},
		},
		{
			name:    "loadgen, widening is enough",
			sysctls: stockSysctls(), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 60000, Role: Loadgen},
			want:   map[string]want{"net.ipv4.ip_local_port_range": {Fail, "1024 65535", "28232 usable"}},
		},
		{
			name:    "loadgen, two destinations halve the ports per pair",
			sysctls: stockSysctls(), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 28000, Role: Loadgen, Destinations: 2},
			want:   map[string]want{"net.ipv4.ip_local_port_range": {OK, "", ">= 14000 ports"}},
		},
		{
			name:    "loadgen, reserved ports shrink the range",
			sysctls: with(tunedSysctls(), "net.ipv4.ip_local_reserved_ports", "1024-40000"),
			meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 30000, Role: Loadgen},
			want:   map[string]want{"net.ipv4.ip_local_port_range": {Fail, "", "25535 usable"}},
		},
		{
			name:    "loadgen, range already widest, needs sources only",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1_000_000, Role: Loadgen, Sources: 4},
			want:   map[string]want{"net.ipv4.ip_local_port_range": {Fail, "", "dial from >= 32 source addresses"}},
		},
		{
			name:    "loadgen widening the range swallows the server port",
			sysctls: stockSysctls(), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 60000, Role: Loadgen, Port: 8080},
			want:   map[string]want{"net.ipv4.ip_local_reserved_ports": {Warn, "8080", "ip_local_reserved_ports=8080"}},
		},
		{
			name:    "server port inside a widened range, other ports reserved",
			sysctls: with(tunedSysctls(), "net.ipv4.ip_local_reserved_ports", "9000-9010,40000"),
			meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1000, Port: 8080},
			want:   map[string]want{"net.ipv4.ip_local_reserved_ports": {Warn, "8080,9000-9010,40000", `"8080,9000-9010,40000"`}},
		},
		{
			name:    "server port inside a reserved span",
			sysctls: with(tunedSysctls(), "net.ipv4.ip_local_reserved_ports", "8000-8100"),
			meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1000, Port: 8080},
			want:   map[string]want{"net.ipv4.ip_local_reserved_ports": {OK, "", ""}},
		},
		{
			name:    "server port outside the stock range",
			sysctls: stockSysctls(), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1000, Port: 8080},
			want:   map[string]want{"net.ipv4.ip_local_reserved_ports": {OK, "", ""}},
		},
		{
			name:    "conntrack in use and too small",
			sysctls: with(stockSysctls(), "net.netfilter.nf_conntrack_count", "1200"),
			meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1_000_000},
			want:   map[string]want{"net.netfilter.nf_conntrack_max": {Fail, "1250000", "1200 tracked now"}},
		},
		{
			name:    "conntrack count unreadable counts as in use",
			sysctls: with(stockSysctls(), "net.netfilter.nf_conntrack_count", "-"),
			meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1_000_000},
			want:   map[string]want{"net.netfilter.nf_conntrack_max": {Fail, "1250000", ""}},
		},
		{
			name:    "conntrack not loaded",
			sysctls: with(stockSysctls(), "net.netfilter.nf_conntrack_max", "-", "net.netfilter.nf_conntrack_count", "-"),
			meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1_000_000},
			want:   map[string]want{"net.netfilter.nf_conntrack_max": {OK, "", "not loaded"}},
		},
		{
			name:    "missing sysctl and meminfo",
			sysctls: with(stockSysctls(), "net.core.somaxconn", "-"), lim: highNoFile(),
			target: Target{Conns: 1000},
			want: map[string]want{
				"net.core.somaxconn": {Warn, "", "run `myriad tune` on the host"},
				"MemAvailable":       {Warn, "", "unreadable"},
			},
		},
		{
			name:    "malformed sysctl",
			sysctls: with(stockSysctls(), "net.ipv4.tcp_mem", "12 34"), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1000},
			want:   map[string]want{"net.ipv4.tcp_mem": {Warn, "", "want 3 values"}},
		},
		{
			name:    "missing fs key",
			sysctls: with(stockSysctls(), "fs.file-max", "-"), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1000},
			want:   map[string]want{"fs.file-max": {Warn, "", "/proc/sys is mounted"}},
		},
		{
			name:    "tcp_mem pressure too low but max enough",
			sysctls: with(tunedSysctls(), "net.ipv4.tcp_mem", "100 200 2000000"), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1_000_000},
			want:   map[string]want{"net.ipv4.tcp_mem": {Warn, "500000 1000000 2000000", ""}},
		},
		{
			name: "large buffer minimum and default",
			sysctls: with(tunedSysctls(), "net.ipv4.tcp_rmem", "8192 1048576 16777216",
				"net.ipv4.tcp_wmem", "4096 524288 16777216"),
			meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1_000_000},
			want: map[string]want{
				"net.ipv4.tcp_rmem": {Warn, "4096 131072 16777216", ""},
				"net.ipv4.tcp_wmem": {Warn, "4096 16384 16777216", ""},
			},
		},
		{
			name:    "memory below idle cost",
			sysctls: tunedSysctls(), meminfo: "MemAvailable: 2097152 kB\n", lim: highNoFile(),
			target: Target{Conns: 1_000_000},
			want: map[string]want{
				"MemAvailable": {Fail, "", "at most 441233 idle"},
				"GOMEMLIMIT":   {Warn, "", "set GOMEMLIMIT to the memory"},
			},
		},
		{
			name:    "memory enough idle, not broadcasting",
			sysctls: tunedSysctls(), meminfo: "MemAvailable: 6291456 kB\n", lim: highNoFile(),
			target: Target{Conns: 1_000_000},
			want:   map[string]want{"MemAvailable": {Warn, "", "broadcasts"}},
		},
		{
			name:    "user bytes per conn raise the memory need",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 1_000_000, UserBytesPerConn: 32 << 10},
			want:   map[string]want{"MemAvailable": {Fail, "", ""}},
		},
		{
			name:    "GOMEMLIMIT malformed",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(), environ: []string{"GOMEMLIMIT=12G"},
			target: Target{Conns: 1_000_000},
			want:   map[string]want{"GOMEMLIMIT": {Fail, "14GiB", "malformed"}},
		},
		{
			name:    "GOMEMLIMIT below the heap",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(), environ: []string{"GOMEMLIMIT=512MiB"},
			target: Target{Conns: 1_000_000},
			want:   map[string]want{"GOMEMLIMIT": {Fail, "14GiB", ""}},
		},
		{
			name:    "GOMEMLIMIT above what the kernel leaves",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(), environ: []string{"GOMEMLIMIT=20GiB"},
			target: Target{Conns: 1_000_000},
			want:   map[string]want{"GOMEMLIMIT": {Warn, "14GiB", ""}},
		},
		{
			name:    "GOMEMLIMIT off counts as unset, first entry wins",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(), environ: []string{"GOMEMLIMIT=off", "GOMEMLIMIT=12GiB"},
			target: Target{Conns: 1_000_000},
			want:   map[string]want{"GOMEMLIMIT": {Warn, "14GiB", "unset"}},
		},
		{
			name:    "GOMEMLIMIT unset is fine for a small target",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(),
			target: Target{Conns: 10, Role: Loadgen},
			want:   map[string]want{"GOMEMLIMIT": {OK, "", "unset"}},
		},
		{
			name:    "GOMEMLIMIT unset is short when the heap is not small",
			sysctls: tunedSysctls(), meminfo: "MemAvailable: 4194304 kB\n", lim: highNoFile(),
			target: Target{Conns: 200_000},
			want:   map[string]want{"GOMEMLIMIT": {Warn, "*", "unset"}},
		},
		{
			name:    "GOGC off without a limit",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(), environ: []string{"GOGC=off"},
			target: Target{Conns: 1000},
			want:   map[string]want{"GOGC": {Fail, "", ""}},
		},
		{
			name:    "GOGC negative without a limit",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(), environ: []string{"GOGC=-1", "GOMEMLIMIT=off"},
			target: Target{Conns: 1000},
			want:   map[string]want{"GOGC": {Fail, "", ""}},
		},
		{
			name:    "GOGC off with a limit",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(), environ: []string{"GOGC=off", goodEnv},
			target: Target{Conns: 1000},
			want:   map[string]want{"GOGC": {OK, "", ""}},
		},
		{
			name:    "GOGC malformed",
			sysctls: tunedSysctls(), meminfo: meminfo24G, lim: highNoFile(), environ: []string{"GOGC=fast"},
			target: Target{Conns: 1000},
			want:   map[string]want{"GOGC": {Warn, "", "GOGC=100"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := fakeHost(t, tc.sysctls, tc.meminfo, tc.lim, tc.environ...)
			r := mustCheck(t, h, tc.target)
			for name, w := range tc.want {
				f := mustFind(t, r, name)
				if f.Severity != w.sev {
					t.Errorf("%s: severity %s, want %s\n%+v", name, f.Severity, w.sev, f)
				}
				if w.want != "*" && w.sev != OK && f.Want != w.want {
					t.Errorf("%s: Want %q, want %q", name, f.Want, w.want)
				}
				if hay := f.Current + "|" + f.Needed + "|" + f.Why + "|" + f.Fix; w.substr != "" && !strings.Contains(hay, w.substr) {
					t.Errorf("%s: %q not in %q", name, w.substr, hay)
				}
				if f.Why == "" {
					t.Errorf("%s: empty Why", name)
				}
				if (f.Severity == OK) != (f.Fix == "") {
					t.Errorf("%s: severity %s with Fix %q", name, f.Severity, f.Fix)
				}
				if f.Severity == OK && f.Key != "" {
					raw, err := readSysctl(h.Root, f.Key)
					if err != nil || f.Want != raw {
						t.Errorf("%s: OK finding pins %q, current is %q (%v)", name, f.Want, raw, err)
					}
				}
			}
			for _, name := range tc.absent {
				if _, ok := r.Finding(name); ok {
					t.Errorf("%s reported for role %s", name, tc.target.Role)
				}
			}
		})
	}
}

func TestCheckRejectsInvalidTarget(t *testing.T) {
	tests := []struct {
		name   string
		target Target
	}{
		{"zero conns", Target{}},
		{"negative conns", Target{Conns: -1}},
		{"unknown role", Target{Conns: 1, Role: Role(7)}},
		{"port too large", Target{Conns: 1, Port: 70000}},
		{"negative sources", Target{Conns: 1, Sources: -1}},
		{"negative destinations", Target{Conns: 1, Destinations: -2}},
		{"negative user bytes", Target{Conns: 1, UserBytesPerConn: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Check(Host{Root: t.TempDir()}, tc.target); err == nil {
				t.Fatal("Check accepted an invalid target")
			}
		})
	}
}

func TestCheckFillsDefaults(t *testing.T) {
	h := fakeHost(t, stockSysctls(), meminfo24G, lowNoFile())
	r := mustCheck(t, h, Target{Conns: 10, Role: Loadgen})
	got := r.Target
	if got.Sources != 1 || got.Destinations != 1 || got.UserBytesPerConn != DefaultUserBytesPerConn {
		t.Fatalf("defaults not filled: %+v", got)
	}
	if r.NoFile != 10+FDHeadroom {
		t.Fatalf("NoFile = %d, want %d", r.NoFile, 10+FDHeadroom)
	}
}
