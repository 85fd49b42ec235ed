package server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
)

// TestLargeEchoWithinMaxMessage sends messages larger than MaxOutbound
// but within MaxMessage: each echo must arrive whole, since one message
// always fits an empty queue, and nobody is closed as a slow consumer.
func TestLargeEchoWithinMaxMessage(t *testing.T) {
	cases := []struct {
		name string
		size int
	}{
		{"just over the bound", 64<<10 + 1},
		{"four times the bound", 256 << 10},
		{"at MaxMessage", 1 << 20},
	}
	srv := startServer(t, Config{MaxOutbound: 64 << 10, MaxMessage: 1 << 20})
	c := dialGorilla(t, srv, nil)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := binaryPayload(tc.size, uint64(i))
			if err := c.WriteMessage(gorilla.BinaryMessage, msg); err != nil {
				t.Fatalf("write: %v", err)
			}
			op, got, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if op != gorilla.BinaryMessage || !bytes.Equal(got, msg) {
				t.Fatalf("echo of %d bytes: got op %d, %d bytes", len(msg), op, len(got))
			}
		})
	}
	if st := srv.Stats(); st.SlowConsumers != 0 {
		t.Fatalf("SlowConsumers = %d, want 0", st.SlowConsumers)
	}
}

// TestSlowConsumerGetsClose1008 has a gorilla client send echoes it does
// not read until the server's queue for it passes MaxOutbound. When the
// client then reads, it gets the echoes that were queued and then close
// 1008, not a bare TCP close.
func TestSlowConsumerGetsClose1008(t *testing.T) {
	cfg := slowConfig()
	cfg.CloseTimeout = 10 * time.Second // the client answers; the timeout must not win
	// A small receive buffer would only slow the client's sending down,
	// and its zero-window probes would delay the client's close reply.
	cfg.SocketRecvBuffer = 0
	srv := startServer(t, cfg)
	d := &gorilla.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10)
		}
		return conn, err
	}}
	c := dialGorilla(t, srv, d)
	msg := binaryPayload(16<<10, 9)
	for i := 0; i < 128 && srv.Stats().SlowConsumers == 0; i++ {
		if err := c.WriteMessage(gorilla.BinaryMessage, msg); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	waitFor(t, "the slow consumer to be detected", ioTimeout, func() bool { return srv.Stats().SlowConsumers == 1 })
	echoes := 0
	for {
		_, got, err := c.ReadMessage()
		if err == nil {
			if !bytes.Equal(got, msg) {
				t.Fatalf("echo %d corrupted", echoes)
			}
			echoes++
			continue
		}
		if !gorilla.IsCloseError(err, gorilla.ClosePolicyViolation) {
			t.Fatalf("after %d echoes: %v, want close 1008", echoes, err)
		}
		var ce *gorilla.CloseError
		if errors.As(err, &ce) && ce.Text != "slow consumer" {
			t.Fatalf("close reason %q, want \"slow consumer\"", ce.Text)
		}
		break
	}
	waitFor(t, "the connection to close", ioTimeout, func() bool { return srv.Stats().Open == 0 })
	if st := srv.Stats(); st.SlowConsumers != 1 || st.CloseTimeouts != 0 {
		t.Fatalf("SlowConsumers %d CloseTimeouts %d, want 1 and 0", st.SlowConsumers, st.CloseTimeouts)
	}
	t.Logf("%d echoes read before the close frame", echoes)
}
