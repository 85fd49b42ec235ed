package tuning

import (
	"fmt"
	"strings"
)

// SysctlConf returns the content of a sysctl.d file (for SysctlFile) that
// makes the host pass every sysctl finding of r, and keeps passing after a
// reboot. Each shortfall becomes a "key = value" line preceded by its
// reason and old value; settings that are already enough are pinned at
// their current value, which may have been set by hand and would otherwise
// be lost at boot. Shortfalls no sysctl fixes (too few source addresses)
// are listed as comments. Non-sysctl findings are left to SystemdDropIn.
func SysctlConf(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", SysctlFile)
	fmt.Fprintf(&b, "# Written by `myriad tune` for %d connections in one process, role %s.\n", r.Target.Conns, r.Target.Role)
	b.WriteString("# Load it now with `sysctl --system`; systemd-sysctl loads it at boot.\n")
	var ok, unfixable []Finding
	for _, f := range r.Findings {
		switch {
		case f.Key == "":
		case f.Want == "" && f.Severity != OK:
			unfixable = append(unfixable, f)
		case f.Want == "":
		case f.Severity == OK:
			ok = append(ok, f)
		default:
			b.WriteString("\n")
			writeComment(&b, f.Why)
			fmt.Fprintf(&b, "# was: %s; needed: %s\n", f.Current, f.Needed)
			fmt.Fprintf(&b, "%s = %s\n", f.Key, f.Want)
		}
	}
	if len(ok) > 0 {
		b.WriteString("\n# Already enough; pinned at their current values so a reboot keeps them.\n")
		for _, f := range ok {
			fmt.Fprintf(&b, "%s = %s\n", f.Key, f.Want)
		}
	}
	if len(unfixable) > 0 {
		b.WriteString("\n# Short, but no sysctl value fixes it:\n")
		for _, f := range unfixable {
			fmt.Fprintf(&b, "#   %s is %s (needed: %s): %s\n", f.Key, f.Current, f.Needed, strings.ReplaceAll(f.Fix, "\n", "; "))
		}
	}
	return b.String()
}

// DropInPath returns where SystemdDropIn's content belongs for role.
func DropInPath(role Role) string {
	unit := "myriad"
	if role == Loadgen {
		unit = "myriad-loadgen"
	}
	return "/etc/systemd/system/" + unit + ".service.d/90-limits.conf"
}

// SystemdDropIn returns the content of a systemd drop-in (for DropInPath)
// that gives the service the descriptor limit the target needs, and
// suggests a GOMEMLIMIT as a comment because the right value depends on
// what else runs on the host. The limit is written even when the checking
// process already has it: a service does not inherit a shell's limits.
func SystemdDropIn(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", DropInPath(r.Target.Role))
	fmt.Fprintf(&b, "# Written by `myriad tune` for %d connections in one process, role %s.\n", r.Target.Conns, r.Target.Role)
	b.WriteString("# Apply with `systemctl daemon-reload` and a restart of the service.\n")
	b.WriteString("[Service]\n")
	writeComment(&b, fmt.Sprintf("One descriptor per connection plus %d for listeners, event loops and logs. "+
		"Services ignore /etc/security/limits.conf; this line is where their limit comes from. "+
		"It must not exceed fs.nr_open or the service fails to start.", FDHeadroom))
	fmt.Fprintf(&b, "LimitNOFILE=%d\n", r.NoFile)
	if r.MemLimit > 0 {
		writeComment(&b, "Suggested Go heap limit: nine tenths of the memory left after the kernel's "+
			"share for the sockets and their queued buffers on this host. Uncomment after checking "+
			"what else runs here.")
		fmt.Fprintf(&b, "#Environment=GOMEMLIMIT=%s\n", formatByteCount(r.MemLimit))
	}
	writeComment(&b, "TasksMax is left alone: gnet runs one event-loop thread per core and the Go "+
		"runtime a handful more, far below the default. LimitMEMLOCK is left alone: nothing is "+
		"locked in memory.")
	return b.String()
}

// writeComment writes text as "# " lines of at most about 76 columns.
func writeComment(b *strings.Builder, text string) {
	line := "#"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 76 && line != "#" {
			b.WriteString(line + "\n")
			line = "#"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
}
