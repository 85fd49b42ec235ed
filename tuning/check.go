package tuning

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// SysctlFile is where the fixes and SysctlConf suggest persisting sysctl
// values. The 90- prefix sorts it after distribution defaults, so its values
// win when systemd-sysctl applies the directory at boot.
const SysctlFile = "/etc/sysctl.d/90-myriad.conf"

// Check judges host h against target t and returns one Finding per
// setting. It reads only below h.Root and never writes. A setting that
// cannot be read becomes a Warn finding rather than an error, so a partial
// /proc (a container, an old kernel) still yields a useful report; the
// error is for an invalid target.
func Check(h Host, t Target) (Report, error) {
	if err := t.Validate(); err != nil {
		return Report{}, err
	}
	t = t.withDefaults()
	c := checker{h: h, t: t}
	r := Report{Target: t, NoFile: t.noFileNeeded(), MemLimit: c.memLimit()}

	r.Findings = append(r.Findings, c.noFile()...)
	r.Findings = append(r.Findings, c.nrOpen(), c.fileMax())
	if t.Role == Server {
		r.Findings = append(r.Findings, c.somaxconn(), c.synBacklog(), c.migrateReq())
	}
	r.Findings = append(r.Findings, c.netdevBacklog())
	portRange := c.portRange()
	if t.Role == Loadgen {
		r.Findings = append(r.Findings, portRange)
	}
	if t.Role == Server {
		portRange.Want = "" // a server does not widen the range
	}
	if t.Port > 0 {
		r.Findings = append(r.Findings, c.reservedPorts(portRange))
	}
	if t.Role == Loadgen {
		r.Findings = append(r.Findings, c.twReuse())
	}
	r.Findings = append(r.Findings, c.finTimeout(), c.maxOrphans(), c.conntrack())
	r.Findings = append(r.Findings, c.tcpMem(), c.sockBuf("net.ipv4.tcp_rmem", 131072), c.sockBuf("net.ipv4.tcp_wmem", 16384))
	r.Findings = append(r.Findings, c.memory(), c.goMemLimit(r.MemLimit), c.goGC())
	for i, f := range r.Findings {
		if f.Key != "" && f.Severity == OK && f.Want == "" {
			// Pin what already works, so a file written from this report
			// keeps it across a reboot even if it was set by hand.
			r.Findings[i].Want, _ = readSysctl(h.Root, f.Key)
		}
	}
	return r, nil
}

// checker carries the inputs of one Check through the per-setting methods.
type checker struct {
	h Host
	t Target
}

// sysctlFix returns the command that sets key to val now and the command
// that persists it across reboots.
func sysctlFix(key, val string) string {
	arg := key + "=" + val
	if strings.ContainsAny(val, " \t,") {
		arg = key + `="` + val + `"`
	}
	return fmt.Sprintf("sysctl -w %s\necho '%s = %s' >> %s", arg, key, val, SysctlFile)
}

// unreadable turns a read error into a Warn finding: the setting may be
// fine, but nobody can tell.
func unreadable(key, needed string, err error) Finding {
	f := Finding{
		Name: key, Key: key, Current: "unreadable: " + err.Error(), Needed: needed, Severity: Warn,
		Why: "The setting could not be read, so whether it supports the target is unknown.",
		Fix: "check that /proc/sys is mounted here and that the kernel has " + key,
	}
	if errors.Is(err, fs.ErrNotExist) {
		f.Current = "missing"
		if strings.HasPrefix(key, "net.") {
			// Node-wide net.* settings (tcp_mem, netdev_max_backlog,
			// tcp_max_orphans) exist only in the host's network namespace.
			f.Fix = "not visible in this network namespace (a container?): it is node-wide, so run `myriad tune` on the host"
		}
	}
	return f
}

// atLeast judges a single-integer sysctl that must be at least need. sev is
// the severity of a shortfall.
func (c checker) atLeast(key string, need int64, sev Severity, why string) Finding {
	needed := ">= " + strconv.FormatInt(need, 10)
	v, err := readInts(c.h.Root, key, 1)
	if err != nil {
		return unreadable(key, needed, err)
	}
	f := Finding{Name: key, Key: key, Current: strconv.FormatInt(v[0], 10), Needed: needed, Why: why}
	if v[0] < need {
		f.Severity = sev
		f.Want = strconv.FormatInt(need, 10)
		f.Fix = sysctlFix(key, f.Want)
	}
	return f
}

// atMost judges a single-integer sysctl that must be at most limit.
func (c checker) atMost(key string, limit int64, sev Severity, why string) Finding {
	needed := "<= " + strconv.FormatInt(limit, 10)
	v, err := readInts(c.h.Root, key, 1)
	if err != nil {
		return unreadable(key, needed, err)
	}
	f := Finding{Name: key, Key: key, Current: strconv.FormatInt(v[0], 10), Needed: needed, Why: why}
	if v[0] > limit {
		f.Severity = sev
		f.Want = strconv.FormatInt(limit, 10)
		f.Fix = sysctlFix(key, f.Want)
	}
	return f
}

// ceilDiv returns a/b rounded up, for positive b.
func ceilDiv(a, b int64) int64 {
	return (a + b - 1) / b
}

// humanBytes renders n bytes with a binary unit, one decimal.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for (v >= unit || v <= -unit) && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}
