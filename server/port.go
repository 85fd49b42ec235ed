package server

import (
	"fmt"
	"net"
	"strconv"

	"golang.org/x/sys/unix"
)

// Each event loop has its own listener (gnet's WithReusePort(true)), so
// that a loop accepts one connection at a time and runs its OnOpen before
// it accepts the next: a connection over MaxConns is closed before another
// descriptor is taken. (With a single listener, gnet's acceptor takes the
// whole queue and hands each descriptor to a loop later, so under a flood
// the descriptors waiting for their OnOpen are unbounded; that is how a
// flood reached EMFILE through a MaxConns set below the limit.) gnet binds
// each loop's listener to the configured address separately, so a port 0
// would give every loop a different port: the port is chosen first, held
// by a bound socket that never listens (the kernel queues no connection on
// it), and the loops bind it by number.

// portHold is a bound, never listening SO_REUSEPORT socket that keeps a
// chosen port for the loops' listeners.
type portHold struct{ fd int }

// pinPort returns addr with a port 0 replaced by a free port, and the
// hold that keeps it (nil when addr named a port).
func pinPort(addr string) (string, *portHold, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, err
	}
	if port != "0" {
		return addr, nil, nil
	}
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	family, sa := bindAddr(ta)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", nil, fmt.Errorf("choose a port for %s: %w", addr, err)
	}
	hold := &portHold{fd: fd}
	if family == unix.AF_INET6 && ta.IP == nil {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		hold.release()
		return "", nil, fmt.Errorf("choose a port for %s: %w", addr, err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		hold.release()
		return "", nil, fmt.Errorf("choose a port for %s: %w", addr, err)
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		hold.release()
		return "", nil, fmt.Errorf("choose a port for %s: %w", addr, err)
	}
	var p int
	switch b := bound.(type) {
	case *unix.SockaddrInet4:
		p = b.Port
	case *unix.SockaddrInet6:
		p = b.Port
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), hold, nil
}

// release frees the port; it is a no-op on a nil hold.
func (h *portHold) release() {
	if h != nil {
		_ = unix.Close(h.fd)
	}
}

// bindAddr converts a resolved address for unix.Bind; no IP binds the
// IPv6 wildcard, which pinPort makes dual-stack as gnet's listener is.
func bindAddr(ta *net.TCPAddr) (int, unix.Sockaddr) {
	if ip4 := ta.IP.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: ta.Port}
		copy(sa.Addr[:], ip4)
		return unix.AF_INET, sa
	}
	sa := &unix.SockaddrInet6{Port: ta.Port}
	if ta.IP != nil {
		copy(sa.Addr[:], ta.IP.To16())
	}
	return unix.AF_INET6, sa
}

// checkPortFree fails with EADDRINUSE when a socket already listens on
// addr. It binds without SO_REUSEPORT, which any listener on the port
// refuses, but with SO_REUSEADDR, which lets TIME_WAIT connections left by
// a previous server pass.
func checkPortFree(addr string) error {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return err
	}
	family, sa := bindAddr(ta)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if family == unix.AF_INET6 && ta.IP == nil {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return err
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("address in use (another process listens on it; ReusePort shares it on purpose): %w", err)
	}
	return nil
}
