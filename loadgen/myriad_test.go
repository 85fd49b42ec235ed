package loadgen

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/server"
)

// startMyriad runs a myriad server on a loopback port for the test.
func startMyriad(t *testing.T) (*server.Server, string) {
	t.Helper()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case <-srv.Ready():
	case err := <-served:
		t.Fatalf("Serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
	})
	return srv, "ws://" + srv.Addr().String() + "/echo"
}

func TestIdleAgainstMyriad(t *testing.T) {
	const conns = 300
	srv, url := startMyriad(t)
	p := testPlan("idle", conns, url)
	sc, _ := NewScenario("idle")
	// While the connections are held, the server must count as many
	// upgraded connections as the load generator holds open.
	var heldOpen, serverUpgraded atomic.Int64
	heldOpen.Store(-1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, p, sc, Options{Progress: func(pr Progress) {
		if pr.Phase == "holding" && heldOpen.Load() < 0 {
			serverUpgraded.Store(srv.Stats().Upgraded)
			heldOpen.Store(pr.Open)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	wantCounter(t, rep, CounterUpgraded, conns)
	wantCounter(t, rep, CounterFailed, 0)
	wantCounter(t, rep, CounterDropped, 0)
	if heldOpen.Load() != conns || serverUpgraded.Load() != conns {
		t.Errorf("while holding: loadgen open %d, server upgraded %d, want %d", heldOpen.Load(), serverUpgraded.Load(), conns)
	}
	eventually(t, "server connections closed", func() bool { return srv.Stats().Upgraded == 0 })
	if got := srv.Stats().Upgrades; got != conns {
		t.Errorf("server counted %d upgrades, want %d", got, conns)
	}
}

func TestEchoAgainstMyriad(t *testing.T) {
	srv, url := startMyriad(t)
	p := testPlan("echo", 50, url)
	p.MsgRate = 20
	p.Size = 64
	rep := runPlan(t, p)

	sent, recv := rep.Counters[CounterMsgsOut], rep.Counters[CounterMsgsIn]
	if sent == 0 {
		t.Fatalf("no messages sent: %v", rep.Counters)
	}
	wantCounter(t, rep, CounterUpgraded, 50)
	wantCounter(t, rep, CounterMsgsIn, sent)
	wantCounter(t, rep, CounterEchoGaps, 0)
	wantCounter(t, rep, CounterEchoLost, 0)
	eventually(t, "server message counts", func() bool {
		st := srv.Stats()
		return st.MessagesIn == uint64(sent) && st.MessagesOut == uint64(recv)
	})
	eventually(t, "server connections closed", func() bool { return srv.Stats().Upgraded == 0 })
}

func TestChurnAgainstMyriad(t *testing.T) {
	srv, url := startMyriad(t)
	p := testPlan("churn", 10, url)
	p.Rate = 100
	rep := runPlan(t, p)
	wantCounter(t, rep, CounterUpgraded, 100)
	wantCounter(t, rep, CounterClosed, 100)
	wantCounter(t, rep, CounterCloseTimedOut, 0)
	wantCounter(t, rep, CounterFailed, 0)
	eventually(t, "server connections closed", func() bool { return srv.Stats().Upgraded == 0 })
	if got := srv.Stats().Upgrades; got != 100 {
		t.Errorf("server counted %d upgrades, want 100", got)
	}
}
