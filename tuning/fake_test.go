package tuning

import (
	"os"
	"path/filepath"
	"testing"
)

// stockSysctls are the values of an untuned Linux 6.x host with 24 GiB,
// as read from a real one; fake trees start from them.
func stockSysctls() map[string]string {
	return map[string]string{
		"fs.nr_open":                       "1048576",
		"fs.file-max":                      "2466177",
		"net.core.somaxconn":               "4096",
		"net.ipv4.tcp_max_syn_backlog":     "2048",
		"net.core.netdev_max_backlog":      "1000",
		"net.ipv4.ip_local_port_range":     "32768\t60999",
		"net.ipv4.ip_local_reserved_ports": "",
		"net.ipv4.tcp_mem":                 "287901\t383868\t575802",
		"net.ipv4.tcp_rmem":                "4096\t131072\t33554432",
		"net.ipv4.tcp_wmem":                "4096\t16384\t4194304",
		"net.ipv4.tcp_tw_reuse":            "2",
		"net.ipv4.tcp_migrate_req":         "0",
		"net.ipv4.tcp_fin_timeout":         "60",
		"net.ipv4.tcp_max_orphans":         "131072",
		"net.netfilter.nf_conntrack_max":   "262144",
		"net.netfilter.nf_conntrack_count": "0",
	}
}

// tunedSysctls overrides the stock values with ones that pass a
// one-million-connection target for either role.
func tunedSysctls() map[string]string {
	m := stockSysctls()
	for k, v := range map[string]string{
		"fs.nr_open":                       "2097152",
		"fs.file-max":                      "4194304",
		"net.core.somaxconn":               "65535",
		"net.ipv4.tcp_max_syn_backlog":     "65535",
		"net.core.netdev_max_backlog":      "16384",
		"net.ipv4.ip_local_port_range":     "1024\t65535",
		"net.ipv4.ip_local_reserved_ports": "8080",
		"net.ipv4.tcp_mem":                 "524288\t1048576\t1572864",
		"net.ipv4.tcp_tw_reuse":            "1",
		"net.ipv4.tcp_migrate_req":         "1",
		"net.ipv4.tcp_fin_timeout":         "30",
		"net.ipv4.tcp_max_orphans":         "1048576",
		"net.netfilter.nf_conntrack_max":   "1310720",
	} {
		m[k] = v
	}
	return m
}

// meminfo24G is a /proc/meminfo excerpt of a 24 GiB host with 23.3 GiB
// available.
const meminfo24G = "MemTotal:       24684092 kB\nMemFree:        24300000 kB\nMemAvailable:   24457872 kB\n"

// fakeHost builds a proc tree in a temporary directory. Keys mapped to
// "-" are left out, as when a module is not loaded. meminfo "" leaves
// /proc/meminfo out.
func fakeHost(t *testing.T, sysctls map[string]string, meminfo string, lim Rlimit, environ ...string) Host {
	t.Helper()
	root := t.TempDir()
	for k, v := range sysctls {
		if v == "-" {
			continue
		}
		p := sysctlPath(root, k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if meminfo != "" {
		if err := os.WriteFile(filepath.Join(root, "proc", "meminfo"), []byte(meminfo), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Host{Root: root, NoFile: lim, Environ: environ, PageSize: 4096}
}

// with returns a copy of base with the given key/value pairs set.
func with(base map[string]string, kv ...string) map[string]string {
	m := make(map[string]string, len(base))
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// mustCheck runs Check and fails the test on error.
func mustCheck(t *testing.T, h Host, tg Target) Report {
	t.Helper()
	r, err := Check(h, tg)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return r
}

// mustFind returns the named finding or fails the test.
func mustFind(t *testing.T, r Report, name string) Finding {
	t.Helper()
	f, ok := r.Finding(name)
	if !ok {
		t.Fatalf("no finding %q in report:\n%s", name, r)
	}
	return f
}

// lowNoFile is the descriptor limit of the development host: far below a
// million.
func lowNoFile() Rlimit { return Rlimit{Soft: 19999, Hard: 20000} }

// highNoFile is a limit that fits a million connections.
func highNoFile() Rlimit { return Rlimit{Soft: 1048576, Hard: 1048576} }
