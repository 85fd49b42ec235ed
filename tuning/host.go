package tuning

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Rlimit is a soft and hard resource limit, as getrlimit(2) returns it.
type Rlimit struct {
	Soft uint64
	Hard uint64
}

// Host is everything Check judges, gathered from one machine as seen by one
// process. Keeping it a plain value lets tests describe a host completely
// with a temporary directory and a few fields.
type Host struct {
	// Root is the directory that holds proc/sys and proc/meminfo: "/" on a
	// real machine, a temporary directory in tests.
	Root string
	// NoFile is RLIMIT_NOFILE of the process that will hold the
	// connections.
	NoFile Rlimit
	// Environ holds that process's environment as "KEY=value" strings, as
	// os.Environ returns them; only GOMEMLIMIT and GOGC are read.
	Environ []string
	// PageSize is the kernel page size in bytes; tcp_mem is counted in
	// pages. Zero means 4096.
	PageSize int
}

// pageSize returns the page size, defaulting to 4096.
func (h Host) pageSize() int64 {
	if h.PageSize > 0 {
		return int64(h.PageSize)
	}
	return 4096
}

// sysctlPath maps a dotted sysctl key to its file under root.
func sysctlPath(root, key string) string {
	return filepath.Join(root, "proc", "sys", filepath.FromSlash(strings.ReplaceAll(key, ".", "/")))
}

// readSysctl returns the value of key with runs of whitespace folded to one
// space, the form sysctl(8) prints and sysctl.d files use.
func readSysctl(root, key string) (string, error) {
	b, err := os.ReadFile(sysctlPath(root, key))
	if err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(string(b)), " "), nil
}

// sysctlExists reports whether key is present, which for module-provided
// keys such as net.netfilter.nf_conntrack_max means the module is loaded.
func sysctlExists(root, key string) bool {
	_, err := os.Stat(sysctlPath(root, key))
	return err == nil
}

// readInts reads a sysctl holding want whitespace-separated integers.
func readInts(root, key string, want int) ([]int64, error) {
	s, err := readSysctl(root, key)
	if err != nil {
		return nil, err
	}
	return parseInts(s, want)
}

// parseInts parses exactly want whitespace-separated integers.
func parseInts(s string, want int) ([]int64, error) {
	f := strings.Fields(s)
	if len(f) != want {
		return nil, fmt.Errorf("want %d values, got %q", want, s)
	}
	out := make([]int64, want)
	for i, x := range f {
		v, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %q: %w", s, err)
		}
		out[i] = v
	}
	return out, nil
}

// readMeminfo returns the named /proc/meminfo field in bytes.
func readMeminfo(root, field string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(root, "proc", "meminfo"))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("meminfo %s: %w", field, err)
		}
		if len(f) > 1 && f[1] == "kB" {
			v *= 1024
		}
		return v, nil
	}
	return 0, fmt.Errorf("meminfo: no %s field", field)
}

// lookupEnv finds key in an os.Environ-style list. The first entry wins,
// as it does when the Go runtime reads GOGC and GOMEMLIMIT.
func lookupEnv(environ []string, key string) (string, bool) {
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k == key {
			return v, true
		}
	}
	return "", false
}
