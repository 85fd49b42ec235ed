package tuning

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Finding is the judgement of one setting against a Target.
type Finding struct {
	// Name is the setting: a sysctl key such as "net.core.somaxconn", or
	// "RLIMIT_NOFILE soft", "MemAvailable", "GOMEMLIMIT".
	Name string
	// Key is the sysctl key when the setting is a sysctl, else empty.
	// Apply and SysctlConf act only on findings with a Key.
	Key string
	// Current is the value found, as the kernel prints it, with units
	// added where the raw value hides them (tcp_mem is in pages).
	Current string
	// Needed states what the target requires, for example ">= 65535".
	Needed string
	// Want is a value that satisfies the check, in the syntax its file
	// takes (sysctl syntax for sysctls). It never lowers a setting that is
	// already larger than needed; for an OK sysctl it is the current value,
	// so a generated file can pin it. Empty when no value would help.
	Want string
	// Severity grades the shortfall; OK means none.
	Severity Severity
	// Why is one sentence on what goes wrong without the needed value.
	Why string
	// Fix is the exact command or file line that fixes it; lines are
	// separated by "\n". Empty when Severity is OK.
	Fix string
}

// Report is the result of Check: one Finding per setting, in a stable
// order (descriptors, queues, ports, memory, Go runtime). It is a plain
// value; its methods only read it and may be called from any goroutine.
type Report struct {
	// Target is the target as checked, with defaults filled in.
	Target Target
	// Findings holds every setting checked, including those that are OK.
	Findings []Finding
	// NoFile is the RLIMIT_NOFILE the target needs, for SystemdDropIn.
	NoFile uint64
	// MemLimit is a suggested GOMEMLIMIT in bytes: the memory left to the
	// Go heap after the kernel's share for the sockets. Zero when
	// MemAvailable could not be read or leaves nothing.
	MemLimit int64
}

// Shortfalls returns the findings whose Severity is not OK, in report
// order.
func (r Report) Shortfalls() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity != OK {
			out = append(out, f)
		}
	}
	return out
}

// Worst returns the highest severity in the report, OK for an empty one.
func (r Report) Worst() Severity {
	w := OK
	for _, f := range r.Findings {
		w = max(w, f.Severity)
	}
	return w
}

// Finding returns the finding with the given Name.
func (r Report) Finding(name string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Name == name {
			return f, true
		}
	}
	return Finding{}, false
}

// WriteText renders the report for a terminal: a heading, an aligned table
// of every finding, then each shortfall with its reason and fix.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	t := r.Target
	fmt.Fprintf(&b, "target: %d connections in one process, role %s", t.Conns, t.Role)
	if t.Port > 0 {
		fmt.Fprintf(&b, ", port %d", t.Port)
	}
	if t.Role == Loadgen {
		fmt.Fprintf(&b, ", %d source address(es), %d destination(s)", t.Sources, t.Destinations)
	}
	fmt.Fprintf(&b, ", %d user bytes/conn\n\n", t.UserBytesPerConn)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tSETTING\tCURRENT\tNEEDED")
	for _, f := range r.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Severity, f.Name, f.Current, f.Needed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	short := r.Shortfalls()
	if len(short) == 0 {
		b.WriteString("\nno shortfalls: this host supports the target.\n")
	} else {
		var nFail, nWarn int
		for _, f := range short {
			if f.Severity == Fail {
				nFail++
			} else {
				nWarn++
			}
		}
		fmt.Fprintf(&b, "\n%d fail, %d warn. Fixes:\n", nFail, nWarn)
		for _, f := range short {
			fmt.Fprintf(&b, "\n[%s] %s: %s\n", f.Severity, f.Name, f.Why)
			for _, line := range strings.Split(f.Fix, "\n") {
				fmt.Fprintf(&b, "    %s\n", line)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String returns the text rendering of WriteText.
func (r Report) String() string {
	var b strings.Builder
	_ = r.WriteText(&b) // a strings.Builder never fails
	return b.String()
}
