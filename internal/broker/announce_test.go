package broker

import (
	"errors"
	"strconv"
	"testing"
)

// TestAnnounceReachesEveryNodeInOrder checks that an announcement reaches
// every listening node, without any topic interest, in the sender's
// order, and that a node knows its own.
func TestAnnounceReachesEveryNodeInOrder(t *testing.T) {
	const n = 200
	srv := startServer(t, ServerConfig{})
	nodes := make([]*Client, 3)
	got := make([]*inbox, 3)
	for i := range nodes {
		nodes[i], _ = connect(t, srv.URL(), Config{})
		got[i] = &inbox{}
		stop, err := nodes[i].OnAnnounce("presence", got[i].deliver)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = stop() })
		flush(t, nodes[i])
	}
	other, _ := connect(t, srv.URL(), Config{})
	stop, err := other.OnAnnounce("other", func(Message) { t.Error("an announcement of another kind arrived") })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	flush(t, other)
	for i := range n {
		if err := nodes[0].Announce("presence", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	for k, in := range got {
		eventually(t, "announcements on node "+strconv.Itoa(k), func() bool { return in.len() >= n })
		for i, m := range in.snapshot() {
			if string(m.Payload) != strconv.Itoa(i) || m.Topic != "presence" || m.Origin != nodes[0].NodeID() || m.Local != (k == 0) {
				t.Fatalf("node %d announcement %d: %+v", k, i, m)
			}
		}
	}
	if err := nodes[0].Announce("", nil); !errors.Is(err, ErrBadTopic) {
		t.Fatalf("Announce(\"\"): %v, want ErrBadTopic", err)
	}
	if _, err := nodes[0].OnAnnounce("", nil); !errors.Is(err, ErrBadTopic) {
		t.Fatalf("OnAnnounce(\"\"): %v, want ErrBadTopic", err)
	}
}
