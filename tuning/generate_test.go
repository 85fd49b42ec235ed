package tuning

import (
	"bufio"
	"strings"
	"testing"
)

// parseSysctlConf parses sysctl.d syntax: "key = value" lines, "#" and
// ";" comments, blank lines. It fails the test on anything else, like
// systemd-sysctl would complain.
func parseSysctlConf(t *testing.T, content string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(content))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" || strings.ContainsAny(k, " \t") {
			t.Fatalf("line %d is not key = value: %q", n, line)
		}
		if _, dup := out[k]; dup {
			t.Fatalf("line %d sets %s twice", n, k)
		}
		out[k] = v
	}
	return out
}

// parseUnit parses systemd unit syntax into section -> key -> value, and
// returns commented-out assignments separately. Values of a repeated key
// are joined with "\n".
func parseUnit(t *testing.T, content string) (active, commented map[string]map[string]string) {
	t.Helper()
	active, commented = map[string]map[string]string{}, map[string]map[string]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(content))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		dst := active
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			continue
		case line[0] == '#' || line[0] == ';':
			// A comment that parses as Key=Value is a suggestion.
			line, dst = strings.TrimSpace(line[1:]), commented
			if k, _, ok := strings.Cut(line, "="); !ok || strings.ContainsAny(k, " \t") {
				continue
			}
		}
		if section == "" {
			t.Fatalf("line %d outside a section: %q", n, line)
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			t.Fatalf("line %d is not Key=Value: %q", n, line)
		}
		if dst[section] == nil {
			dst[section] = map[string]string{}
		}
		if old, ok := dst[section][k]; ok {
			v = old + "\n" + v
		}
		dst[section][k] = v
	}
	return active, commented
}

func TestSysctlConf(t *testing.T) {
	tests := []struct {
		name    string
		sysctls map[string]string
		target  Target
	}{
		{"stock host, 1M server", stockSysctls(), Target{Conns: 1_000_000, Port: 8080}},
		{"stock host, 1M loadgen over 40 sources", stockSysctls(), Target{Conns: 1_000_000, Role: Loadgen, Port: 8080, Sources: 40}},
		{"large buffers", with(stockSysctls(), "net.ipv4.tcp_rmem", "65536 1048576 16777216"), Target{Conns: 200_000}},
		{"tuned host pins its values", tunedSysctls(), Target{Conns: 1_000_000, Port: 8080}},
		{"too few sources is not a sysctl", tunedSysctls(), Target{Conns: 1_000_000, Role: Loadgen, Sources: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := fakeHost(t, tc.sysctls, meminfo24G, highNoFile())
			r := mustCheck(t, h, tc.target)
			conf := SysctlConf(r)
			got := parseSysctlConf(t, conf)
			for _, f := range r.Findings {
				switch {
				case f.Key == "":
					if _, ok := got[f.Name]; ok {
						t.Errorf("non-sysctl %s in the file", f.Name)
					}
				case f.Want != "":
					if got[f.Key] != f.Want {
						t.Errorf("%s = %q in the file, want %q", f.Key, got[f.Key], f.Want)
					}
					delete(got, f.Key)
				default:
					if _, ok := got[f.Key]; ok {
						t.Errorf("%s has no value to write but the file sets it", f.Key)
					}
				}
			}
			if len(got) != 0 {
				t.Errorf("unexpected settings %v", got)
			}

			// Installing the file's values must make every sysctl pass.
			fixed := with(tc.sysctls)
			for k, v := range parseSysctlConf(t, conf) {
				fixed[k] = v
			}
			r2 := mustCheck(t, fakeHost(t, fixed, meminfo24G, highNoFile()), tc.target)
			for _, f := range r2.Shortfalls() {
				if before, _ := r.Finding(f.Name); f.Key != "" && before.Want != "" {
					t.Errorf("after installing the file, %s still %s: %s (needs %s)", f.Key, f.Severity, f.Current, f.Needed)
				}
			}
			for _, f := range r.Shortfalls() {
				if f.Key != "" && f.Want == "" && !strings.Contains(conf, "#   "+f.Key+" is ") {
					t.Errorf("unfixable %s not mentioned in the file", f.Key)
				}
			}
		})
	}
}

func TestSystemdDropIn(t *testing.T) {
	tests := []struct {
		name     string
		meminfo  string
		target   Target
		path     string
		nofile   string
		memLimit string // "" means no suggestion
	}{
		{"server 1M", meminfo24G, Target{Conns: 1_000_000}, "/etc/systemd/system/myriad.service.d/90-limits.conf", "1001024", "14GiB"},
		{"loadgen 50k", meminfo24G, Target{Conns: 50_000, Role: Loadgen}, "/etc/systemd/system/myriad-loadgen.service.d/90-limits.conf", "51024", "20GiB"},
		{"no meminfo, no suggestion", "", Target{Conns: 1000}, "/etc/systemd/system/myriad.service.d/90-limits.conf", "2024", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustCheck(t, fakeHost(t, stockSysctls(), tc.meminfo, lowNoFile()), tc.target)
			content := SystemdDropIn(r)
			if !strings.HasPrefix(content, "# "+tc.path+"\n") || DropInPath(tc.target.Role) != tc.path {
				t.Errorf("path %q not named first:\n%s", tc.path, content)
			}
			active, commented := parseUnit(t, content)
			if len(active) != 1 || len(active["Service"]) != 1 {
				t.Fatalf("want only [Service] LimitNOFILE, got %v", active)
			}
			if got := active["Service"]["LimitNOFILE"]; got != tc.nofile {
				t.Errorf("LimitNOFILE=%s, want %s", got, tc.nofile)
			}
			env := commented["Service"]["Environment"]
			if tc.memLimit == "" {
				if env != "" {
					t.Errorf("unexpected suggestion %q", env)
				}
				return
			}
			if env != "GOMEMLIMIT="+tc.memLimit {
				t.Fatalf("suggested Environment=%q, want GOMEMLIMIT=%s", env, tc.memLimit)
			}
			if _, err := parseByteCount(tc.memLimit); err != nil {
				t.Fatalf("suggested GOMEMLIMIT does not parse: %v", err)
			}
		})
	}
}

func TestWriteCommentWraps(t *testing.T) {
	var b strings.Builder
	writeComment(&b, strings.Repeat("word ", 40)+strings.Repeat("x", 90))
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if !strings.HasPrefix(line, "# ") {
			t.Fatalf("line %q is not a comment", line)
		}
		if len(line) > 76 && strings.Contains(line[2:], " ") {
			t.Fatalf("line of %d columns was not wrapped: %q", len(line), line)
		}
	}
}
