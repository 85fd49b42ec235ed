package server

import (
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestMessageTimeout keeps a message open in the ways an attacker would:
// silence after the first fragment, empty continuation frames (each of
// which is input, so the idle timer never fires), and a single frame's
// payload trickled a byte at a time. Each must be closed with 1008 once
// MessageTimeout has passed since the message began, while a fragmented
// message that completes in time is echoed.
func TestMessageTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	cases := []struct {
		name string
		// feed writes to the connection until stop is closed; it must
		// not call t methods (it runs on its own goroutine).
		feed func(c *rawClient, stop <-chan struct{})
	}{
		{"silent after the first fragment", func(c *rawClient, stop <-chan struct{}) {
			_, _ = c.conn.Write(c.frameBytes(false, ws.OpText, []byte("a")))
		}},
		{"empty continuation frames", func(c *rawClient, stop <-chan struct{}) {
			_, _ = c.conn.Write(c.frameBytes(false, ws.OpText, nil))
			everyTick(stop, func() bool {
				_, err := c.conn.Write(c.frameBytes(false, ws.OpContinuation, nil))
				return err == nil
			})
		}},
		{"payload one byte at a time", func(c *rawClient, stop <-chan struct{}) {
			b := c.frameBytes(true, ws.OpBinary, []byte(strings.Repeat("x", 4096)))
			everyTick(stop, func() bool {
				if len(b) == 0 {
					return false
				}
				_, err := c.conn.Write(b[:1])
				b = b[1:]
				return err == nil
			})
		}},
	}
	srv := startServer(t, Config{
		Routes:         echoRoutes(),
		MessageTimeout: timeout,
		PingInterval:   -1,
		IdleTimeout:    time.Minute,
	})
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := upgradeRaw(t, srv, "/echo")
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() { defer close(done); tc.feed(c, stop) }()
			c.expectClose(ws.StatusPolicyViolation)
			close(stop)
			<-done
			if got := srv.Stats().MessageTimeouts; got != uint64(i+1) {
				t.Fatalf("MessageTimeouts = %d, want %d", got, i+1)
			}
		})
	}
	t.Run("complete in time", func(t *testing.T) {
		c := upgradeRaw(t, srv, "/echo")
		c.send(false, ws.OpText, []byte("he"))
		c.send(false, ws.OpContinuation, nil)
		c.send(true, ws.OpContinuation, []byte("llo"))
		c.expectMessage(ws.OpText, []byte("hello"))
	})
}

// everyTick calls fn every 20 ms until stop is closed or fn returns false.
func everyTick(stop <-chan struct{}, fn func() bool) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if !fn() {
				return
			}
		}
	}
}
