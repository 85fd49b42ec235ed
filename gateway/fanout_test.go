package gateway

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

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
