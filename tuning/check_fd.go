package tuning

import (
	"fmt"
	"strconv"
)

// noFile judges RLIMIT_NOFILE. The hard limit is what matters: the soft
// limit can be raised to it by the process itself, which both binaries do
// at start through RaiseNoFileLimit.
func (c checker) noFile() []Finding {
	need := c.t.noFileNeeded()
	needed := ">= " + strconv.FormatUint(need, 10)
	lim := c.h.NoFile

	hard := Finding{
		Name:    "RLIMIT_NOFILE hard",
		Current: strconv.FormatUint(lim.Hard, 10),
		Needed:  needed,
		Why:     "Every connection is a file descriptor and no unprivileged process can raise its hard limit, so this caps the connections of the process.",
	}
	if lim.Hard < need {
		hard.Severity = Fail
		hard.Want = strconv.FormatUint(need, 10)
		hard.Fix = fmt.Sprintf("systemd service: LimitNOFILE=%[1]d in [Service] (see --write-systemd); limits.conf does not apply to services\n"+
			"shell (as root, then start the server from it): ulimit -Hn %[1]d && ulimit -Sn %[1]d\n"+
			"login sessions: '* hard nofile %[1]d' and '* soft nofile %[1]d' in /etc/security/limits.conf (pam_limits)\n"+
			"containers: docker run --ulimit nofile=%[1]d:%[1]d (the runtime sets it, not the image)\n"+
			"any of these needs fs.nr_open >= %[1]d", need)
	}

	soft := Finding{
		Name:    "RLIMIT_NOFILE soft",
		Current: strconv.FormatUint(lim.Soft, 10),
		Needed:  needed,
		Why:     "Accept and dial fail with EMFILE at the soft limit; myriad raises it to the hard limit at start, other programs may not.",
	}
	switch {
	case lim.Soft >= need:
	case lim.Hard >= need:
		soft.Severity = Warn
		soft.Fix = fmt.Sprintf("nothing for myriad (it raises soft to hard at start); for other programs: ulimit -Sn %d", need)
	default:
		soft.Severity = Fail
		soft.Fix = "raise the hard limit first (see RLIMIT_NOFILE hard); the soft limit can then follow it"
	}
	return []Finding{soft, hard}
}

// nrOpen judges fs.nr_open, the ceiling for any process's RLIMIT_NOFILE.
// It suggests a multiple of 2^20 so the value reads as "room for N
// million".
func (c checker) nrOpen() Finding {
	const key = "fs.nr_open"
	need := int64(c.t.noFileNeeded())
	f := c.atLeast(key, need, Fail,
		"No process can get an RLIMIT_NOFILE above fs.nr_open: setrlimit fails with EPERM and a systemd unit asking for more does not start.")
	if f.Severity != OK && f.Key != "" && f.Want != "" {
		f.Want = strconv.FormatInt(ceilDiv(need, 1<<20)<<20, 10)
		f.Fix = sysctlFix(key, f.Want)
	}
	return f
}

// fileMax judges fs.file-max, the system-wide count of open files.
func (c checker) fileMax() Finding {
	need := int64(c.t.noFileNeeded()) + systemFDHeadroom
	return c.atLeast("fs.file-max", need, Fail,
		"It caps open files across the whole host; when it is reached every process gets ENFILE from accept, open and socket.")
}
