package handover

import (
	"context"
	"github.com/myriadws/myriad/internal/reuseport"
	"net"
	"strconv"
	"testing"
	"time"
)

// listen opens n SO_REUSEPORT listeners on addr and returns them with the
// port resolved.
func listen(t *testing.T, addr string, n int) ([]net.Listener, string) {
	t.Helper()
	var lns []net.Listener
	for range n {
		ln, err := reuseport.Listen(context.Background(), "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		lns = append(lns, ln)
		addr = ln.Addr().String()
	}
	return lns, addr
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// queued sums the accept queues of fds.
func queued(t *testing.T, fds []int) int {
	t.Helper()
	total := 0
	for _, fd := range fds {
		n, err := Queued(fd)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// TestSteerSendsEveryConnectionToTheNewListeners plays both processes in
// one: three "old" listeners, then two "new" ones on the same port.
// Before Steer the kernel spreads connections over all five; after it,
// every new connection lands in a new listener's accept queue.
func TestSteerSendsEveryConnectionToTheNewListeners(t *testing.T) {
	const oldN, newN, conns = 3, 2, 60
	_, addr := listen(t, "127.0.0.1:0", oldN)
	listen(t, addr, newN)
	fds, err := Listeners(portOf(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != oldN+newN {
		t.Fatalf("Listeners found %d sockets, want %d", len(fds), oldN+newN)
	}
	oldFDs, newFDs := fds[:oldN], fds[oldN:]
	if err := Steer(oldFDs[0], oldN, newN); err != nil {
		t.Fatal(err)
	}
	for range conns {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	// A dial returns once the handshake completed, so each connection
	// already sits in some accept queue.
	if got := queued(t, oldFDs); got != 0 {
		t.Errorf("old listeners queued %d connections after Steer, want 0", got)
	}
	if got := queued(t, newFDs); got != conns {
		t.Errorf("new listeners queued %d connections, want %d", got, conns)
	}
}

func TestSteerRejectsEmptyRange(t *testing.T) {
	lns, addr := listen(t, "127.0.0.1:0", 1)
	_ = lns
	fds, err := Listeners(portOf(t, addr))
	if err != nil || len(fds) != 1 {
		t.Fatalf("Listeners: %v %v", fds, err)
	}
	for _, tc := range []struct {
		name         string
		first, count int
	}{
		{"no listener", 1, 0},
		{"negative first", -1, 1},
		{"negative count", 0, -2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Steer(fds[0], tc.first, tc.count); err != ErrRange {
				t.Fatalf("Steer(%d, %d) = %v, want ErrRange", tc.first, tc.count, err)
			}
		})
	}
}

func TestListenersIgnoresOtherSockets(t *testing.T) {
	_, addr := listen(t, "127.0.0.1:0", 2)
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	c, err := net.Dial("tcp", addr) // a connected socket on the port: not a listener
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fds, err := Listeners(portOf(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 2 {
		t.Fatalf("Listeners found %d sockets on %s, want 2", len(fds), addr)
	}
}
