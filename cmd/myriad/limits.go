package main

import (
	"flag"
	"net"
	"sync"

	"github.com/myriadws/myriad/server"
)

// addLimitFlags declares the flags of the reactor's limits against abuse
// (time and memory bounds beyond the per-connection ones).
func addLimitFlags(fs *flag.FlagSet, c *server.Config) {
	fs.DurationVar(&c.MessageTimeout, "message-timeout", server.DefaultMessageTimeout, "time from a message's first frame to its last; longer closes with 1008 (negative: no limit)")
	fs.DurationVar(&c.SlowTimeout, "slow-timeout", server.DefaultSlowTimeout, "close (1008) a client whose outbound queue stays at --max-outbound this long, even under --slow-policy drop (negative: never)")
	fs.Var(byteSize{p64: &c.MaxBuffered}, "max-buffered", "memory of bytes queued or being assembled over all connections; at it behind connections take nothing more and the largest holders are closed with 1013 (0: a quarter of GOMEMLIMIT, the cgroup limit or RAM)")
}

// apiMaxConns bounds the API's open connections. The reactor's MaxConns
// leaves a reserve of 256 descriptors for everything else in the process
// (see server.DefaultMaxConns); the API may use half of it, so that a
// flood of API connections cannot take the descriptors the WebSocket
// listener needs and stop the engine with EMFILE.
const apiMaxConns = 128

// limitListener makes Accept wait while n connections are open: the ones
// past it wait in the kernel's backlog, costing no descriptor.
type limitListener struct {
	net.Listener
	slots chan struct{}
}

func newLimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n)}
}

// Accept takes a slot, then accepts; the slot is given back when the
// connection is closed. Any goroutine may call it.
func (l *limitListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

// limitedConn gives its listener slot back once, at the first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
