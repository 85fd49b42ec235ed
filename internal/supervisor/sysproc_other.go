//go:build !linux

package supervisor

import "syscall"

// sysProcAttr puts a worker in its own process group, so a terminal's
// signals reach only the supervisor, which forwards them.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
