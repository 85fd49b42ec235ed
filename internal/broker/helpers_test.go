package broker

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// startServer runs an embedded server for the test.
func startServer(t *testing.T, cfg ServerConfig) *Server {
	t.Helper()
	s, err := StartServer(cfg, zap.NewNop())
	if err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// inbox collects what a node's Deliver receives.
type inbox struct {
	mu   sync.Mutex
	msgs []Message
}

func (b *inbox) deliver(m Message) {
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
}

func (b *inbox) snapshot() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Message(nil), b.msgs...)
}

func (b *inbox) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

// connect starts a node on url whose messages land in the returned inbox.
func connect(t *testing.T, url string, cfg Config) (*Client, *inbox) {
	t.Helper()
	in := &inbox{}
	cfg.URL = url
	if cfg.Deliver == nil {
		cfg.Deliver = in.deliver
	}
	c, err := Connect(cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, in
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// flush waits until the broker has processed what c sent.
func flush(t *testing.T, c *Client) {
	t.Helper()
	if err := c.Flush(5 * time.Second); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func nopLogger() *zap.Logger { return zap.NewNop() }
