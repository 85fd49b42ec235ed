package gateway

import (
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// BenchmarkPublish publishes a small message to N subscribers on one
// loop and waits for the answer: encode once, then the loop's fan-out of
// N (sliced above server.SliceItems). The subscribers are raw sockets
// that read and discard. allocs/op is the publish's own bookkeeping and
// must not grow with N: the fan-out itself allocates nothing.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{100, 1000, 4000} {
		b.Run("subs="+strconv.Itoa(n), func(b *testing.B) {
			g, err := New(Config{})
			if err != nil {
				b.Fatal(err)
			}
			cfg := server.Config{Loops: 1, Routes: map[string]server.Handler{"/ws": g}}
			_, addr := servertest.Start(b, cfg, g.Attach)
			for range n {
				c := servertest.Dial(b, addr, "/ws?topics=bench")
				conn := c.Conn()
				_ = conn.SetDeadline(time.Time{})
				go func() { _, _ = io.Copy(io.Discard, conn) }()
			}
			servertest.Eventually(b, func() bool { return g.Stats().Subscriptions == int64(n) }, "subscriptions")
			topics := []string{"bench"}
			data := []byte(`{"n":1}`)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				got, err := g.Publish(ctx, topics, data)
				if err != nil || got != n {
					b.Fatalf("Publish = %d, %v; want %d", got, err, n)
				}
			}
		})
	}
}
