package tuning

import (
	"strings"
	"testing"
)

func TestTunedHostHasNoShortfalls(t *testing.T) {
	tests := []struct {
		name   string
		target Target
	}{
		{"server", Target{Conns: 1_000_000, Role: Server, Port: 8080}},
		{"loadgen over 40 sources", Target{Conns: 1_000_000, Role: Loadgen, Port: 8080, Sources: 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := fakeHost(t, tunedSysctls(), meminfo24G, Rlimit{Soft: 1001024, Hard: 1001024}, "GOMEMLIMIT=12GiB")
			r := mustCheck(t, h, tc.target)
			if s := r.Shortfalls(); len(s) != 0 || r.Worst() != OK {
				t.Fatalf("shortfalls on a tuned host:\n%s", r)
			}
			if !strings.Contains(r.String(), "no shortfalls") {
				t.Fatalf("text does not say so:\n%s", r)
			}
		})
	}
}

func TestShortfallsAndWorst(t *testing.T) {
	r := Report{Findings: []Finding{
		{Name: "a", Severity: OK},
		{Name: "b", Severity: Warn},
		{Name: "c", Severity: OK},
		{Name: "d", Severity: Fail},
	}}
	var names []string
	for _, f := range r.Shortfalls() {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "b,d" {
		t.Fatalf("Shortfalls = %s, want b,d", got)
	}
	if r.Worst() != Fail {
		t.Fatalf("Worst = %s, want fail", r.Worst())
	}
	if (Report{}).Worst() != OK {
		t.Fatal("empty report is not OK")
	}
}

// TestWriteTextAlignsColumns checks that every row of the table starts its
// columns at the same offsets as the header, whatever the value widths.
func TestWriteTextAlignsColumns(t *testing.T) {
	h := fakeHost(t, stockSysctls(), meminfo24G, lowNoFile())
	r := mustCheck(t, h, Target{Conns: 1_000_000, Port: 8080})
	text := r.String()
	head, body, ok := strings.Cut(text, "STATUS")
	if !ok || !strings.HasPrefix(head, "target: 1000000 connections") {
		t.Fatalf("no heading or table:\n%s", text)
	}
	lines := strings.Split("STATUS"+body, "\n")
	header := lines[0]
	cols := []int{strings.Index(header, "SETTING"), strings.Index(header, "CURRENT"), strings.Index(header, "NEEDED")}
	for _, f := range r.Findings {
		row := findLine(t, lines, f.Severity.String()+" ", f.Name)
		for i, field := range []string{f.Name, f.Current, f.Needed} {
			if !strings.HasPrefix(row[cols[i]:], field) {
				t.Errorf("column %d of %q is not %q", i+1, row, field)
			}
		}
	}
	for _, f := range r.Shortfalls() {
		if !strings.Contains(text, "["+f.Severity.String()+"] "+f.Name+": "+f.Why) {
			t.Errorf("fix section lacks %s", f.Name)
		}
		for _, line := range strings.Split(f.Fix, "\n") {
			if !strings.Contains(text, "    "+line+"\n") {
				t.Errorf("fix line %q missing", line)
			}
		}
	}
	if !strings.Contains(text, "3 fail, 8 warn. Fixes:") {
		t.Errorf("summary count missing:\n%s", text)
	}
}

// findLine returns the first line with prefix that contains name as a
// whole column.
func findLine(t *testing.T, lines []string, prefix, name string) string {
	t.Helper()
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, " "+name+" ") {
			return l
		}
	}
	t.Fatalf("no table row for %s", name)
	return ""
}

func TestStrings(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"server", Server.String(), "server"},
		{"loadgen", Loadgen.String(), "loadgen"},
		{"unknown role", Role(9).String(), "Role(9)"},
		{"ok", OK.String(), "ok"},
		{"warn", Warn.String(), "warn"},
		{"fail", Fail.String(), "fail"},
		{"unknown severity", Severity(5).String(), "Severity(5)"},
		{"change", Change{Key: "k", Old: "1", New: "2"}.String(), "k: 1 -> 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in      string
		want    Role
		wantErr bool
	}{
		{"server", Server, false},
		{"Loadgen", Loadgen, false},
		{" server ", Server, false},
		{"client", 0, true},
		{"", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRole(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("ParseRole(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}
