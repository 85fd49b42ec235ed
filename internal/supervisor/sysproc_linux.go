package supervisor

import "syscall"

// sysProcAttr puts a worker in its own process group, so a terminal's
// signals reach only the supervisor, and asks the kernel to send it
// SIGTERM if the supervisor's starting thread dies, so a killed supervisor
// leaves no orphans. Pdeathsig follows the thread, not the process: the
// slot goroutine that starts a worker stays locked to its thread for as
// long as the worker runs.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
