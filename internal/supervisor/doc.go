// Package supervisor runs myriad as several worker processes on one host:
// `myriad --workers N`. One process cannot hold a million sockets where the
// per-process descriptor limit is capped (20,000 on many containers), so
// the supervisor starts an embedded NATS server (package broker) and N
// copies of the same binary, each a full node that shares the WebSocket and
// API ports with the others through SO_REUSEPORT: the kernel spreads new
// connections over the workers' listeners, and the broker carries every
// publish to every worker with interest.
//
// The supervisor holds no client socket. It resolves a ":0" port once and
// keeps it reserved with a bound but never listening SO_REUSEPORT socket,
// so a worker that restarts gets the same port and no connection is ever
// queued on a socket nobody accepts from. Workers learn their role and
// addresses from the environment (WorkerEnv), which only the command
// reads.
//
// A worker that dies is started again after an exponential backoff; when
// more than MaxCrashes deaths fall within CrashWindow, the supervisor stops
// the rest and Wait returns ErrCrashLoop, so a broken deploy exits non-zero
// instead of spinning. Stop forwards a signal (SIGTERM: drain) to every
// worker and kills those still alive after DrainTimeout plus DrainMargin.
// Workers run in their own process group, so a terminal's Ctrl-C reaches
// only the supervisor, which forwards it once, and on Linux they get
// SIGTERM if the supervisor dies without stopping them.
//
// Cluster-wide /stats and /presence need no supervisor help: every worker
// is a broker node and answers the broker's scatter-gather, so any
// worker's API can gather from all of them.
package supervisor
