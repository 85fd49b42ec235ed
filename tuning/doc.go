// Package tuning checks whether a host can hold a target number of TCP
// connections in one process, says what to change when it cannot, and can
// write the changes.
//
// A million idle WebSocket connections are cheap for the reactor but not for
// a default Linux host: the per-process descriptor limit, the accept queues,
// the ephemeral port range of a load generator, the kernel's TCP memory
// budget and the connection tracking table are each sized for a few
// thousand sockets. Check reads those settings, judges each one against a
// Target and returns a Report of Findings, each with the value needed, one
// sentence on why, and the exact command or file line that fixes it.
//
// Everything is read from a configurable root directory (proc/sys/...,
// proc/meminfo) and the descriptor limits and environment are passed in, so
// the judgement is a pure function of its inputs and tests run it against a
// fake tree. Only RaiseNoFileLimit, CurrentHost, StartupCheck, Apply and
// WriteFiles touch the real process or machine, and Apply and WriteFiles
// run only when a caller asks for them.
//
// SysctlConf and SystemdDropIn turn a Report into files that make the host
// pass it, and WriteFiles installs such files all together or not at all.
// The guides next to this file, server-host.md and loadgen-host.md,
// explain every setting, the value for one million connections and how to
// verify it.
//
// Nothing in this package keeps state between calls; all functions may be
// called from any goroutine.
package tuning
