package history

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestLocalBudgetEvictsOldestAcrossTopics fills a budget with three topics
// written in turn and checks that new messages push out the oldest ones,
// whatever their topic and shard, and that a topic that loses everything
// comes back in a new epoch.
func TestLocalBudgetEvictsOldestAcrossTopics(t *testing.T) {
	payload := make([]byte, 100) // 112-byte capacity
	msgCost := int64(entryOverhead + cap(append([]byte(nil), payload...)))
	topicCost := int64(topicOverhead + 1)
	// Room for three topics and six messages.
	l := newLocal(t, Config{Size: -1, TTL: -1, Memory: 3*topicCost + 6*msgCost})
	at := t0
	add := func(topic string) Position {
		t.Helper()
		at = at.Add(time.Second)
		p, err := l.AppendAt(topic, payload, at)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a1, b1, c1 := add("a"), add("b"), add("c")
	add("a")
	add("b")
	add("c")
	if st := l.Stats(); st.Messages != 6 || st.Evicted != 0 {
		t.Fatalf("full budget: %+v, want 6 messages, none evicted", st)
	}
	add("b") // evicts a#1, the oldest
	if _, ok, _ := since(t, l, "a", Position{0, a1.Epoch}, 0); ok {
		t.Fatal("a#1 should be gone")
	}
	for _, p := range []struct {
		topic string
		pos   Position
	}{{"a", a1}, {"b", Position{0, b1.Epoch}}, {"c", Position{0, c1.Epoch}}} {
		msgs, ok, _ := since(t, l, p.topic, p.pos, 0)
		if !ok || len(msgs) == 0 {
			t.Fatalf("%s after %d: %v ok=%v, want its newer messages", p.topic, p.pos.Offset, offsets(msgs), ok)
		}
	}
	add("b") // evicts b#1
	add("b") // evicts c#1
	add("b") // evicts a#2: a is empty now, a tombstone
	add("b") // evicts a's tombstone: a's history is lost
	if st := l.Stats(); st.Topics != 2 || st.Bytes > l.cfg.Memory {
		t.Fatalf("after evicting a: %+v, want 2 topics within %d bytes", st, l.cfg.Memory)
	}
	a := add("a")
	if a.Offset != 1 || a.Epoch == a1.Epoch {
		t.Fatalf("a after losing its history = %+v, want offset 1 in a new epoch (old %q)", a, a1.Epoch)
	}
	if _, ok, _ := since(t, l, "a", Position{2, a1.Epoch}, 0); ok {
		t.Fatal("a's old epoch still recovers")
	}
}

// TestLocalBudgetHoldsAgainstManyTopics publishes one message to each of a
// million distinct topics, as an attacker might, and checks that both the
// charged bytes and the real heap stay near the budget: topic metadata is
// paid for like messages. Under the race detector it runs 150,000 topics
// (36 budgets' worth of churn) to stay fast, and says so.
func TestLocalBudgetHoldsAgainstManyTopics(t *testing.T) {
	const budget = 4 << 20
	n := 1_000_000
	if raceEnabled || testing.Short() {
		n = 150_000
		t.Logf("race detector or -short: %d topics instead of a million", n)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := newLocal(t, Config{Memory: budget})
	payload := make([]byte, 32)
	buf := make([]byte, 0, 16)
	for i := range n {
		buf = strconv.AppendInt(append(buf[:0], 't'), int64(i), 10)
		if _, err := l.AppendAt(string(buf), payload, t0); err != nil {
			t.Fatal(err)
		}
	}
	st := l.Stats()
	if st.Bytes > budget || st.Evicted == 0 {
		t.Fatalf("charged %d bytes for %d topics (budget %d), evicted %d", st.Bytes, st.Topics, budget, st.Evicted)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	// The charges are measured costs, so the real heap stays within the
	// budget, give or take the test's own allocations.
	if grown > budget*11/10 {
		t.Fatalf("heap grew by %d bytes for a %d-byte budget (%d topics kept)", grown, budget, st.Topics)
	}
	t.Logf("%d topics kept, %d bytes charged, heap +%d bytes", st.Topics, st.Bytes, grown)
	runtime.KeepAlive(l)
}

func TestLocalBudgetCountsTombstones(t *testing.T) {
	l := newLocal(t, Config{Memory: 64 << 10})
	for i := range 10_000 {
		if _, err := l.Position(t.Context(), fmt.Sprintf("quiet%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if st := l.Stats(); st.Bytes > 64<<10 || st.Topics == 0 || st.Topics >= 10_000 {
		t.Fatalf("positions of 10,000 unknown topics: %+v, want bounded by the budget", st)
	}
}
