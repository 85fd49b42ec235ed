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
// Workers join the ports one at a time: each gets a pipe on which it
// writes "ready WS API" (its listener counts) once it listens, and the
// next worker starts only then (a worker that does not report ready
// within ReadyTimeout is killed). So each worker's listeners form one
// contiguous block of each port's SO_REUSEPORT group, and the supervisor
// keeps that order (layout): a join appends a block, and when a worker
// exits the kernel moves the last block into its place.
//
// Replace (SIGHUP in the command) replaces the workers one slot at a
// time, and with Config.Steer refuses no connection: the new worker is
// told the old worker's block (EnvSteer) and attaches, before it reports
// ready, a program that sends every new connection to any listener but
// that block (handover.SteerAround); the old worker is sent SignalRetire,
// finishes the upgrades it had accepted, drains and exits, and Replace
// waits for that exit before the next slot. After the last slot every
// worker is sent SignalUnsteer. This needs Linux, workers with the same
// number of listeners (the same --loops), and net.ipv4.tcp_migrate_req=1
// for the instant a draining worker's listeners close. When a new
// worker's listener counts differ from the old one's, or the order was
// lost (two workers died or joined within closeSpan of each other, so
// their listeners may have interleaved), that slot falls back to SIGTERM
// with one warning: the old worker then keeps its share of new
// connections while it drains, and answers them 503. A worker that dies
// during a replacement step keeps the order but may cost that step a few
// such connections: the program attached for the step counts it.
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
