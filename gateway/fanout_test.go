package gateway

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"

	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server"
)

// TestSlicedDeliveryKeepsOrder publishes to a topic whose subscribers
// take several steps to write, interleaved with a topic small enough for
// a direct delivery, without waiting between publishes: the small ones
// reach the loop while a sliced one is in progress and must queue behind
// it. Every subscriber must see its messages once and in order, and
// every publish must count every subscriber when it completes.
func TestSlicedDeliveryKeepsOrder(t *testing.T) {
	const (
		subs  = 40 // on topic b; the first few are on s too
		both  = 3
		msgs  = 30
		slice = 7
	)
	srv, g := startGateway(t, server.Config{Loops: 1}, Config{})
	g.sliceItems = slice
	conns := make([]*gorilla.Conn, subs)
	d := gorilla.Dialer{HandshakeTimeout: ioTimeout}
	for i := range conns {
		q := "/ws?topics=b"
		if i < both {
			q = "/ws?topics=b,s"
		}
		c, _, err := d.Dial(wsURL(srv, q), nil)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		conns[i] = c
	}
	waitHub(t, g, "subscriptions", func(s HubStats) bool { return s.Subscriptions == subs+both })

	errs := make(chan error, subs)
	for i, c := range conns {
		go func() {
			var want []int
			for seq := 0; seq < msgs; seq++ {
				if seq%2 == 0 || i < both {
					want = append(want, seq)
				}
			}
			errs <- readTopicSequence(c, want)
		}()
	}
	jobs := make([]*job, msgs)
	for seq := range jobs {
		topic := "b"
		if seq%2 == 1 {
			topic = "s"
		}
		data := `{"seq":` + strconv.Itoa(seq) + `}`
		j, err := g.dispatchMessages([]string{topic}, []byte(data), make(chan struct{}))
		if err != nil {
			t.Fatalf("publish %d: %v", seq, err)
		}
		jobs[seq] = j
	}
	for seq, j := range jobs {
		select {
		case <-j.done:
		case <-time.After(ioTimeout):
			t.Fatalf("publish %d did not complete", seq)
		}
		want := subs
		if seq%2 == 1 {
			want = both
		}
		if n := int(j.delivered.Load()); n != want {
			t.Errorf("publish %d delivered to %d, want %d", seq, n, want)
		}
	}
	for range conns {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if st := g.Stats(); st.Delivered != uint64(msgs/2*subs+msgs/2*both) {
		t.Errorf("Stats.Delivered = %d, want %d", st.Delivered, msgs/2*subs+msgs/2*both)
	}
}

// readTopicSequence reads messages whose data is {"seq":N} and checks
// that the sequence numbers are want, in order.
func readTopicSequence(c *gorilla.Conn, want []int) error {
	for _, seq := range want {
		_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
		_, b, err := c.ReadMessage()
		if err != nil {
			return fmt.Errorf("reading seq %d: %w", seq, err)
		}
		topic := "b"
		if seq%2 == 1 {
			topic = "s"
		}
		if exp := `{"type":"message","topic":"` + topic + `","data":{"seq":` + strconv.Itoa(seq) + `}}`; string(b) != exp {
			return fmt.Errorf("got %q, want %q", b, exp)
		}
	}
	return nil
}

// TestSlicedDeliverySkipsUnsubscribed starts a sliced delivery on the
// loop and, before its next step, unsubscribes a subscriber the first
// step has not reached: that one must not get the message, the others
// must, and the job must count them. A marker on a second topic tells
// each client that the message is not coming.
func TestSlicedDeliverySkipsUnsubscribed(t *testing.T) {
	const subs = 12
	srv, g := startGateway(t, server.Config{Loops: 1}, Config{})
	g.sliceItems = 4
	conns := make([]*gorilla.Conn, subs)
	d := gorilla.Dialer{HandshakeTimeout: ioTimeout}
	for i := range conns {
		c, _, err := d.Dial(wsURL(srv, "/ws?topics=b,z"), nil)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		conns[i] = c
	}
	waitHub(t, g, "subscriptions", func(s HubStats) bool { return s.Subscriptions == 2*subs })

	sh := g.shards[0]
	m := newMessage("b", []byte(`{"x":1}`), history.Position{})
	j := &job{done: make(chan struct{})}
	j.pending.Store(1)
	err := sh.l.Post(func() {
		sh.cur = j
		n := sh.deliverMessage(m)
		if q := &sh.fan; q.head < len(q.queue) {
			f := q.queue[q.head]
			victim := f.conns[len(f.conns)-1]
			sh.unsubscribeTopic(victim, sh.session(victim, false), "b")
		}
		sh.cur = nil
		j.finish(n)
	})
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	select {
	case <-j.done:
	case <-time.After(ioTimeout):
		t.Fatal("the sliced delivery did not complete")
	}
	if n := j.delivered.Load(); n != subs-1 {
		t.Errorf("delivered to %d, want %d", n, subs-1)
	}
	if n := publish(t, g, `{"end":1}`, "z"); n != subs {
		t.Fatalf("marker delivered to %d, want %d", n, subs)
	}
	got := 0
	for i, c := range conns {
		for {
			_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
			_, b, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
			if string(b) == `{"type":"message","topic":"b","data":{"x":1}}` {
				got++
				continue
			}
			if string(b) == `{"type":"message","topic":"z","data":{"end":1}}` {
				break
			}
		}
	}
	if got != subs-1 {
		t.Errorf("%d clients got the message, want %d", got, subs-1)
	}
}

// TestSliceSize checks how many subscribers one step writes: SliceItems
// for small frames, fewer as frames grow so that a step writes about
// sliceBytes, and always at least one.
func TestSliceSize(t *testing.T) {
	g := &Gateway{sliceItems: server.SliceItems}
	sh := &shard{g: g}
	tests := []struct {
		name string
		size int
		want int
	}{
		{"empty", 0, server.SliceItems},
		{"small", 64, server.SliceItems},
		{"at the byte bound", sliceBytes / server.SliceItems, server.SliceItems},
		{"16 KiB", 16 << 10, sliceBytes / (16 << 10)},
		{"300 KiB", 300 << 10, 3},
		{"1 MiB", 1 << 20, 1},
		{"4 MiB", 4 << 20, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := server.Prepare(ws.OpText, make([]byte, tc.size))
			if got := sh.slice(fr); got != tc.want {
				t.Errorf("slice(%d B) = %d, want %d", tc.size, got, tc.want)
			}
		})
	}
}
