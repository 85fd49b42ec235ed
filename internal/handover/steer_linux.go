package handover

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// skfAdRandom is the classic BPF ancillary load of a random 32-bit value
// (SKF_AD_OFF + SKF_AD_RANDOM).
const skfAdRandom = 0xfffff000 + 56

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
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF, &fprog); err != nil {
		return fmt.Errorf("handover: steer fd %d to listeners [%d,%d): %w", fd, first, first+count, err)
	}
	return nil
}
