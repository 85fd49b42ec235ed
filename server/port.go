package server

import (
	"fmt"
	"net"

	"github.com/myriadws/myriad/internal/reuseport"
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

// pinPort returns addr with a port 0 replaced by a free port, and the
// reservation that keeps it (nil when addr named a port).
func pinPort(addr string) (string, *reuseport.Reservation, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, err
	}
	if port != "0" {
		return addr, nil, nil
	}
	r, err := reuseport.Reserve(addr)
	if err != nil {
		return "", nil, fmt.Errorf("choose a port: %w", err)
	}
	return r.Addr(), r, nil
}

// checkPortFree fails with "address in use" when another socket listens on
// addr (see reuseport.CheckFree).
func checkPortFree(addr string) error {
	if err := reuseport.CheckFree(addr); err != nil {
		return fmt.Errorf("address in use (another process listens on it; ReusePort shares it on purpose): %w", err)
	}
	return nil
}
