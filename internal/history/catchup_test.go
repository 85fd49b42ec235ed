package history

import (
	"context"
	"sync"
	"testing"
)

// liveTopic stands in for the gateway's fan-out: a publisher appends and
// hands the message to every subscriber, in offset order thanks to
// AppendThen.
type liveTopic struct {
	mu   sync.Mutex
	subs []chan Entry
}

func (lt *liveTopic) subscribe() chan Entry {
	ch := make(chan Entry, 1<<16)
	lt.mu.Lock()
	lt.subs = append(lt.subs, ch)
	lt.mu.Unlock()
	return ch
}

func (lt *liveTopic) fanOut(e Entry) {
	lt.mu.Lock()
	for _, ch := range lt.subs {
		ch <- e
	}
	lt.mu.Unlock()
}

// TestCatchupWithConcurrentAppenders reconnects readers from several
// positions while two publishers append, and checks that each gets every
// message after its position exactly once and in order, across the seam
// between history and live.
func TestCatchupWithConcurrentAppenders(t *testing.T) {
	const total = 4000
	l := newLocal(t, Config{Size: -1, TTL: -1})
	lt := &liveTopic{}
	start, err := l.Position(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	publish := func(n int) {
		for range n {
			_, err := l.AppendThen("t", []byte("m"), t0, func(p Position) {
				lt.fanOut(Entry{Offset: p.Offset})
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	}
	var pubs sync.WaitGroup
	pubs.Add(2)
	go func() { defer pubs.Done(); publish(total / 2) }()
	go func() { defer pubs.Done(); publish(total / 2) }()

	cases := []struct {
		name  string
		after uint64 // wait until this many are appended, then reconnect
	}{{"from the start", 0}, {"early", 50}, {"midway", total / 2}, {"late", total - 10}}
	var readers sync.WaitGroup
	for _, tc := range cases {
		readers.Add(1)
		go func() {
			defer readers.Done()
			cursor := Position{Offset: tc.after, Epoch: start.Epoch}
			for {
				msgs, ok, _, err := l.Since(context.Background(), "t", Position{0, start.Epoch}, 0)
				if err != nil || !ok {
					t.Errorf("%s: Since = ok %v, %v", tc.name, ok, err)
					return
				}
				if uint64(len(msgs)) >= tc.after {
					break
				}
			}
			live := lt.subscribe() // 1. subscribe, buffering
			c := NewCatchup(cursor.Offset)
			msgs, ok, _, err := l.Since(context.Background(), "t", cursor, 0) // 2. history
			if err != nil || !ok {
				t.Errorf("%s: Since(%+v) = ok %v, %v", tc.name, cursor, ok, err)
				return
			}
			for len(live) > 0 { // live messages racing with the history read
				c.Buffer(<-live)
			}
			got := offsets(c.Finish(msgs)) // 3. history, then buffered news
			for c.Last() < total {
				if e := <-live; c.Pass(e) {
					got = append(got, e.Offset)
				}
			}
			if !equal(got, span(tc.after+1, total)) {
				t.Errorf("%s: got %d messages (%v...), want %d..%d once each in order",
					tc.name, len(got), got[:min(len(got), 5)], tc.after+1, total)
			}
		}()
	}
	pubs.Wait()
	readers.Wait()
}

func TestCatchupDropsOverlap(t *testing.T) {
	cases := []struct {
		name     string
		from     uint64
		history  []uint64
		buffered []uint64
		want     []uint64
	}{
		{"overlap", 2, span(3, 6), span(5, 8), span(3, 8)},
		{"live only", 6, nil, span(7, 8), span(7, 8)},
		{"history only", 0, span(1, 3), nil, span(1, 3)},
		{"buffered before cursor", 5, span(6, 6), span(4, 7), span(6, 7)},
		{"nothing", 9, nil, nil, []uint64{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCatchup(tc.from)
			for _, o := range tc.buffered {
				c.Buffer(Entry{Offset: o})
			}
			var hist []Entry
			for _, o := range tc.history {
				hist = append(hist, Entry{Offset: o})
			}
			if got := offsets(c.Finish(hist)); !equal(got, tc.want) || !c.Done() {
				t.Fatalf("Finish = %v, want %v", got, tc.want)
			}
			last := c.Last()
			if c.Pass(Entry{Offset: last}) || !c.Pass(Entry{Offset: last + 1}) {
				t.Fatalf("Pass after Finish: duplicate accepted or new message refused")
			}
		})
	}
}
