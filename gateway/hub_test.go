package gateway

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"

	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// TestBroadcastOrderedToThousands publishes a sequence of messages to
// 2,000 subscribers spread over the loops, alternating the Go API and the
// HTTP API, and checks that every subscriber receives every message exactly
// once and in order.
func TestBroadcastOrderedToThousands(t *testing.T) {
	const (
		subs = 2000
		msgs = 40
	)
	srv, g := startGateway(t, server.Config{Loops: 4}, Config{})
	conns := make([]*gorilla.Conn, subs)
	d := gorilla.Dialer{HandshakeTimeout: ioTimeout}
	for i := range conns {
		c, _, err := d.Dial(wsURL(srv, "/ws?topics=b"), nil)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		conns[i] = c
	}
	waitHub(t, g, "subscriptions", func(s HubStats) bool { return s.Subscriptions == subs })

	errs := make(chan error, subs)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- readSequence(c, msgs)
			_ = i
		}()
	}
	for seq := 0; seq < msgs; seq++ {
		data := `{"seq":` + strconv.Itoa(seq) + `}`
		var n int
		if seq%2 == 0 {
			n = publish(t, g, data, "b")
		} else {
			status, body := apiCall(t, g, "POST", "/publish", "", `{"topic":"b","data":`+data+`}`)
			if status != http.StatusOK {
				t.Fatalf("publish %d: %d %v", seq, status, body)
			}
			n = int(body["delivered"].(float64))
		}
		if n != subs {
			t.Fatalf("publish %d delivered to %d, want %d", seq, n, subs)
		}
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if failed++; failed <= 5 {
				t.Error(err)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d subscribers got a wrong sequence", failed, subs)
	}
	if st := g.Stats(); st.Delivered != subs*msgs || st.Dropped != 0 || st.SlowClosed != 0 {
		t.Fatalf("hub stats %+v", st)
	}
}

// readSequence reads n messages and checks that they carry seq 0..n-1,
// comparing bytes: the envelope is fixed (see PROTOCOL.md) and decoding
// JSON 80,000 times under the race detector would dominate the test.
func readSequence(c *gorilla.Conn, n int) error {
	for want := 0; want < n; want++ {
		_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
		_, b, err := c.ReadMessage()
		if err != nil {
			return fmt.Errorf("reading seq %d: %w", want, err)
		}
		if exp := `{"type":"message","topic":"b","data":{"seq":` + strconv.Itoa(want) + `}}`; string(b) != exp {
			return fmt.Errorf("got %q, want %q", b, exp)
		}
	}
	return nil
}

// TestSubscribeChurnLeavesNothing runs a million subscribe/unsubscribe
// cycles over four connections, 256 topics per message and fresh topic
// names as it goes (from a set of pre-encoded requests, to keep the
// client's share of the work small), then checks that the counters are back to zero and
// that every map the churn grew was emptied and rebuilt small.
func TestSubscribeChurnLeavesNothing(t *testing.T) {
	const (
		clients = 4
		batch   = 256
		cycles  = 1_000_000
		rounds  = (cycles + clients*batch - 1) / (clients * batch) // at least a million
	)
	srv, g := startGateway(t, server.Config{Loops: 2}, Config{MaxTopicsPerConn: batch, ClientRate: -1})
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for ci := 0; ci < clients; ci++ {
		c := dialGateway(t, srv, "", nil)
		wg.Add(2)
		go func() { // writer
			defer wg.Done()
			const sets = 31
			var reqs [sets][2][]byte
			topics := make([]string, batch)
			for r := range reqs {
				for i := range topics {
					topics[i] = fmt.Sprintf("c%d.r%d.%d", ci, r, i)
				}
				reqs[r][0], _ = json.Marshal(map[string]any{"type": "subscribe", "topics": topics})
				reqs[r][1], _ = json.Marshal(map[string]any{"type": "unsubscribe", "topics": topics})
			}
			for r := 0; r < rounds; r++ {
				for _, b := range reqs[r%sets] {
					_ = c.c.SetWriteDeadline(time.Now().Add(ioTimeout))
					if err := c.c.WriteMessage(gorilla.TextMessage, b); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
		go func() { // reader: every request is acknowledged, in order
			defer wg.Done()
			for r := 0; r < rounds*2; r++ {
				_ = c.c.SetReadDeadline(time.Now().Add(ioTimeout))
				_, b, err := c.c.ReadMessage()
				if err != nil {
					errs <- err
					return
				}
				want := `{"type":"subscribed"`
				if r%2 == 1 {
					want = `{"type":"unsubscribed"`
				}
				if !strings.HasPrefix(string(b), want) {
					errs <- fmt.Errorf("reply %d: %.80s", r, b)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := g.Stats()
	if st.Subscriptions != 0 || st.Topics != 0 || st.ClientErrors != 0 {
		t.Fatalf("after churn: %+v", st)
	}
	for i, s := range shardSizes(t, g) {
		if s.topics != 0 || s.conns != 0 || s.topicsPeak >= shrinkFloor || s.connsPeak >= shrinkFloor {
			t.Fatalf("loop %d after churn: %+v", i, s)
		}
	}
	g.reg.mu.Lock()
	n, peak := len(g.reg.m), g.reg.peak
	g.reg.mu.Unlock()
	if n != 0 || peak >= shrinkFloor {
		t.Fatalf("registry after churn: %d topics, peak %d", n, peak)
	}
	if got := srv.Stats().MessagesIn; got != clients*rounds*2 {
		t.Fatalf("server read %d messages, want %d", got, clients*rounds*2)
	}
}

// TestSlowSubscriber publishes to a subscriber that does not read, beside
// one that does, under both policies: close ends the slow one; drop skips
// messages for it and keeps it. The fast one gets everything either way.
func TestSlowSubscriber(t *testing.T) {
	cases := []struct {
		policy SlowPolicy
		done   func(HubStats) bool
	}{
		{SlowClose, func(s HubStats) bool { return s.SlowClosed > 0 }},
		{SlowDrop, func(s HubStats) bool { return s.Dropped > 0 }},
	}
	for _, tc := range cases {
		t.Run(string(tc.policy), func(t *testing.T) {
			srv, g := startGateway(t, slowConfig(), Config{SlowPolicy: tc.policy})
			slow := servertest.DialTCP(t, srv.Addr().String())
			if tcp, ok := slow.Conn().(*net.TCPConn); ok {
				_ = tcp.SetReadBuffer(4 << 10)
			}
			key := servertest.NewKey(t)
			slow.Write([]byte(servertest.UpgradeRequest("/ws?topics=s", key)))
			slow.ExpectSwitching(key)
			fast := dialGateway(t, srv, "topics=s", nil)
			waitHub(t, g, "subscriptions", func(s HubStats) bool { return s.Subscriptions == 2 })

			fastErr := make(chan error, 1)
			counted := make(chan int, 1)
			go func() {
				n := 0
				defer func() { counted <- n }()
				for {
					_ = fast.c.SetReadDeadline(time.Now().Add(ioTimeout))
					_, b, err := fast.c.ReadMessage()
					if err != nil {
						fastErr <- err
						return
					}
					if !strings.Contains(string(b), `"seq":`+strconv.Itoa(n)+`,`) {
						fastErr <- fmt.Errorf("message %d: %.60s", n, b)
						return
					}
					if strings.Contains(string(b), `"last":true`) {
						fastErr <- nil
						return
					}
					n++
				}
			}()
			pad := strings.Repeat("x", 8<<10)
			sent := 0
			for ; sent < 5000 && !tc.done(g.Stats()); sent++ {
				publish(t, g, `{"seq":`+strconv.Itoa(sent)+`,"pad":"`+pad+`"}`, "s")
			}
			if !tc.done(g.Stats()) {
				t.Fatalf("policy never applied after %d messages: %+v", sent, g.Stats())
			}
			if tc.policy == SlowClose {
				waitHub(t, g, "slow subscriber gone", func(s HubStats) bool { return s.Subscriptions == 1 })
				if srv.Stats().SlowConsumers == 0 {
					t.Fatal("server did not count the slow consumer")
				}
			}
			publish(t, g, `{"seq":`+strconv.Itoa(sent)+`,"last":true}`, "s")
			if err := <-fastErr; err != nil {
				t.Fatalf("fast subscriber: %v", err)
			}
			if n := <-counted; n != sent {
				t.Fatalf("fast subscriber got %d of %d", n, sent)
			}
			if tc.policy == SlowClose {
				return
			}
			// The slow subscriber is still there: it reads what was
			// queued for it (a prefix of the sequence with gaps, in
			// order) and, caught up, the messages published from now on.
			if st := g.Stats(); st.Subscriptions != 2 || st.SlowClosed != 0 {
				t.Fatalf("drop policy: %+v", st)
			}
			last := -1
			for {
				h, p := slow.ReadFrame()
				if h.OpCode != ws.OpText {
					t.Fatalf("slow subscriber got op %v", h.OpCode)
				}
				var m struct {
					Data struct {
						Seq  int  `json:"seq"`
						Last bool `json:"last"`
					} `json:"data"`
				}
				if err := json.Unmarshal(p, &m); err != nil {
					t.Fatal(err)
				}
				if m.Data.Seq <= last {
					t.Fatalf("slow subscriber: seq %d after %d", m.Data.Seq, last)
				}
				last = m.Data.Seq
				if m.Data.Last {
					break
				}
			}
		})
	}
}
