package broker

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"
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
