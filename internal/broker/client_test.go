package broker

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/myriadws/myriad/internal/broker/brokertest"
)

func TestInterestFollowsSubscribers(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	pub, _ := connect(t, srv.URL(), Config{})
	a, inA := connect(t, srv.URL(), Config{})
	b, inB := connect(t, srv.URL(), Config{})
	base := srv.NumSubscriptions()

	if err := a.Interest("room.1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Interest("room.1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Interest("marker"); err != nil {
		t.Fatal(err)
	}
	flush(t, a)
	flush(t, b)
	if got := srv.NumSubscriptions() - base; got != 2 {
		t.Fatalf("server holds %d new subscriptions, want 2 (one per topic and node)", got)
	}

	// The broker keeps one connection's order across subjects, so once b
	// has the marker it would also have any room.1 message sent before it.
	for i := 0; i < 10; i++ {
		if err := pub.Publish("room.1", []byte("m"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Publish("marker", []byte("end"), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a to receive room.1", func() bool { return inA.len() == 10 })
	eventually(t, "b to receive the marker", func() bool { return inB.len() == 1 })
	if m := inB.snapshot()[0]; m.Topic != "marker" {
		t.Fatalf("b without interest received %q", m.Topic)
	}

	// Two references: one Disinterest keeps the subscription.
	if err := a.Disinterest("room.1"); err != nil {
		t.Fatal(err)
	}
	flush(t, a)
	if got := srv.NumSubscriptions() - base; got != 2 {
		t.Fatalf("after one of two Disinterest: %d subscriptions, want 2", got)
	}
	if err := a.Disinterest("room.1"); err != nil {
		t.Fatal(err)
	}
	flush(t, a)
	if got := srv.NumSubscriptions() - base; got != 1 {
		t.Fatalf("after the last Disinterest: %d subscriptions, want 1", got)
	}
	if err := a.Disinterest("room.1"); !errors.Is(err, ErrNoInterest) {
		t.Fatalf("Disinterest with no reference: %v, want ErrNoInterest", err)
	}
	if err := a.Interest(""); !errors.Is(err, ErrBadTopic) {
		t.Fatalf("Interest(\"\"): %v, want ErrBadTopic", err)
	}
	if err := pub.Publish("", nil, nil); !errors.Is(err, ErrBadTopic) {
		t.Fatalf("Publish(\"\"): %v, want ErrBadTopic", err)
	}
}

func TestOrderFromOnePublisherOnEveryNode(t *testing.T) {
	const n = 1000
	srv := startServer(t, ServerConfig{})
	topic := "a..b*>" // escapes: dots, empty tokens and wildcards
	nodes := make([]*Client, 3)
	inboxes := make([]*inbox, 3)
	for i := range nodes {
		nodes[i], inboxes[i] = connect(t, srv.URL(), Config{})
		if err := nodes[i].Interest(topic); err != nil {
			t.Fatal(err)
		}
		flush(t, nodes[i])
	}
	for i := 0; i < n; i++ {
		if err := nodes[0].Publish(topic, []byte(strconv.Itoa(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	for k, in := range inboxes {
		eventually(t, "all messages on node "+strconv.Itoa(k), func() bool { return in.len() >= n })
		flush(t, nodes[k])
		msgs := in.snapshot()
		if len(msgs) != n {
			t.Fatalf("node %d received %d messages, want %d exactly", k, len(msgs), n)
		}
		for i, m := range msgs {
			if string(m.Payload) != strconv.Itoa(i) || m.Topic != topic {
				t.Fatalf("node %d message %d = %q on %q", k, i, m.Payload, m.Topic)
			}
			if m.Origin != nodes[0].NodeID() || m.Local != (k == 0) {
				t.Fatalf("node %d: origin %q local %v", k, m.Origin, m.Local)
			}
		}
	}
	if st := nodes[0].Stats(); st.Published != n || st.Unsent != 0 || st.Received != n || st.Topics != 1 {
		t.Fatalf("publisher stats %+v", st)
	}
}

// states records OnState reports.
type states struct {
	mu sync.Mutex
	s  []State
}

func (r *states) add(s State) { r.mu.Lock(); r.s = append(r.s, s); r.mu.Unlock() }
func (r *states) list() []State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]State(nil), r.s...)
}

func TestBrokerRestartCountsLossAndResumes(t *testing.T) {
	srv, err := StartServer(ServerConfig{}, nopLogger())
	if err != nil {
		t.Fatal(err)
	}
	port := srv.Port()
	t.Cleanup(srv.Shutdown)
	fast := Config{ReconnectMin: 5 * time.Millisecond, ReconnectMax: 20 * time.Millisecond}
	rec := &states{}
	withBuf := fast
	withBuf.OnState = rec.add
	node, in := connect(t, srv.URL(), withBuf)
	noBuf := fast
	noBuf.ReconnectBuf = -1
	strict, _ := connect(t, srv.URL(), noBuf)
	if err := node.Interest("t"); err != nil {
		t.Fatal(err)
	}
	if err := node.Publish("t", []byte("before"), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivery before the outage", func() bool { return in.len() == 1 })

	srv.Shutdown()
	eventually(t, "reconnecting", func() bool {
		return node.State() == StateReconnecting && strict.State() == StateReconnecting
	})
	for i := 0; i < 5; i++ {
		if err := node.Publish("t", []byte("during"), nil); err != nil {
			t.Fatalf("buffered publish: %v", err)
		}
		if err := strict.Publish("t", []byte("during"), nil); err == nil {
			t.Fatal("publish with no reconnect buffer succeeded during the outage")
		}
	}
	if st := node.Stats(); st.Buffered != 5 || st.Unsent != 0 {
		t.Fatalf("buffering node: %+v, want 5 buffered", st)
	}
	if st := strict.Stats(); st.Unsent != 5 || st.Buffered != 0 {
		t.Fatalf("unbuffered node: %+v, want 5 unsent", st)
	}

	srv2 := startServer(t, ServerConfig{Port: port})
	eventually(t, "reconnected", func() bool { return node.State() == StateConnected })
	if err := node.Publish("t", []byte("after"), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivery after the restart", func() bool {
		msgs := in.snapshot()
		return len(msgs) > 0 && string(msgs[len(msgs)-1].Payload) == "after"
	})
	// The buffered messages follow the resubscription on the same
	// connection, so this node gets them, in order, before "after".
	if got := in.len(); got != 7 {
		t.Fatalf("received %d messages, want before + 5 buffered + after", got)
	}
	got := rec.list()
	want := []State{StateConnected, StateReconnecting, StateConnected}
	if len(got) < 3 || got[len(got)-2] != StateReconnecting || got[len(got)-1] != StateConnected {
		t.Fatalf("state reports %v, want to end with %v", got, want[1:])
	}
	if st := node.Stats(); st.Reconnects != 1 {
		t.Fatalf("reconnects = %d, want 1", st.Reconnects)
	}
	_ = srv2
}

func TestClosedClient(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	c, _ := connect(t, srv.URL(), Config{})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c.State() != StateClosed {
		t.Fatalf("state %v after Close", c.State())
	}
	if err := c.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if err := c.Interest("x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Interest after Close: %v", err)
	}
	if err := c.Publish("x", nil, nil); err == nil || c.Stats().Unsent != 1 {
		t.Fatalf("Publish after Close: %v, stats %+v", err, c.Stats())
	}
}

func TestConnectBeforeBrokerStarts(t *testing.T) {
	probe, err := StartServer(ServerConfig{}, nopLogger())
	if err != nil {
		t.Fatal(err)
	}
	port, url := probe.Port(), probe.URL()
	probe.Shutdown()

	c, in := connect(t, url, Config{ReconnectMin: 5 * time.Millisecond, ReconnectMax: 20 * time.Millisecond})
	if c.State() != StateConnecting {
		t.Fatalf("state with no broker = %v, want connecting", c.State())
	}
	if err := c.Interest("early"); err != nil {
		t.Fatalf("Interest before the broker is up: %v", err)
	}
	startServer(t, ServerConfig{Port: port})
	eventually(t, "connected", func() bool { return c.State() == StateConnected })
	if err := c.Publish("early", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "interest taken before the connection", func() bool { return in.len() == 1 })
}

func TestOversizedPublishIsCountedUnsent(t *testing.T) {
	srv := startServer(t, ServerConfig{MaxPayload: 1024})
	c, _ := connect(t, srv.URL(), Config{})
	err := c.Publish("big", make([]byte, 2048), nil)
	if !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("oversized publish: %v, want nats.ErrMaxPayload", err)
	}
	if st := c.Stats(); st.Unsent != 1 || st.Published != 0 {
		t.Fatalf("stats %+v, want 1 unsent", st)
	}
}

// TestCloseOverStuckLink closes a client whose broker link is stuck
// (nats.go's writer blocked on a full socket, holding the connection's
// lock, which nats.go's own Close waits for): Close returns, the client
// is closed, and later calls fail at once.
func TestCloseOverStuckLink(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	proxy := brokertest.StartStallProxy(t, srv.URL())
	c, _ := connect(t, proxy.URL(), Config{GatherWait: 50 * time.Millisecond})
	flush(t, c)
	brokertest.Jam(t, proxy, func(b []byte) error { return c.Publish("fill", b, nil) })
	for k := 0; ; k++ { // a gather whose query nats.go does not take shows the link stuck
		if k == 4000 {
			t.Fatal("the broker link did not get stuck")
		}
		var err error
		returns(t, "Gather", func() { _, err = c.Gather(context.Background(), "q", nil, 1) })
		if errors.Is(err, ErrGatherStuck) {
			break
		}
	}
	returns(t, "Close", func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if c.State() != StateClosed {
		t.Fatalf("state %v after Close", c.State())
	}
	if err := c.Interest("x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Interest after Close: %v", err)
	}
}
