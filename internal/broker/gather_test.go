package broker

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/myriadws/myriad/internal/broker/brokertest"
)

func TestGatherFromThreeNodes(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	nodes := make([]*Client, 3)
	want := make([]string, 3)
	for i := range nodes {
		nodes[i], _ = connect(t, srv.URL(), Config{
			NodeID:     "node-" + string(rune('a'+i)),
			GatherWait: 200 * time.Millisecond,
		})
		n := nodes[i]
		stop, err := n.Respond("stats", func(req []byte) []byte {
			return append([]byte(n.NodeID()+":"), req...)
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = stop() })
		flush(t, n)
		want[i] = n.NodeID()
	}

	cases := []struct {
		name     string
		expect   int
		complete bool
	}{
		{"expected count reached", 3, true},
		{"count unknown waits the bound", 0, false},
		{"more expected than alive", 4, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := nodes[1].Gather(context.Background(), "stats", []byte("q"), tc.expect)
			if err != nil {
				t.Fatal(err)
			}
			if g.Complete != tc.complete {
				t.Fatalf("Complete = %v, want %v", g.Complete, tc.complete)
			}
			var got []string
			for _, r := range g.Replies {
				if string(r.Data) != r.Node+":q" {
					t.Fatalf("reply %q from %q", r.Data, r.Node)
				}
				got = append(got, r.Node)
			}
			sort.Strings(got)
			if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
				t.Fatalf("answered: %v, want %v", got, want)
			}
		})
	}

	g, err := nodes[0].Gather(context.Background(), "nobody-answers", nil, 1)
	if err != nil || len(g.Replies) != 0 || g.Complete {
		t.Fatalf("gather with no responder: %+v, %v", g, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := nodes[0].Gather(ctx, "stats", nil, 5); !errors.Is(err, context.Canceled) {
		t.Fatalf("gather with a cancelled context: %v", err)
	}
	if _, err := nodes[0].Gather(context.Background(), "", nil, 0); !errors.Is(err, ErrBadTopic) {
		t.Fatalf("gather with no kind: %v", err)
	}
}

// TestGatherOverStuckLink gathers through a node whose broker link is
// stuck (nats.go's writer blocked on a full socket, holding the
// connection's lock): each Gather returns within its bound, first with
// ErrGatherStuck while slots are free, then with
// ErrGatherBusy once MaxGathers are in flight, and the in-flight count
// never exceeds MaxGathers however many more are asked for. After the
// release the left-behind gathers end and drop their inbox
// subscriptions, and a Gather collects the other node's answer again.
func TestGatherOverStuckLink(t *testing.T) {
	const most = 3
	srv := startServer(t, ServerConfig{})
	proxy := brokertest.StartStallProxy(t, srv.URL())
	c, _ := connect(t, proxy.URL(), Config{NodeID: "stuck", GatherWait: 100 * time.Millisecond, MaxGathers: most})
	other, _ := connect(t, srv.URL(), Config{NodeID: "other"})
	stop, err := other.Respond("stats", func([]byte) []byte { return []byte("ok") })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop() })
	flush(t, other)
	flush(t, c)
	base := srv.NumSubscriptions()
	gather := func() (Gathered, error) {
		t.Helper()
		var g Gathered
		var err error
		returns(t, "Gather", func() { g, err = c.Gather(context.Background(), "stats", nil, 1) })
		if n := c.Stats().Gathers; n > most {
			t.Fatalf("%d gathers in flight, want at most %d", n, most)
		}
		return g, err
	}
	if g, err := gather(); err != nil || !g.Complete || string(g.Replies[0].Data) != "ok" {
		t.Fatalf("gather before the stall: %+v, %v", g, err)
	}

	filled, release := brokertest.Jam(t, proxy, func(b []byte) error { return c.Publish("fill", b, nil) })
	stuck, busy := 0, 0
	for k := 0; busy < 20; k++ {
		if k == 4000 {
			t.Fatalf("%d gathers over a stuck link: %d stuck, %d refused", k, stuck, busy)
		}
		_, err := gather()
		switch {
		case err == nil && stuck == 0: // made before the link filled up
		case errors.Is(err, ErrGatherStuck) && busy == 0:
			stuck++
		case errors.Is(err, ErrGatherBusy):
			busy++
			if n := c.Stats().Gathers; n != most {
				t.Fatalf("refused with %d gathers in flight, want %d", n, most)
			}
		default:
			t.Fatalf("gather %d (%d stuck, %d refused): %v", k, stuck, busy, err)
		}
	}
	// A gather that returned before the link filled up may still hold
	// its slot, its unsubscribe waiting for the link.
	if stuck < 1 || stuck > most {
		t.Fatalf("%d gathers left behind before the first refusal, want 1 to %d", stuck, most)
	}
	select {
	case <-filled:
		t.Fatal("the jam's publishes went out: the broker link was not stuck")
	default:
	}

	release()
	select {
	case <-filled:
	case <-time.After(10 * time.Second):
		t.Fatal("the jam's publishes did not go out after the release")
	}
	eventually(t, "the left-behind gathers to end", func() bool { return c.Stats().Gathers == 0 })
	flush(t, c)
	if n := srv.NumSubscriptions(); n != base {
		t.Fatalf("the broker holds %d subscriptions after the gathers ended, want %d", n, base)
	}
	if g, err := gather(); err != nil || !g.Complete || string(g.Replies[0].Data) != "ok" {
		t.Fatalf("gather after the release: %+v, %v", g, err)
	}
}
