// Package handover moves new TCP connections from one process to another
// on a port both listen on with SO_REUSEPORT, so a restart refuses no
// connection attempt.
//
// The kernel keeps every SO_REUSEPORT listener of a port in one group, an
// array in the order they started listening, and spreads new connections
// over the group. A classic BPF program attached to the group
// (SO_ATTACH_REUSEPORT_CBPF) returns the index of the member that gets a
// new connection; an index past the end falls back to the kernel's hash
// over every member. When a member closes, the kernel moves the group's
// last member into its place.
//
// A restarted single process: the old process's listeners are the
// group's first K members and the new process's M listeners come after
// them. Steer attaches a program that sends every new SYN to a member in
// [K, K+M), so the old process's accept queues only empty from then on
// and it can drain without refusing anyone. When the old listeners close,
// the last members move down into their slots; indices past the end fall
// back to the hash over what is left, which by then is the new process's
// listeners (and, for the instant of the close, old ones still closing:
// with net.ipv4.tcp_migrate_req=1 their queued requests move to a live
// listener instead of being reset).
//
// A supervisor's workers (package supervisor) start one at a time, so
// each worker's listeners are one contiguous block of the group, and
// because the last block moves into a closed block's place they stay so.
// A replacement worker appends its block; SteerAround attaches a program
// that picks any member but the replaced worker's block, which can sit
// anywhere in the group. Unsteer hands the group back to the hash once
// the replaced worker is gone (its place is then the new worker's, which
// the program would still skip).
//
// Linux only: elsewhere every function returns ErrUnsupported.
package handover
