package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/internal/history"
)

// historyOptions are the history flags.
type historyOptions struct {
	size    int
	ttl     time.Duration
	memory  int64
	dataDir string
}

// addHistoryFlags declares the history flags on fs, bound to h.
func addHistoryFlags(fs *flag.FlagSet, h *historyOptions) {
	h.memory = history.DefaultMemory
	fs.IntVar(&h.size, "history-size", history.DefaultSize, "messages kept per topic for recovery (0: no count bound)")
	fs.DurationVar(&h.ttl, "history-ttl", history.DefaultTTL, "longest a message is kept for recovery (0: no age bound)")
	fs.Var(byteSize{p64: &h.memory}, "history-memory", "memory budget of all topics' history together, oldest first out (0: history off)")
	fs.StringVar(&h.dataDir, "data-dir", "", "directory of the embedded broker's JetStream store under --workers (empty: a temporary directory)")
}

// validate rejects values the stores would refuse.
func (h historyOptions) validate() error {
	switch {
	case h.size < 0:
		return fmt.Errorf("invalid --history-size %d: want 0 (no bound) or more", h.size)
	case h.ttl < 0:
		return fmt.Errorf("invalid --history-ttl %v: want 0 (no bound) or more", h.ttl)
	case h.memory < 0:
		return fmt.Errorf("invalid --history-memory %d", h.memory)
	}
	return nil
}

// config maps the flags onto history.Config: a flag's 0 ("no bound") is
// the store's negative.
func (h historyOptions) config() history.Config {
	c := history.Config{Size: h.size, TTL: h.ttl, Memory: h.memory}
	if c.Size == 0 {
		c.Size = -1
	}
	if c.TTL == 0 {
		c.TTL = -1
	}
	return c
}

// on reports whether history is kept.
func (h historyOptions) on() bool { return h.memory > 0 }

// useHistory gives gw its store: Local on a single node, with a ticker
// expiring old messages; on a cluster node the broker's JetStream stream,
// republishing onto the topic subjects. It returns what to run at exit.
func useHistory(gw *gateway.Gateway, h historyOptions, bc *broker.Client, log *zap.Logger) (func(), error) {
	if !h.on() {
		return func() {}, nil
	}
	if bc == nil {
		st, err := history.NewLocal(h.config())
		if err != nil {
			return nil, err
		}
		if err := gw.UseHistory(st); err != nil {
			return nil, err
		}
		stop := make(chan struct{})
		go expireHistory(st, h.config().TTL, stop)
		return func() { close(stop); _ = st.Close() }, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := history.NewJetStream(ctx, history.JetStreamConfig{Config: h.config(), Conn: bc.Conn(), Republish: broker.DefaultTopicPrefix})
	if err != nil {
		return nil, fmt.Errorf("%w (the broker needs JetStream for history; or run with --history-memory 0)", err)
	}
	if err := gw.UseHistory(st); err != nil {
		return nil, err
	}
	log.Info("history in JetStream", zap.String("stream", history.DefaultStream))
	return func() { _ = st.Close() }, nil
}

// expireHistory drops messages past the TTL a few times per TTL.
func expireHistory(st *history.Local, ttl time.Duration, stop <-chan struct{}) {
	every := time.Second
	if ttl > 0 {
		every = min(max(ttl/4, 50*time.Millisecond), time.Minute)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			st.Expire(now)
		}
	}
}

// brokerStore returns the embedded broker's configuration under
// --workers: JetStream on when history is, in --data-dir or a temporary
// directory (removed by the returned func).
func brokerStore(h historyOptions) (broker.ServerConfig, func(), error) {
	if !h.on() {
		return broker.ServerConfig{}, func() {}, nil
	}
	if h.dataDir != "" {
		if err := os.MkdirAll(h.dataDir, 0o700); err != nil {
			return broker.ServerConfig{}, nil, err
		}
		return broker.ServerConfig{JetStream: true, StoreDir: h.dataDir}, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "myriad-jetstream-")
	if err != nil {
		return broker.ServerConfig{}, nil, errors.Join(errors.New("temporary JetStream directory"), err)
	}
	return broker.ServerConfig{JetStream: true, StoreDir: dir}, func() { _ = os.RemoveAll(dir) }, nil
}
