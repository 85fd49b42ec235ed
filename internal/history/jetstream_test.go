package history

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// jsNode is one node's connection and store on a shared broker.
type jsNode struct {
	nc    *nats.Conn
	store *JetStream
}

// startJetStream runs an embedded broker with JetStream and returns its
// URL.
func startJetStream(t *testing.T) string {
	t.Helper()
	srv, err := broker.StartServer(broker.ServerConfig{JetStream: true, StoreDir: t.TempDir()}, zap.NewNop())
	if err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	t.Cleanup(srv.Shutdown)
	return srv.URL()
}

func dial(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("nats.Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// newNode connects a node with its own connection and store.
func newNode(t *testing.T, url string, cfg JetStreamConfig) jsNode {
	t.Helper()
	nc := dial(t, url)
	cfg.Conn = nc
	s, err := NewJetStream(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewJetStream: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return jsNode{nc: nc, store: s}
}

func mustAppend(t *testing.T, s Store, topic, payload string) Position {
	t.Helper()
	p, err := s.Append(t.Context(), topic, []byte(payload))
	if err != nil {
		t.Fatalf("Append(%q): %v", topic, err)
	}
	return p
}

func TestJetStreamConfigValidate(t *testing.T) {
	nc := &nats.Conn{}
	cases := []struct {
		name string
		cfg  JetStreamConfig
		ok   bool
	}{
		{"connection only", JetStreamConfig{Conn: nc}, true},
		{"no connection", JetStreamConfig{}, false},
		{"wildcard prefix", JetStreamConfig{Conn: nc, Prefix: "myriad.*"}, false},
		{"empty token", JetStreamConfig{Conn: nc, Prefix: "myriad..h"}, false},
		{"republish onto itself", JetStreamConfig{Conn: nc, Republish: DefaultHistoryPrefix}, false},
		{"republish wildcard", JetStreamConfig{Conn: nc, Republish: "myriad.>"}, false},
		{"negative memory", JetStreamConfig{Conn: nc, Config: Config{Memory: -1}}, false},
		{"too many replicas", JetStreamConfig{Conn: nc, Replicas: 9}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestJetStreamSameOffsetsOnTwoNodes appends from two nodes at once and
// checks that both read the same history, with the offsets their appends
// returned, and that the republished live messages carry those offsets in
// the same order.
func TestJetStreamSameOffsetsOnTwoNodes(t *testing.T) {
	url := startJetStream(t)
	cfg := JetStreamConfig{Republish: broker.DefaultTopicPrefix}
	a, b := newNode(t, url, cfg), newNode(t, url, cfg)
	if ea, eb := *a.store.epoch.Load(), *b.store.epoch.Load(); ea != eb || ea == "" {
		t.Fatalf("epochs differ between nodes: %q and %q", ea, eb)
	}
	live := make(chan *nats.Msg, 256)
	watcher := dial(t, url)
	sub, err := watcher.ChanSubscribe(broker.Subject(broker.DefaultTopicPrefix, "room.1"), live)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := watcher.Flush(); err != nil {
		t.Fatal(err)
	}
	start, err := a.store.Position(t.Context(), "room.1")
	if err != nil {
		t.Fatal(err)
	}
	const perNode = 20
	var mu sync.Mutex
	appended := map[uint64]bool{}
	var wg sync.WaitGroup
	for _, n := range []jsNode{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perNode {
				p, err := n.store.Append(context.Background(), "room.1", []byte("m"))
				if err != nil {
					t.Error(err)
					return
				}
				mustAppend(t, n.store, "other", "noise") // leaves gaps in room.1's offsets
				mu.Lock()
				appended[p.Offset] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var lists [2][]uint64
	for i, n := range []jsNode{a, b} {
		msgs, ok, _ := since(t, n.store, "room.1", start, 0)
		if !ok || len(msgs) != 2*perNode {
			t.Fatalf("node %d: Since = %d messages ok=%v, want %d", i, len(msgs), ok, 2*perNode)
		}
		lists[i] = offsets(msgs)
		for j, o := range lists[i] {
			if !appended[o] || (j > 0 && o <= lists[i][j-1]) {
				t.Fatalf("node %d: offsets %v are not the appended ones in order", i, lists[i])
			}
		}
	}
	if !equal(lists[0], lists[1]) {
		t.Fatalf("nodes disagree: %v vs %v", lists[0], lists[1])
	}
	for j, want := range lists[0] {
		select {
		case m := <-live:
			if got, ok := OffsetOf(m.Header); !ok || got != want {
				t.Fatalf("republished message %d has offset %d (%v), want %d", j, got, ok, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("republished message %d never came", j)
		}
	}
}

func TestJetStreamSinceAfterEviction(t *testing.T) {
	url := startJetStream(t)
	n := newNode(t, url, JetStreamConfig{Config: Config{Size: 3, Memory: 64 << 10}})
	var ps []Position
	for range 6 {
		ps = append(ps, mustAppend(t, n.store, "a", "m")) // offsets 1..6, 4..6 kept
	}
	ep := ps[0].Epoch
	cases := []struct {
		name  string
		since Position
		ok    bool
		want  []uint64
	}{
		{"evicted range", Position{1, ep}, false, nil},
		{"last evicted, full topic", Position{3, ep}, false, nil},
		{"oldest kept", Position{4, ep}, true, span(5, 6)},
		{"last", Position{6, ep}, true, nil},
		{"future", Position{7, ep}, false, nil},
		{"other epoch", Position{4, "x"}, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs, ok, cur := since(t, n.store, "a", tc.since, 0)
			if ok != tc.ok || !equal(offsets(msgs), tc.want) || cur.Offset != 6 {
				t.Fatalf("Since = %v ok=%v cur=%+v, want %v ok=%v at 6", offsets(msgs), ok, cur, tc.want, tc.ok)
			}
		})
	}
	// The memory budget removes the stream's oldest messages, whatever
	// their topic: flooding 200 other topics pushes a's out.
	quiet, err := n.store.Position(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := since(t, n.store, "a", Position{4, ep}, 0); !ok {
		t.Fatal("a not recoverable before the flood")
	}
	for i := range 200 {
		mustAppend(t, n.store, fmt.Sprintf("b%d", i), string(make([]byte, 1024)))
	}
	if _, ok, _ := since(t, n.store, "a", Position{4, ep}, 0); ok {
		t.Fatal("a recoverable after its messages were pushed out by the budget")
	}
	// A reader that had everything of a, which has nothing newer, lost
	// nothing only while the head of the stream has not passed it.
	if _, ok, _ := since(t, n.store, "a", quiet, 0); ok {
		t.Fatal("a reader passed by the head of the stream recovered; the rules cannot tell it lost nothing and must say so")
	}
}

func TestJetStreamEpochChanges(t *testing.T) {
	url := startJetStream(t)
	a := newNode(t, url, JetStreamConfig{})
	b := newNode(t, url, JetStreamConfig{})
	p1 := mustAppend(t, a.store, "t", "one")
	p2 := mustAppend(t, a.store, "t", "two")

	// A purge through the API alone is seen by sequence.
	js, err := jetstream.New(dial(t, url))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(t.Context(), DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := since(t, b.store, "t", p1, 0); ok {
		t.Fatal("recovered across an external purge")
	}
	if msgs, ok, _ := since(t, b.store, "t", p2, 0); !ok || len(msgs) != 0 {
		t.Fatal("a reader that had everything before the purge lost nothing")
	}

	// Purge through the store: new epoch, seen by the other node.
	if err := a.store.Purge(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, ok, cur := since(t, b.store, "t", p2, 0)
	if ok || cur.Epoch == p2.Epoch {
		t.Fatalf("after Purge: ok=%v epoch %q, want a new epoch (old %q)", ok, cur.Epoch, p2.Epoch)
	}

	// Recreation: delete the stream; the next append makes a new one.
	if err := js.DeleteStream(t.Context(), DefaultStream); err != nil {
		t.Fatal(err)
	}
	p3 := mustAppend(t, b.store, "t", "three")
	if p3.Offset != 1 || p3.Epoch == cur.Epoch || p3.Epoch == p2.Epoch {
		t.Fatalf("append after recreation = %+v, want offset 1 in a new epoch", p3)
	}
	p4 := mustAppend(t, a.store, "t", "four") // a learns the new epoch from the sequence
	if p4.Epoch != p3.Epoch || p4.Offset != 2 {
		t.Fatalf("other node after recreation = %+v, want offset 2 in epoch %q", p4, p3.Epoch)
	}
	msgs, ok, _ := since(t, a.store, "t", Position{0, p3.Epoch}, 0)
	if !ok || !equal(offsets(msgs), span(1, 2)) || string(msgs[1].Payload) != "four" {
		t.Fatalf("Since in the new epoch = %v ok=%v", offsets(msgs), ok)
	}
}

// TestJetStreamCatchupOnAnotherNode recovers a reader on node b while node
// a publishes: live messages come through the stream's republish on b's
// own connection, history from b's store, and the reader gets every
// message after its position once and in order.
func TestJetStreamCatchupOnAnotherNode(t *testing.T) {
	url := startJetStream(t)
	cfg := JetStreamConfig{Config: Config{Size: -1}, Republish: broker.DefaultTopicPrefix}
	a, b := newNode(t, url, cfg), newNode(t, url, cfg)
	const total = 300
	var sent []uint64
	for range 50 {
		sent = append(sent, mustAppend(t, a.store, "feed", "m").Offset)
	}
	from := Position{Offset: sent[19], Epoch: *a.store.epoch.Load()} // the reader had 20
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range total - 50 {
			p, err := a.store.Append(context.Background(), "feed", []byte("m"))
			if err != nil {
				t.Error(err)
				return
			}
			sent = append(sent, p.Offset)
		}
	}()
	live := make(chan *nats.Msg, total)
	sub, err := b.nc.ChanSubscribe(broker.Subject(broker.DefaultTopicPrefix, "feed"), live) // 1.
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := b.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	c := NewCatchup(from.Offset)
	var hist []Entry
	for cursor := from; ; { // 2. page through the history
		msgs, ok, _ := since(t, b.store, "feed", cursor, 40)
		if !ok {
			t.Fatalf("Since(%+v) not ok", cursor)
		}
		hist = append(hist, msgs...)
		if len(msgs) < 40 {
			break
		}
		cursor.Offset = msgs[len(msgs)-1].Offset
	}
	entry := func(m *nats.Msg) Entry {
		o, ok := OffsetOf(m.Header)
		if !ok {
			t.Fatalf("republished message without offset: %v", m.Header)
		}
		return Entry{Offset: o, Payload: m.Data}
	}
	for len(live) > 0 {
		c.Buffer(entry(<-live))
	}
	got := offsets(c.Finish(hist)) // 3.
	<-done
	last := sent[len(sent)-1]
	for c.Last() < last {
		select {
		case m := <-live:
			if e := entry(m); c.Pass(e) {
				got = append(got, e.Offset)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("live stream stalled at %d of %d", c.Last(), last)
		}
	}
	if !equal(got, sent[20:]) {
		t.Fatalf("recovered %d messages, want the %d after the reader's position, once each in order", len(got), len(sent)-20)
	}
}

// TestJetStreamHostileTopics checks that topic names which are NATS
// wildcards, hold separators or spaces stay one literal subject each and
// never read each other's history.
func TestJetStreamHostileTopics(t *testing.T) {
	n := newNode(t, startJetStream(t), JetStreamConfig{})
	topics := []string{"x", "x.y", "x.>", "x.*", "*", ">", "a b", "x%2E", "ünï"}
	pos := map[string]Position{}
	for _, tp := range topics {
		pos[tp] = mustAppend(t, n.store, tp, tp)
	}
	for _, tp := range topics {
		t.Run(tp, func(t *testing.T) {
			msgs, ok, _ := since(t, n.store, tp, Position{pos[tp].Offset - 1, pos[tp].Epoch}, 0)
			if !ok || len(msgs) != 1 || string(msgs[0].Payload) != tp {
				t.Fatalf("Since = %d messages ok=%v, want only %q's own", len(msgs), ok, tp)
			}
		})
	}
	if _, err := n.store.Append(t.Context(), "", nil); !errors.Is(err, ErrBadTopic) {
		t.Fatalf("Append(empty topic) = %v, want ErrBadTopic", err)
	}
	_ = n.store.Close()
	if _, err := n.store.Append(t.Context(), "x", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
}
