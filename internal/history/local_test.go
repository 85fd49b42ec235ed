package history

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero value", Config{}, true},
		{"bounds disabled", Config{Size: -1, TTL: -1}, true},
		{"negative memory", Config{Memory: -1}, false},
		{"negative shards", Config{Shards: -1}, false},
		{"too many shards", Config{Shards: 1 << 20}, false},
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

func TestLocalOffsetsInOrderWithoutGaps(t *testing.T) {
	l := newLocal(t, Config{Size: -1})
	epochs := map[string]string{}
	for i := range 300 {
		topic := fmt.Sprintf("t%d", i%3)
		p, err := l.AppendAt(topic, []byte("x"), t0)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(i/3 + 1); p.Offset != want {
			t.Fatalf("offset %d on %s, want %d", p.Offset, topic, want)
		}
		if e, seen := epochs[topic]; seen && e != p.Epoch {
			t.Fatalf("epoch of %s changed from %q to %q", topic, e, p.Epoch)
		}
		epochs[topic] = p.Epoch
	}
	if epochs["t0"] == epochs["t1"] || epochs["t0"] == "" {
		t.Fatalf("epochs not distinct per topic: %v", epochs)
	}
}

func TestLocalSinceBoundaries(t *testing.T) {
	l := newLocal(t, Config{Size: 5, TTL: -1})
	last := appendN(t, l, "news", 8) // offsets 4..8 kept
	ep := last.Epoch
	cases := []struct {
		name  string
		since Position
		limit int
		ok    bool
		want  []uint64
	}{
		{"from the start, evicted", Position{0, ep}, 0, false, nil},
		{"before the oldest kept", Position{2, ep}, 0, false, nil},
		{"just before the oldest kept", Position{3, ep}, 0, true, span(4, 8)},
		{"at the oldest kept", Position{4, ep}, 0, true, span(5, 8)},
		{"one before the last", Position{7, ep}, 0, true, span(8, 8)},
		{"at the last", Position{8, ep}, 0, true, nil},
		{"past the last", Position{9, ep}, 0, false, nil},
		{"far in the future", Position{1 << 63, ep}, 0, false, nil},
		{"limited", Position{3, ep}, 2, true, span(4, 5)},
		{"other epoch", Position{7, ep + "x"}, 0, false, nil},
		{"empty epoch", Position{7, ""}, 0, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs, ok, cur := since(t, l, "news", tc.since, tc.limit)
			if ok != tc.ok || !equal(offsets(msgs), tc.want) {
				t.Fatalf("Since = %v ok=%v, want %v ok=%v", offsets(msgs), ok, tc.want, tc.ok)
			}
			if cur != last {
				t.Fatalf("cur = %+v, want %+v", cur, last)
			}
		})
	}
}

func TestLocalPositionOfQuietTopic(t *testing.T) {
	l := newLocal(t, Config{})
	ctx := context.Background()
	p, err := l.Position(ctx, "quiet")
	if err != nil || p.Offset != 0 || p.Epoch == "" {
		t.Fatalf("Position = %+v, %v; want offset 0 and an epoch", p, err)
	}
	if _, err := l.Append(ctx, "quiet", []byte("first")); err != nil {
		t.Fatal(err)
	}
	msgs, ok, _ := since(t, l, "quiet", p, 0)
	if !ok || !equal(offsets(msgs), []uint64{1}) || string(msgs[0].Payload) != "first" {
		t.Fatalf("Since(%+v) = %v ok=%v, want [1]", p, offsets(msgs), ok)
	}
}

func TestLocalTTL(t *testing.T) {
	const ttl = time.Minute
	l := newLocal(t, Config{TTL: ttl})
	last := appendN(t, l, "a", 3) // at t0, t0+1s, t0+2s
	l.Expire(t0.Add(ttl + 500*time.Millisecond))
	msgs, ok, _ := since(t, l, "a", Position{1, last.Epoch}, 0)
	if !ok || !equal(offsets(msgs), span(2, 3)) {
		t.Fatalf("after expiring one: %v ok=%v", offsets(msgs), ok)
	}
	if _, ok, _ := since(t, l, "a", Position{0, last.Epoch}, 0); ok {
		t.Fatal("expired message still recoverable")
	}
	// All expired: the tombstone keeps the epoch for a reader that had it all.
	empty := t0.Add(ttl + 3*time.Second)
	l.Expire(empty)
	if msgs, ok, cur := since(t, l, "a", last, 0); !ok || len(msgs) != 0 || cur != last {
		t.Fatalf("tombstone: %v ok=%v cur=%+v, want nothing, ok, %+v", offsets(msgs), ok, cur, last)
	}
	// Another TTL later the topic is forgotten: a new epoch from offset 1.
	l.Expire(empty.Add(ttl + time.Second))
	if st := l.Stats(); st.Topics != 0 || st.Bytes != 0 {
		t.Fatalf("after expiry: %+v, want empty", st)
	}
	p, err := l.AppendAt("a", []byte("again"), empty.Add(2*ttl))
	if err != nil || p.Offset != 1 || p.Epoch == last.Epoch {
		t.Fatalf("append after loss = %+v, %v; want offset 1 in a new epoch", p, err)
	}
	if _, ok, _ := since(t, l, "a", last, 0); ok {
		t.Fatal("old epoch recovered after its history was lost")
	}
}

func TestLocalCountBound(t *testing.T) {
	l := newLocal(t, Config{Size: 3, TTL: -1})
	last := appendN(t, l, "a", 10)
	msgs, ok, _ := since(t, l, "a", Position{7, last.Epoch}, 0)
	if !ok || !equal(offsets(msgs), span(8, 10)) {
		t.Fatalf("Since(7) = %v ok=%v, want 8..10", offsets(msgs), ok)
	}
	if st := l.Stats(); st.Messages != 3 {
		t.Fatalf("%d messages stored, want 3", st.Messages)
	}
}

func TestLocalTooLarge(t *testing.T) {
	l := newLocal(t, Config{Memory: 1024})
	if _, err := l.AppendAt("a", make([]byte, 2048), t0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("AppendAt(2 KiB) = %v, want ErrTooLarge", err)
	}
	if _, err := l.AppendAt("", nil, t0); !errors.Is(err, ErrBadTopic) {
		t.Fatalf("AppendAt(empty topic) = %v, want ErrBadTopic", err)
	}
}

func TestLocalClosed(t *testing.T) {
	l := newLocal(t, Config{})
	_ = l.Close()
	ctx := context.Background()
	if _, err := l.Append(ctx, "a", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
	if _, _, _, err := l.Since(ctx, "a", Position{}, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Since after Close = %v", err)
	}
	if _, err := l.Position(ctx, "a"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Position after Close = %v", err)
	}
}

func TestLocalConcurrentAppends(t *testing.T) {
	l := newLocal(t, Config{Size: -1, TTL: -1})
	const writers, perWriter, topics = 8, 500, 4
	var wg sync.WaitGroup
	got := make([][]Position, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				p, err := l.Append(context.Background(), fmt.Sprintf("t%d", i%topics), []byte{byte(w)})
				if err != nil {
					t.Error(err)
					return
				}
				got[w] = append(got[w], p)
			}
		}()
		wg.Add(1)
		go func() { // readers race with the writers
			defer wg.Done()
			for i := range 100 {
				_, _, _, _ = l.Since(context.Background(), fmt.Sprintf("t%d", i%topics), Position{}, 10)
			}
		}()
	}
	wg.Wait()
	for tp := range topics {
		topic := fmt.Sprintf("t%d", tp)
		seen := map[uint64]bool{}
		var epoch string
		for w := range writers {
			for i, p := range got[w] {
				if i%topics == tp {
					if seen[p.Offset] {
						t.Fatalf("%s: offset %d handed out twice", topic, p.Offset)
					}
					seen[p.Offset] = true
					epoch = p.Epoch
				}
			}
		}
		n := uint64(writers * perWriter / topics)
		msgs, ok, cur := since(t, l, topic, Position{0, epoch}, 0)
		if !ok || !equal(offsets(msgs), span(1, n)) || cur.Offset != n || len(seen) != int(n) {
			t.Fatalf("%s: Since = %d messages ok=%v cur=%+v, want 1..%d", topic, len(msgs), ok, cur, n)
		}
	}
}

// TestLocalRestartChangesEpoch stands a new store in for a restarted
// process: a reader's position from the old one must not recover.
func TestLocalRestartChangesEpoch(t *testing.T) {
	before := appendN(t, newLocal(t, Config{}), "a", 3)
	after := newLocal(t, Config{})
	p := appendN(t, after, "a", 5)
	if p.Epoch == before.Epoch {
		t.Fatalf("restarted store reused epoch %q", p.Epoch)
	}
	if msgs, ok, _ := since(t, after, "a", before, 0); ok || len(msgs) != 0 {
		t.Fatalf("position from before the restart recovered %v", offsets(msgs))
	}
}
