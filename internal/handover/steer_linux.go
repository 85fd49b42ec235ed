package handover

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// skfAdRandom is the classic BPF ancillary load of a random 32-bit value
// (SKF_AD_OFF + SKF_AD_RANDOM).
const skfAdRandom = 0xfffff000 + 56

// noIndex is what the pass-through program of Unsteer returns: an index
// past the end of any group, which makes the kernel fall back to its
// own hash.
const noIndex = 0xffffffff

// Steer attaches to the SO_REUSEPORT group of the listening socket fd a
// classic BPF program that picks, for every new connection, a random
// member in [first, first+count): the listeners of the process taking
// over, when the group's first members are this process's. It replaces
// any program attached before. Connections already queued stay where
// they are. Any goroutine may call it.
func Steer(fd, first, count int) error {
	if first < 0 || count <= 0 {
		return ErrRange
	}
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: skfAdRandom},
		{Code: unix.BPF_ALU | unix.BPF_MOD | unix.BPF_K, K: uint32(count)},
		{Code: unix.BPF_ALU | unix.BPF_ADD | unix.BPF_K, K: uint32(first)},
		{Code: unix.BPF_RET | unix.BPF_A},
	}
	if err := attach(fd, prog); err != nil {
		return fmt.Errorf("handover: steer fd %d to listeners [%d,%d): %w", fd, first, first+count, err)
	}
	return nil
}

// SteerAround attaches to the SO_REUSEPORT group of the listening socket
// fd a classic BPF program that picks, for every new connection, a
// random member among the first total+skip, except the skip members from
// skipFirst on: r = random % total; r += skip when r >= skipFirst. A
// supervisor's workers each hold a contiguous block of the group, and a
// replacement worker whose block was appended at [total, total+skip)
// calls it with the block of the worker it replaces, so that every new
// connection goes to any listener but the draining worker's. It replaces
// any program attached before. Any goroutine may call it.
func SteerAround(fd, skipFirst, skip, total int) error {
	if skipFirst < 0 || skip <= 0 || total <= 0 || skipFirst > total {
		return ErrRange
	}
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: skfAdRandom},
		{Code: unix.BPF_ALU | unix.BPF_MOD | unix.BPF_K, K: uint32(total)},
		// A >= skipFirst: fall through to the add; else jump over it.
		{Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, K: uint32(skipFirst), Jt: 0, Jf: 1},
		{Code: unix.BPF_ALU | unix.BPF_ADD | unix.BPF_K, K: uint32(skip)},
		{Code: unix.BPF_RET | unix.BPF_A},
	}
	if err := attach(fd, prog); err != nil {
		return fmt.Errorf("handover: steer fd %d around listeners [%d,%d) of %d: %w", fd, skipFirst, skipFirst+skip, total+skip, err)
	}
	return nil
}

// Unsteer gives the SO_REUSEPORT group of the listening socket fd back to
// the kernel's own choice: it replaces the group's program by one that
// always answers an index past the end, on which the kernel falls back to
// its hash over every member, as without a program. (It attaches rather
// than detaches because golang.org/x/sys names no SO_DETACH_REUSEPORT_BPF,
// whose number differs between architectures.) Any goroutine may call it.
func Unsteer(fd int) error {
	prog := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: noIndex}}
	if err := attach(fd, prog); err != nil {
		return fmt.Errorf("handover: unsteer fd %d: %w", fd, err)
	}
	return nil
}

// attach sets prog as the reuseport program of fd's group.
func attach(fd int, prog []unix.SockFilter) error {
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF, &fprog)
}
