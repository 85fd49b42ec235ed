package reuseport

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Listen opens a TCP listener with SO_REUSEPORT set, so several processes
// of the same user can listen on one address and the kernel spreads
// connections over them. The socket is plain TCP, not the Multipath TCP
// Go picks by default where the kernel has it, so it joins the same group
// as gnet's listeners and a restart's handover can steer it. Any goroutine
// may call it.
func Listen(ctx context.Context, network, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: setReusePort}
	lc.SetMultipathTCP(false)
	return lc.Listen(ctx, network, addr)
}

// setReusePort is a net.ListenConfig Control function.
func setReusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}

// Reservation holds a TCP port: a socket bound with SO_REUSEPORT that
// never listens. It keeps the port from other programs while the
// listeners that share it come and go (event loops, workers), and since it
// is not listening the kernel never queues a connection on it.
type Reservation struct {
	fd   int
	addr string
}

// Reserve binds addr ("host:port"; port 0 picks one) and returns the
// reservation with the port resolved. An empty host binds the dual-stack
// wildcard [::], as gnet and net.Listen do for ":port". Any goroutine may
// call it.
func Reserve(addr string) (*Reservation, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("reserve %q: %w", addr, err)
	}
	fd, err := bound(addr, unix.SO_REUSEPORT)
	if err != nil {
		return nil, fmt.Errorf("reserve %q: %w", addr, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("reserve %q: %w", addr, err)
	}
	var port int
	switch b := sa.(type) {
	case *unix.SockaddrInet4:
		port = b.Port
	case *unix.SockaddrInet6:
		port = b.Port
	}
	return &Reservation{fd: fd, addr: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// Addr is the reserved address with its port resolved, in the host form
// it was given. Any goroutine may call it.
func (r *Reservation) Addr() string { return r.addr }

// Release frees the port; it is a no-op on a nil Reservation. Call it
// once, after the last listener that shares the port has been opened or
// has stopped.
func (r *Reservation) Release() error {
	if r == nil {
		return nil
	}
	return unix.Close(r.fd)
}

// CheckFree fails with EADDRINUSE when a socket already listens on addr.
// It binds without SO_REUSEPORT, which any listener on the port refuses,
// but with SO_REUSEADDR, which lets the TIME_WAIT connections of a
// previous server pass. Any goroutine may call it.
func CheckFree(addr string) error {
	fd, err := bound(addr, unix.SO_REUSEADDR)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// bound returns a TCP socket with the socket option opt set, bound to
// addr; an IPv6 wildcard is made dual-stack.
func bound(addr string, opt int) (int, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return -1, err
	}
	family, sa := sockaddr(ta)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if family == unix.AF_INET6 && ta.IP == nil {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, 1); err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	if err := unix.Bind(fd, sa); err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// sockaddr converts a resolved address for unix.Bind; no IP is the IPv6
// wildcard.
func sockaddr(ta *net.TCPAddr) (int, unix.Sockaddr) {
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
