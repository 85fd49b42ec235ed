package handover

import (
	"fmt"
	"os"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"
)

// Listeners returns this process's descriptors of TCP sockets listening
// on port, in ascending order, which is the order a process opening its
// listeners one after the other joined the port's SO_REUSEPORT group in.
// It finds them in /proc/self/fd, so it needs no help from whoever opened
// them (gnet keeps its listeners to itself). The descriptors stay owned
// by their opener: do not close them. Any goroutine may call it.
func Listeners(port int) ([]int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, fmt.Errorf("handover: list descriptors: %w", err)
	}
	var fds []int
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if listensOn(fd, port) {
			fds = append(fds, fd)
		}
	}
	sort.Ints(fds)
	return fds, nil
}

// listensOn reports whether fd is a TCP socket listening on port. A
// descriptor closed since the directory was read fails every call and
// reports false.
func listensOn(fd, port int) bool {
	if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || v != 1 {
		return false
	}
	if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL); err != nil || v != unix.IPPROTO_TCP {
		return false
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port == port
	case *unix.SockaddrInet6:
		return a.Port == port
	}
	return false
}

// Queued returns how many established connections wait in the accept
// queue of the listening socket fd (TCP_INFO's tcpi_unacked, which holds
// the accept backlog for a listener). Any goroutine may call it.
func Queued(fd int) (int, error) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, fmt.Errorf("handover: accept queue of fd %d: %w", fd, err)
	}
	return int(info.Unacked), nil
}
