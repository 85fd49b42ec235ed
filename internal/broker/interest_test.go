package broker

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/myriadws/myriad/internal/broker/brokertest"
)

// returns runs fn on a goroutine and fails the test if it has not
// returned within a generous bound: a guard against a call that waits for
// a stuck broker, not an expectation about speed.
func returns(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return over a stuck broker link", what)
	}
}

// result waits (bounded) for the error of a call made on a goroutine.
func result(t *testing.T, what string, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return after the broker link came back", what)
		return nil
	}
}

// ended reports whether the call writing to ch has returned, and its
// error, without waiting.
func ended(ch <-chan error) (error, bool) {
	select {
	case err := <-ch:
		return err, true
	default:
		return nil, false
	}
}

// TestStuckInterestLeavesStatsAnswering subscribes a client to new
// topics, one after another, while its broker link is stuck, until an
// Interest is still in nats.go (which waits for the connection's lock,
// held by a write to the full socket) after the checks made during it:
// Interested and Stats answer, counting the Interest in flight (a
// /metrics scrape does not hang on a stuck broker), and a second
// Interest of the same topic waits for the first. A call still in
// flight after the checks was in flight throughout them; one that ended
// during them proves nothing, and the next topic is tried. After the
// release both Interest hold, on one subscription, and two Disinterest
// remove it.
func TestStuckInterestLeavesStatsAnswering(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	proxy := brokertest.StartStallProxy(t, srv.URL())
	c, in := connect(t, proxy.URL(), Config{})
	pub, _ := connect(t, srv.URL(), Config{})
	flush(t, c)
	base := srv.NumSubscriptions()

	filled, release := brokertest.Jam(t, proxy, func(b []byte) error { return c.Publish("fill", b, nil) })
	const most = 4000
	var stuck string
	var first, second chan error
	for k := 0; stuck == ""; k++ {
		if k == most {
			t.Fatalf("%d Interest calls over a stuck broker link, and none stayed in nats.go", most)
		}
		topic := "t" + strconv.Itoa(k)
		first, second = make(chan error, 1), nil
		go func() { first <- c.Interest(topic) }()
		var st Stats
		refs := 0
		returns(t, "Interested", func() {
			for c.Interested(topic) != 1 {
				runtime.Gosched()
			}
		})
		returns(t, "Stats", func() { st = c.Stats() })
		err, done := ended(first)
		if !done {
			second = make(chan error, 1)
			go func() { second <- c.Interest(topic) }()
			returns(t, "Interested", func() { refs = c.Interested(topic) })
			err, done = ended(first)
		}
		if done {
			if err != nil {
				t.Fatalf("Interest(%s): %v", topic, err)
			}
			if second != nil {
				if err := result(t, "the second Interest", second); err != nil {
					t.Fatalf("second Interest(%s): %v", topic, err)
				}
			}
			continue // made before the link filled up
		}
		if st.Topics != k+1 {
			t.Fatalf("Stats counts %d topics with the Interest of the %d-th in flight, want %d", st.Topics, k+1, k+1)
		}
		if refs != 1 {
			t.Fatalf("Interested(%s) = %d with its first subscribe in flight and a second Interest made, want 1", topic, refs)
		}
		stuck = topic
	}
	t.Logf("the Interest of topic %s stayed in nats.go", stuck)
	select {
	case <-filled:
		t.Fatal("the jam's publishes went out: the broker link was not stuck")
	default:
	}

	release()
	if err := result(t, "the stuck Interest", first); err != nil {
		t.Fatalf("stuck Interest(%s): %v", stuck, err)
	}
	if err := result(t, "the second Interest", second); err != nil {
		t.Fatalf("second Interest(%s): %v", stuck, err)
	}
	select {
	case <-filled:
	case <-time.After(10 * time.Second):
		t.Fatal("the jam's publishes did not go out after the release")
	}
	flush(t, c)
	if got := c.Interested(stuck); got != 2 {
		t.Fatalf("Interested(%s) = %d after two Interest, want 2", stuck, got)
	}
	topics := c.Stats().Topics
	if got := int(srv.NumSubscriptions() - base); got != topics {
		t.Fatalf("the broker holds %d subscriptions for %d topics, want one each", got, topics)
	}
	if err := pub.Publish(stuck, []byte("late"), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stuck topic's message", func() bool { return in.len() == 1 })
	for range 2 {
		if err := c.Disinterest(stuck); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, c)
	if got := int(srv.NumSubscriptions() - base); got != topics-1 {
		t.Fatalf("after two Disinterest the broker holds %d subscriptions, want %d", got, topics-1)
	}
}

// TestInterestFromManyGoroutines has goroutines add and drop references
// to a few topics at once, so that calls of one topic overlap its
// subscribe and unsubscribe in flight: at the end each topic's count is
// what the goroutines hold, the broker holds one subscription per topic
// with references and none for the others, and a publish reaches exactly
// the held topics.
func TestInterestFromManyGoroutines(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	c, in := connect(t, srv.URL(), Config{})
	pub, _ := connect(t, srv.URL(), Config{})
	base := srv.NumSubscriptions()
	const workers, rounds = 8, 200
	topics := []string{"a", "b", "c"}
	held := make([]map[string]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		held[w] = map[string]int{}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range rounds {
				topic := topics[rng.IntN(len(topics))]
				if held[w][topic] > 0 && rng.IntN(2) == 0 {
					if err := c.Disinterest(topic); err != nil {
						t.Errorf("Disinterest(%s): %v", topic, err)
						return
					}
					held[w][topic]--
					continue
				}
				if err := c.Interest(topic); err != nil {
					t.Errorf("Interest(%s): %v", topic, err)
					return
				}
				held[w][topic]++
			}
			if w%2 == 0 { // half the workers let go of everything
				for topic, n := range held[w] {
					for range n {
						if err := c.Disinterest(topic); err != nil {
							t.Errorf("Disinterest(%s): %v", topic, err)
							return
						}
					}
					held[w][topic] = 0
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	want := map[string]int{}
	for w := range held {
		for topic, n := range held[w] {
			want[topic] += n
		}
	}
	subs := 0
	for _, topic := range topics {
		if got := c.Interested(topic); got != want[topic] {
			t.Fatalf("Interested(%s) = %d, want %d", topic, got, want[topic])
		}
		if want[topic] > 0 {
			subs++
		}
	}
	flush(t, c)
	if got := int(srv.NumSubscriptions() - base); got != subs {
		t.Fatalf("the broker holds %d subscriptions, want %d (one per held topic)", got, subs)
	}
	if st := c.Stats(); st.Topics != subs {
		t.Fatalf("Stats counts %d topics, want %d", st.Topics, subs)
	}
	for _, topic := range topics {
		if err := pub.Publish(topic, []byte(topic), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Once pub's messages reached the broker, c's flush returns after they
	// reached c: the broker writes to c in order.
	flush(t, pub)
	flush(t, c)
	eventually(t, "the held topics' messages", func() bool { return in.len() >= subs })
	got := map[string]int{}
	for _, m := range in.snapshot() {
		got[m.Topic]++
	}
	for _, topic := range topics {
		if w := min(want[topic], 1); got[topic] != w {
			t.Fatalf("%s delivered %d times, want %d", topic, got[topic], w)
		}
	}
}
