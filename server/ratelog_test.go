package server

import (
	"testing"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestSlowConsumersLoggedAtARate closes many slow consumers at once: the
// log must get a line per interval with a count, not a warning per
// connection, and the counts must add up to every consumer closed.
func TestSlowConsumersLoggedAtARate(t *testing.T) {
	const n = 20
	core, logs := observer.New(zapcore.InfoLevel)
	cfg := slowConfig()
	cfg.SocketRecvBuffer = 0
	cfg.Logger = zap.New(core)
	srv := startServer(t, cfg)
	msg := binaryPayload(16<<10, 4)
	for range n {
		c := upgradeRaw(t, srv, "/echo")
		b := c.frameBytes(true, ws.OpBinary, msg)
		go func() {
			for {
				if _, err := c.conn.Write(b); err != nil {
					return
				}
			}
		}()
	}
	waitFor(t, "every slow consumer to be closed", ioTimeout, func() bool { return srv.Stats().SlowConsumers >= n })
	total := srv.Stats().SlowConsumers
	// The line for the last ones comes from the ticker once the interval
	// has passed.
	var lines int
	waitFor(t, "log lines counting every slow consumer", ioTimeout, func() bool {
		var sum int64
		lines = 0
		for _, e := range logs.FilterMessage("closed slow consumers").All() {
			lines++
			sum += e.ContextMap()["count"].(int64)
		}
		return uint64(sum) == total
	})
	if lines >= n {
		t.Fatalf("%d log lines for %d slow consumers: not rate-limited", lines, n)
	}
	if k := logs.FilterMessage("closing slow consumer").FilterLevelExact(zapcore.WarnLevel).Len(); k > 0 {
		t.Fatalf("%d per-connection warnings", k)
	}
}
