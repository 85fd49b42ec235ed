package tuning

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Change is one sysctl Apply wrote.
type Change struct {
	Key string
	Old string
	New string
}

// String renders the change as "key: old -> new".
func (c Change) String() string {
	return fmt.Sprintf("%s: %s -> %s", c.Key, c.Old, c.New)
}

// Apply writes the wanted value of every sysctl shortfall in r to
// root/proc/sys, in report order, and returns what changed, with New read
// back from the kernel after the write. It changes the running kernel only:
// values are lost at reboot unless SysctlConf's file is installed too. On
// the real root it needs root (or CAP_SYS_ADMIN in the network namespace
// for net.*); it stops at the first failed write and returns the changes
// made so far with the error. Apart from WriteFiles, nothing else in
// this package writes, and nothing calls Apply unless its caller was asked
// to.
func Apply(root string, r Report) ([]Change, error) {
	var out []Change
	for _, f := range r.Findings {
		if f.Key == "" || f.Severity == OK || f.Want == "" {
			continue
		}
		old, err := readSysctl(root, f.Key)
		if err != nil {
			return out, fmt.Errorf("apply %s: %w", f.Key, err)
		}
		if old == f.Want {
			continue
		}
		if err := os.WriteFile(sysctlPath(root, f.Key), []byte(f.Want+"\n"), 0o644); err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return out, fmt.Errorf("apply %s: %w (needs root; node-wide settings are read-only inside a container)", f.Key, err)
			}
			return out, fmt.Errorf("apply %s: %w", f.Key, err)
		}
		now, err := readSysctl(root, f.Key)
		if err != nil {
			return out, fmt.Errorf("apply %s: read back: %w", f.Key, err)
		}
		out = append(out, Change{Key: f.Key, Old: old, New: now})
	}
	return out, nil
}
