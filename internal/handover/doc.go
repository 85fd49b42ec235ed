// Package handover moves new TCP connections from one process to another
// on a port both listen on with SO_REUSEPORT, so a restart refuses no
// connection attempt.
//
// The kernel keeps every SO_REUSEPORT listener of a port in one group, in
// the order they started listening, and spreads new connections over the
// group. The old process's listeners are the group's first K members; the
// new process's M listeners come after them. Steer attaches a classic BPF
// program to the group that sends every new SYN to a member in [K, K+M),
// so the old process's accept queues only empty from then on and it can
// drain without refusing anyone. When the old listeners close, the
// kernel moves the last members down into their slots; an index past the
// end falls back to the kernel's hash over what is left, which by then is
// the new process's listeners (and, for the instant of the close, old ones
// still closing: with net.ipv4.tcp_migrate_req=1 their queued requests move
// to a live listener instead of being reset).
//
// Linux only: elsewhere every function returns ErrUnsupported.
package handover
