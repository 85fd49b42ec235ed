package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myriadws/myriad/tuning"
)

// fakeProc writes a small proc tree with stock values under a temporary
// directory and returns its root.
func fakeProc(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"sys/fs/nr_open":                       "1048576",
		"sys/fs/file-max":                      "2466177",
		"sys/net/core/somaxconn":               "4096",
		"sys/net/ipv4/tcp_max_syn_backlog":     "2048",
		"sys/net/core/netdev_max_backlog":      "1000",
		"sys/net/ipv4/ip_local_port_range":     "32768\t60999",
		"sys/net/ipv4/ip_local_reserved_ports": "",
		"sys/net/ipv4/tcp_mem":                 "287901\t383868\t575802",
		"sys/net/ipv4/tcp_rmem":                "4096\t131072\t6291456",
		"sys/net/ipv4/tcp_wmem":                "4096\t16384\t4194304",
		"sys/net/ipv4/tcp_tw_reuse":            "2",
		"sys/net/ipv4/tcp_fin_timeout":         "60",
		"sys/net/ipv4/tcp_max_orphans":         "131072",
		"meminfo":                              "MemTotal: 24684092 kB\nMemAvailable: 24457872 kB\n",
	}
	for name, v := range files {
		p := filepath.Join(root, "proc", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// readFile returns the content of path or fails the test.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTuneUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--bogus"}, "flag provided but not defined: -bogus"},
		{"bad number", []string{"--conns", "many"}, `invalid value "many" for flag -conns`},
		{"zero conns", []string{"--conns", "0"}, "invalid --conns 0"},
		{"bad role", []string{"--role", "client"}, `invalid --role: unknown role "client"`},
		{"port out of range", []string{"--port", "65536"}, "invalid --port 65536"},
		{"zero sources", []string{"--sources", "0"}, "invalid --sources 0"},
		{"zero destinations", []string{"--destinations", "0"}, "invalid --destinations 0"},
		{"zero user bytes", []string{"--user-bytes", "0"}, "invalid --user-bytes 0"},
		{"positional argument", []string{"now"}, `unexpected argument "now"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := tune(tc.args, nil, &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "myriad tune: ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("stderr %q: want one line containing %q", msg, tc.want)
			}
			if stdout.Len() != 0 {
				t.Fatalf("stdout not empty: %q", stdout.String())
			}
		})
	}
}

func TestTuneHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := tune([]string{"-h"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	for _, want := range []string{"usage: myriad tune", "Exit status", "-conns", "-write-sysctl", "-apply"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestTuneReport(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{
			name: "server defaults",
			args: nil,
			want: []string{"target: 1000000 connections in one process, role server, port 8080", "STATUS  SETTING", "sysctl -w net.core.somaxconn=65535", "GOMEMLIMIT=14GiB"},
		},
		{
			name: "loadgen over 40 sources",
			args: []string{"--role", "loadgen", "--sources", "40", "--conns", "1000000"},
			env:  []string{"GOMEMLIMIT=10GiB"},
			want: []string{"role loadgen", "40 source address(es)", "net.ipv4.ip_local_port_range", "(half the range) for a fast connect()", "GOMEMLIMIT                        10GiB"},
		},
		{
			name: "small target",
			args: []string{"--conns", "1000", "--port", "0"},
			want: []string{"target: 1000 connections in one process, role server, 1024 user bytes/conn"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeProc(t)
			var stdout, stderr bytes.Buffer
			code := tune(append([]string{"--root", root}, tc.args...), tc.env, &stdout, &stderr)
			if code != 0 || stderr.Len() != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
		})
	}
}

func TestTuneWritesFiles(t *testing.T) {
	root := fakeProc(t)
	dir := t.TempDir()
	sysctlPath, unitPath := filepath.Join(dir, "90-myriad.conf"), filepath.Join(dir, "90-limits.conf")
	var stdout, stderr bytes.Buffer
	args := []string{"--root", root, "--conns", "500000", "--write-sysctl", sysctlPath, "--write-systemd", unitPath}
	if code := tune(args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	conf, unit := readFile(t, sysctlPath), readFile(t, unitPath)
	for _, w := range []string{"\nnet.core.somaxconn = 65535\n", "\nnet.ipv4.tcp_mem = 287901 500000 750000\n"} {
		if !strings.Contains(conf, w) {
			t.Errorf("sysctl file lacks %q:\n%s", w, conf)
		}
	}
	if !strings.Contains(unit, "\n[Service]\n") || !strings.Contains(unit, "\nLimitNOFILE=501024\n") {
		t.Errorf("drop-in lacks LimitNOFILE=501024:\n%s", unit)
	}
	for _, w := range []string{"wrote sysctl settings to " + sysctlPath, "wrote systemd drop-in to " + unitPath} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

func TestTuneWriteCreatesFolders(t *testing.T) {
	root := fakeProc(t)
	dir := t.TempDir()
	sysctlPath := filepath.Join(dir, "etc/sysctl.d/90-myriad.conf")
	unitPath := filepath.Join(dir, "etc/systemd/system/myriad.service.d/90-limits.conf")
	var stdout, stderr bytes.Buffer
	args := []string{"--root", root, "--conns", "10000", "--write-sysctl", sysctlPath, "--write-systemd", unitPath}
	if code := tune(args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if unit := readFile(t, unitPath); !strings.Contains(unit, "\nLimitNOFILE=11024\n") {
		t.Errorf("drop-in lacks LimitNOFILE=11024:\n%s", unit)
	}
	if conf := readFile(t, sysctlPath); !strings.Contains(conf, "net.core.somaxconn") {
		t.Errorf("sysctl file lacks somaxconn:\n%s", conf)
	}
}

func TestTuneWriteFailureWritesNothing(t *testing.T) {
	tests := []struct {
		name string
		// badTarget returns a --write-systemd path that cannot be written.
		badTarget func(t *testing.T, dir string) string
		want      string
	}{
		{"parent cannot be created", func(t *testing.T, dir string) string {
			if err := os.WriteFile(filepath.Join(dir, "system"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "system/myriad.service.d/90-limits.conf")
		}, "is not a directory"},
		{"target is a folder", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "90-limits.conf")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeProc(t)
			dir := t.TempDir()
			sysctlPath := filepath.Join(dir, "sysctl.d/90-myriad.conf")
			var stdout, stderr bytes.Buffer
			args := []string{"--root", root, "--write-sysctl", sysctlPath, "--write-systemd", tc.badTarget(t, dir)}
			if code := tune(args, nil, &stdout, &stderr); code != 1 {
				t.Fatalf("exit %d, want 1", code)
			}
			msg := stderr.String()
			if !strings.HasPrefix(msg, "myriad tune: write sysctl settings and systemd drop-in: nothing written: ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("stderr %q", msg)
			}
			if !strings.Contains(stdout.String(), "STATUS") {
				t.Fatal("report not printed before the failure")
			}
			if strings.Contains(stdout.String(), "wrote ") {
				t.Fatalf("claims a write: %q", stdout.String())
			}
			if _, err := os.Stat(filepath.Dir(sysctlPath)); !os.IsNotExist(err) {
				t.Fatalf("sysctl folder left behind (stat: %v)", err)
			}
		})
	}
}

func TestTuneApply(t *testing.T) {
	root := fakeProc(t)
	var stdout, stderr bytes.Buffer
	args := []string{"--root", root, "--role", "loadgen", "--conns", "30000", "--port", "8080", "--apply"}
	if code := tune(args, []string{"GOMEMLIMIT=4GiB"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	out := stdout.String()
	for _, w := range []string{
		"net.ipv4.ip_local_port_range: 32768 60999 -> 1024 65535",
		"net.ipv4.ip_local_reserved_ports:  -> 8080",
		"net.ipv4.tcp_tw_reuse: 2 -> 1",
		"net.ipv4.tcp_fin_timeout: 60 -> 30",
		"still short: RLIMIT_NOFILE",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if got := readFile(t, filepath.Join(root, "proc/sys/net/ipv4/ip_local_port_range")); got != "1024 65535\n" {
		t.Errorf("port range file = %q", got)
	}
	// What is still short is not a sysctl: Apply left nothing behind.
	host := tuning.Host{Root: root, NoFile: tuning.Rlimit{Soft: 1 << 20, Hard: 1 << 20}, Environ: []string{"GOMEMLIMIT=4GiB"}}
	r, err := tuning.Check(host, tuning.Target{Conns: 30000, Role: tuning.Loadgen, Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Shortfalls(); len(s) != 0 {
		t.Errorf("shortfalls after apply: %+v", s)
	}
}
