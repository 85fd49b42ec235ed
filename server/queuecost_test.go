package server

import (
	"net"
	"sync"
	"testing"

	"github.com/gobwas/ws"
)

func TestQueueCost(t *testing.T) {
	cases := []struct {
		name string
		n    int
		want int
	}{
		{"nothing", 0, 0},
		{"one byte", 1, 1 + listNodeBytes},
		{"a power of two", 256, 256 + listNodeBytes},
		{"just over a power of two", 257, 512 + listNodeBytes},
		{"a small gateway message", 150, 256 + listNodeBytes},
		{"a 1,000,010-byte frame", 1_000_010, 1<<20 + listNodeBytes},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := queueCost(tc.n); got != tc.want {
				t.Fatalf("queueCost(%d) = %d, want %d", tc.n, got, tc.want)
			}
		})
	}
	if got, want := writeCost(4, 2000), queueCost(4)+queueCost(2000); got != want {
		t.Fatalf("writeCost of a header and payload pair = %d, want %d (two nodes)", got, want)
	}
	if got, want := writeCost(2, 100), queueCost(102); got != want {
		t.Fatalf("writeCost of an inline frame = %d, want %d (one node)", got, want)
	}
}

// TestOutboundBoundInRealBytes pushes small frames to a client that never
// reads. MaxOutbound bounds what the queue costs in memory, not its
// payload: each 154-byte frame takes a 256-byte pooled slice and a list
// node, so the connection is closed as slow with about half MaxOutbound
// of payload queued, never with MaxOutbound of it.
func TestOutboundBoundInRealBytes(t *testing.T) {
	h := pushHandler{opened: make(chan *Conn, 1), closed: make(chan *Conn, 1)}
	cfg := slowConfig()
	cfg.Routes = map[string]Handler{"/push": h}
	srv := startServer(t, cfg)
	c := upgradeRaw(t, srv, "/push")
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	conn := <-h.opened
	msg := binaryPayload(150, 3) // 154 bytes on the wire
	var (
		mu      sync.Mutex
		peak    int
		errSeen error
	)
push:
	for range 20000 {
		select {
		case <-h.closed:
			break push
		default:
		}
		err := srv.Execute(conn, func() {
			err := conn.Send(ws.OpBinary, msg)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				peak = max(peak, conn.Buffered())
			} else if errSeen == nil {
				errSeen = err
			}
		})
		if err != nil {
			break
		}
	}
	waitFor(t, "the slow consumer to be closed", ioTimeout, func() bool { return srv.Stats().SlowConsumers == 1 })
	mu.Lock()
	defer mu.Unlock()
	if errSeen != ErrSlowConsumer {
		t.Fatalf("first Send error = %v, want ErrSlowConsumer", errSeen)
	}
	const wire = 154
	cost := queueCost(wire)
	limit := cfg.MaxOutbound*wire/cost + wire
	t.Logf("peak payload queued %d bytes; MaxOutbound %d, at %d real bytes per %d-byte frame: %d", peak, cfg.MaxOutbound, cost, wire, limit)
	if peak > limit {
		t.Fatalf("queued %d payload bytes of %d-byte frames, over the %d that cost MaxOutbound (%d) in memory", peak, wire, limit, cfg.MaxOutbound)
	}
}
