package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/internal/broker/brokertest"
	"github.com/myriadws/myriad/server/servertest"
)

// TestClusterPublishQueueFull stalls a node's broker link while one of
// its clients publishes: the event loop keeps answering (the client
// gets "published" while the queue takes its messages, then the
// protocol's error once it is full, counted), other connections on the
// node are served, and after the link comes back the subscribers on the
// other node receive exactly the accepted messages, in the order sent.
func TestClusterPublishQueueFull(t *testing.T) {
	bs := startBroker(t, 0)
	proxy := brokertest.StartStallProxy(t, bs.URL())
	cfg := Config{ClientPublish: true, ClientRate: -1}
	stuck := startNodeWith(t, proxy.URL(), cfg, broker.Config{}, ClusterConfig{Nodes: 2, PublishQueue: 4})
	other := startNode(t, bs.URL(), 2, cfg, broker.Config{})
	sub := dialGateway(t, other.srv, "topics=t", nil)
	sub.send(map[string]any{"type": "ping"})
	sub.expect("pong")
	other.settle(t)
	pub := dialGateway(t, stuck.srv, "", nil)
	bystander := dialGateway(t, stuck.srv, "", nil)

	type payload struct {
		N   int    `json:"n"`
		Pad string `json:"pad,omitempty"`
	}
	publishOne := func(n int, pad string) gwMsg {
		t.Helper()
		pub.send(map[string]any{"type": "publish", "topic": "t", "data": payload{N: n, Pad: pad}, "ref": n})
		return pub.read()
	}
	if m := publishOne(0, ""); m.Type != "published" {
		t.Fatalf("publish before the stall: %+v", m)
	}
	sub.expectData("t", `{"n":0}`)

	proxy.Stall()
	pad := strings.Repeat("x", 32<<10)
	accepted := []int{0}
	refused := 0
	const most = 2000 // 64 MiB: far past any socket buffer
	for n := 1; n < most && refused < 3; n++ {
		switch m := publishOne(n, pad); {
		case m.Type == "published":
			if refused > 0 {
				t.Fatalf("publish %d accepted after a refusal while stalled", n)
			}
			accepted = append(accepted, n)
		case m.Type == "error" && strings.Contains(m.Error, "publish queue full"):
			refused++
		default:
			t.Fatalf("publish %d: %+v", n, m)
		}
	}
	if refused == 0 {
		t.Fatalf("%d publishes over a stalled broker link and none refused", most)
	}
	bystander.send(map[string]any{"type": "ping", "ref": 1})
	bystander.expect("pong") // the loop is not blocked
	if ls, _ := stuck.g.LinkStats(); ls.QueueFull != uint64(refused) {
		t.Fatalf("link stats %+v, want queue_full %d", ls, refused)
	}
	t.Logf("%d publishes accepted while stalled, then %d refused", len(accepted)-1, refused)

	proxy.Resume()
	// /stats asks every node through the broker: only now can it answer.
	_, body := apiCall(t, stuck.g, "GET", "/stats", "", "")
	link, _ := body["cluster"].(map[string]any)["link"].(map[string]any)
	if link["queue_full"] != float64(refused) {
		t.Fatalf("/stats link %v, want queue_full %d", link, refused)
	}
	servertest.Eventually(t, func() bool { ls, _ := stuck.g.LinkStats(); return ls.Queued == 0 }, "the publish queue drained")
	if m := publishOne(most, ""); m.Type != "published" {
		t.Fatalf("publish after the stall: %+v", m)
	}
	accepted = append(accepted, most)
	for _, n := range accepted[1:] {
		m := sub.expect("message")
		var p payload
		if err := json.Unmarshal(m.Data, &p); err != nil || p.N != n {
			t.Fatalf("subscriber got %s, want message %d (accepted in order: lost, refused or reordered)", m.Data, n)
		}
	}
}
