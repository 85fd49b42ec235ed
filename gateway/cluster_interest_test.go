package gateway

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/internal/broker/brokertest"
	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server/servertest"
)

// jam stalls proxy and fills n's broker link with publishes, so that its
// nats.go connection blocks holding its lock (brokertest.Jam).
func jam(t *testing.T, proxy *brokertest.StallProxy, n *node) (filled <-chan struct{}, release func()) {
	t.Helper()
	return brokertest.Jam(t, proxy, func(b []byte) error { return n.bc.Publish("fill", b, nil) })
}

// waitFilled waits for jam's publishes after the release.
func waitFilled(t *testing.T, filled <-chan struct{}) {
	t.Helper()
	select {
	case <-filled:
	case <-time.After(ioTimeout):
		t.Fatal("the jam's publishes did not go out after the release")
	}
}

// TestClusterSubscribeStalledBroker subscribes a client to new topics,
// one after another, while its node's broker connection is stuck: every
// subscribe is answered, another connection of the same (only) loop
// keeps getting its pong, and the interest changes queue up behind the
// stuck connection instead of blocking the loop. After the release the
// broker holds every topic, once, and a publish from another node
// reaches the subscriber.
func TestClusterSubscribeStalledBroker(t *testing.T) {
	bs := startBroker(t, 0)
	proxy := brokertest.StartStallProxy(t, bs.URL())
	cfg := Config{MaxTopicsPerConn: 1 << 12, ClientRate: -1}
	stuck := startNodeOpts(t, proxy.URL(), nodeOpts{loops: 1}, cfg, broker.Config{}, ClusterConfig{Nodes: 2})
	other := startNode(t, bs.URL(), 2, cfg, broker.Config{})
	sub := dialGateway(t, stuck.srv, "", nil)
	bystander := dialGateway(t, stuck.srv, "", nil) // one loop: sub's
	topics := []string{"t0"}
	sub.subscribe(topics[0])
	stuck.settle(t)

	filled, release := jam(t, proxy, stuck)
	const queued, most = 16, 4000
	for k := 1; ; k++ {
		if k == most {
			ls, _ := stuck.g.LinkStats()
			t.Fatalf("%d topics subscribed over a stuck broker link, and only %d interest changes queued", most, ls.InterestQueued)
		}
		topics = append(topics, "t"+strconv.Itoa(k))
		sub.subscribe(topics[k]) // answered by the loop
		bystander.send(map[string]any{"type": "ping", "ref": k})
		bystander.expect("pong") // the loop is not blocked
		if ls, _ := stuck.g.LinkStats(); ls.InterestQueued >= queued {
			break
		}
	}
	select {
	case <-filled:
		t.Fatal("the jam's publishes went out: the broker link was not stuck")
	default:
	}
	t.Logf("%d topics subscribed before %d interest changes were queued behind the stuck link", len(topics)-1, queued)

	release()
	waitFilled(t, filled)
	stuck.settle(t)
	for _, topic := range topics {
		if got := stuck.bc.Interested(topic); got != 1 {
			t.Fatalf("the broker holds %d references to %s after the release, want 1", got, topic)
		}
	}
	if ls, _ := stuck.g.LinkStats(); ls.InterestErrors != 0 {
		t.Fatalf("link stats %+v, want no interest error", ls)
	}
	last := topics[len(topics)-1]
	other.publishCluster(t, last, `"late"`)
	sub.expectData(last, `"late"`)
}

// TestClusterInterestChurn has several clients on both loops of a node
// subscribe to and unsubscribe from a few topics at random, first while
// the node's broker link is stuck, then while it flows. While stuck the
// interest queue holds at most one change per topic, however many
// subscribes and unsubscribes it took; at the end the broker holds
// exactly the topics the node has subscribers of, once each, and a
// publish from another node reaches exactly their subscribers.
func TestClusterInterestChurn(t *testing.T) {
	bs := startBroker(t, 0)
	proxy := brokertest.StartStallProxy(t, bs.URL())
	cfg := Config{ClientRate: -1}
	churned := startNodeWith(t, proxy.URL(), cfg, broker.Config{}, ClusterConfig{Nodes: 2})
	other := startNode(t, bs.URL(), 2, cfg, broker.Config{})
	const clients, topicCount, rounds = 6, 12, 150
	topics := make([]string, topicCount)
	for i := range topics {
		topics[i] = "c" + strconv.Itoa(i)
	}
	conns := make([]*gwClient, clients)
	held := make([]map[string]bool, clients) // each client's subscriptions
	for i := range conns {
		conns[i] = dialGateway(t, churned.srv, "", nil)
		held[i] = map[string]bool{}
	}
	var maxQueued atomic.Int64
	churn := func(seed uint64) {
		var wg sync.WaitGroup
		for i, c := range conns {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(seed, uint64(i)))
				for range rounds {
					topic := topics[rng.IntN(len(topics))]
					if held[i][topic] {
						c.send(map[string]any{"type": "unsubscribe", "topic": topic})
						if m := c.read(); m.Type != "unsubscribed" {
							t.Errorf("client %d unsubscribing %s: %+v", i, topic, m)
							return
						}
					} else {
						c.send(map[string]any{"type": "subscribe", "topics": []string{topic}})
						if m := c.read(); m.Type != "subscribed" {
							t.Errorf("client %d subscribing %s: %+v", i, topic, m)
							return
						}
					}
					held[i][topic] = !held[i][topic]
					ls, _ := churned.g.LinkStats()
					for q := int64(ls.InterestQueued); q > maxQueued.Load(); {
						if maxQueued.CompareAndSwap(maxQueued.Load(), q) {
							break
						}
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}

	filled, release := jam(t, proxy, churned)
	churn(1)
	select {
	case <-filled:
		t.Fatal("the jam's publishes went out: the broker link was not stuck")
	default:
	}
	if q := maxQueued.Load(); q < 2 {
		t.Fatalf("at most %d interest change queued: the churn did not meet the stuck link", q)
	}
	if q := maxQueued.Load(); q > topicCount+1 { // one per topic, and the one in flight
		t.Fatalf("%d interest changes queued over %d topics: changes of one topic were not merged", q, topicCount)
	}
	t.Logf("at most %d interest changes queued while stuck, after %d subscribes and unsubscribes", maxQueued.Load(), clients*rounds)
	release()
	waitFilled(t, filled)
	churn(2)

	churned.settle(t)
	want := map[string]int{}
	for i := range conns {
		for topic, on := range held[i] {
			if on {
				want[topic] = 1
			}
		}
	}
	for _, topic := range topics {
		if got := churned.bc.Interested(topic); got != want[topic] {
			t.Errorf("the broker holds %d references to %s, want %d", got, topic, want[topic])
		}
	}
	if ls, _ := churned.g.LinkStats(); ls.InterestErrors != 0 {
		t.Errorf("link stats %+v, want no interest error", ls)
	}
	if st := churned.bc.Stats(); st.Topics != len(want) {
		t.Errorf("the broker client holds %d topics, want %d", st.Topics, len(want))
	}
	for _, topic := range topics {
		other.publishCluster(t, topic, strconv.Quote(topic))
	}
	for i, c := range conns {
		seen := map[string]bool{}
		for _, on := range held[i] {
			if !on {
				continue
			}
			topic := topicOf(t, c)
			if !held[i][topic] || seen[topic] {
				t.Fatalf("client %d got a message of %s, subscribed %v, seen %v", i, topic, held[i], seen)
			}
			seen[topic] = true
		}
	}
}

// topicOf reads one published message and returns its topic.
func topicOf(t *testing.T, c *gwClient) string {
	t.Helper()
	m := c.expect("message")
	if string(m.Data) != strconv.Quote(m.Topic) {
		t.Fatalf("message %s on %s", m.Data, m.Topic)
	}
	return m.Topic
}

// gatedLink holds back the Interest call of one topic until open is
// closed, like a broker connection slow to take a subscription.
type gatedLink struct {
	Cluster
	topic  string
	open   chan struct{}
	handed atomic.Bool // the held-back Interest has reached the broker client
}

func (l *gatedLink) Interest(topic string) error {
	if topic == l.topic {
		<-l.open
		defer l.handed.Store(true)
	}
	return l.Cluster.Interest(topic)
}

// watchedStore fails the test when the gated topic's history is read
// before its interest has reached the broker client: a message published
// between the read and the subscription would be lost.
type watchedStore struct {
	history.Store
	t    *testing.T
	link *gatedLink
}

func (s watchedStore) Since(ctx context.Context, topic string, since history.Position, limit int) ([]history.Entry, bool, history.Position, error) {
	if topic == s.link.topic && !s.link.handed.Load() {
		s.t.Errorf("history of %s read before its interest reached the broker client", topic)
	}
	return s.Store.Since(ctx, topic, since, limit)
}

// TestClusterRecoverWaitsForInterest recovers a subscription on a node
// whose broker link is slow to take the topic's interest: the history is
// read only once the interest has reached the broker client, and the
// subscriber gets every message after its cursor exactly once and in
// order: those published before, while and after the interest was held
// back.
func TestClusterRecoverWaitsForInterest(t *testing.T) {
	bs, err := broker.StartServer(broker.ServerConfig{JetStream: true, StoreDir: t.TempDir()}, zap.NewNop())
	if err != nil {
		t.Fatalf("broker: %v", err)
	}
	t.Cleanup(bs.Shutdown)
	a := startHistoryNode(t, bs.URL())
	gate := &gatedLink{topic: "game", open: make(chan struct{})}
	var opened sync.Once
	open := func() { opened.Do(func() { close(gate.open) }) }
	b := startHistoryNodeWith(t, bs.URL(),
		func(c Cluster) Cluster { gate.Cluster = c; return gate },
		func(st history.Store) history.Store { return watchedStore{st, t, gate} })
	t.Cleanup(open)

	c := dialGateway(t, a.srv, "", nil)
	c.subscribe("game")
	a.settle(t)
	const n = 30
	var cursor histMsg
	for i := range 10 {
		a.publishCluster(t, "game", strconv.Itoa(i))
		m := c.readHist()
		if string(m.Data) != strconv.Itoa(i) {
			t.Fatalf("on A: %+v, want %d", m, i)
		}
		if i == 4 {
			cursor = m
		}
	}

	c2 := dialGateway(t, b.srv, "", nil)
	c2.send(map[string]any{"type": "subscribe", "topic": "game", "since": map[string]any{"offset": cursor.Offset, "epoch": cursor.Epoch}})
	servertest.Eventually(t, func() bool { ls, _ := b.g.LinkStats(); return ls.InterestQueued == 1 }, "B's interest in game held back")
	for i := 10; i < 20; i++ { // B is not subscribed on the broker: history only
		a.publishCluster(t, "game", strconv.Itoa(i))
	}
	open()
	for i := 20; i < n; i++ {
		a.publishCluster(t, "game", strconv.Itoa(i))
	}
	if r := c2.readHist(); r.Type != "subscribed" || r.Recovered == nil || !*r.Recovered {
		t.Fatalf("on B: %+v, want recovered: true", r)
	}
	last := cursor
	for next := 5; next < n; next++ {
		m := c2.readHist()
		if string(m.Data) != strconv.Itoa(next) || m.Offset <= last.Offset || m.Epoch != last.Epoch {
			t.Fatalf("on B: %+v after offset %d, want %d (gap or duplicate)", m, last.Offset, next)
		}
		last = m
	}
	c2.send(map[string]any{"type": "ping"})
	if m := c2.readHist(); m.Type != "pong" {
		t.Fatalf("on B after message %d: %+v, want pong (a duplicate?)", n-1, m)
	}
}

// TestClusterSubscribeThenPublishOnNode publishes on a node right after
// one of its clients was told "subscribed", while the node's link is
// still slow to take the topic's interest: the publish goes to the broker
// only after the interest, so the subscriber receives it, as when the
// loop itself subscribed on the broker before answering.
func TestClusterSubscribeThenPublishOnNode(t *testing.T) {
	bs := startBroker(t, 0)
	gate := &gatedLink{topic: "news", open: make(chan struct{})}
	var opened sync.Once
	open := func() { opened.Do(func() { close(gate.open) }) }
	wrap := func(c Cluster) Cluster { gate.Cluster = c; return gate }
	n := startNodeOpts(t, bs.URL(), nodeOpts{wrap: wrap}, Config{}, broker.Config{}, ClusterConfig{Nodes: 1})
	t.Cleanup(open)
	c := dialGateway(t, n.srv, "", nil)
	c.subscribe("news")
	servertest.Eventually(t, func() bool { ls, _ := n.g.LinkStats(); return ls.InterestQueued == 1 }, "the interest in news held back")
	var published atomic.Bool
	go func() {
		// Open the gate once the publish has either gone (too early)
		// or waits for the interest.
		servertest.Eventually(t, func() bool { return published.Load() || waiting(n.g.cluster.interest) }, "the publish gone or waiting")
		open()
	}()
	n.publishCluster(t, "news", `"first"`)
	published.Store(true)
	c.expectData("news", `"first"`)
}

// waiting reports whether someone waits for q's next broker call.
func waiting(q *interestQueue) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.changed != nil
}
