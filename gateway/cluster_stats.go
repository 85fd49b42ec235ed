package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/myriadws/myriad/internal/broker"
)

// BrokerStats is a node's broker connection as /stats shows it.
type BrokerStats struct {
	State      string `json:"state"`      // connecting, connected, reconnecting or closed
	Published  uint64 `json:"published"`  // messages sent while connected
	Buffered   uint64 `json:"buffered"`   // messages kept for the reconnect (at most once)
	Unsent     uint64 `json:"unsent"`     // messages the broker could not take
	Received   uint64 `json:"received"`   // messages received on topics with local subscribers
	Dropped    uint64 `json:"dropped"`    // messages the client dropped for a slow topic
	Reconnects uint64 `json:"reconnects"` // successful reconnects
	Topics     int    `json:"topics"`     // topics this node holds interest in
	Gathers    int    `json:"gathers"`    // cluster queries in flight, those left waiting on a stuck link included
}

// LinkStats are the gateway's own counters of its cluster link.
type LinkStats struct {
	Received       uint64 `json:"received"`        // messages and events dispatched to the loops
	OwnSkipped     uint64 `json:"own_skipped"`     // own messages handed back after being delivered locally during an outage
	Rejected       uint64 `json:"rejected"`        // broker messages with a bad topic, kind or payload
	LocalFirst     uint64 `json:"local_first"`     // delivered locally at once because the broker was away
	Unsent         uint64 `json:"unsent"`          // reached this node only
	InterestErrors uint64 `json:"interest_errors"` // failed broker (dis)interest calls
	QueueFull      uint64 `json:"queue_full"`      // client publishes refused: the publish queue was full
	Queued         int    `json:"queued"`          // client publishes waiting for the broker now
	InterestQueued int    `json:"interest_queued"` // topics whose interest change waits for the broker now
	// Presence: nodes whose presence this node keeps (itself included),
	// nodes removed for silence, snapshots asked for after a missed
	// change, and announcements the broker could not take.
	PresenceNodes   int    `json:"presence_nodes"`
	PresenceExpired uint64 `json:"presence_expired"`
	PresenceResyncs uint64 `json:"presence_resyncs"`
	PresenceUnsent  uint64 `json:"presence_unsent"`
}

// NodeStats is one node's answer to a cluster /stats.
type NodeStats struct {
	Node string `json:"node"`
	apiStats
	Broker BrokerStats `json:"broker"`
	Link   LinkStats   `json:"link"`
}

// ClusterTotals sums the nodes that answered. Topics is a sum over nodes,
// not a count of distinct topics.
type ClusterTotals struct {
	Open          int64  `json:"open"`
	Upgraded      int64  `json:"upgraded"`
	Subscriptions int64  `json:"subscriptions"`
	Topics        int    `json:"topics"`
	Publishes     uint64 `json:"publishes"`
	Delivered     uint64 `json:"delivered"`
	Dropped       uint64 `json:"dropped"`
	SlowClosed    uint64 `json:"slow_closed"`
	Busy          uint64 `json:"busy"`
	Unsent        uint64 `json:"unsent"`
}

// clusterStatsBody is GET /stats on a cluster node: this node's stats as
// on a single node, plus the cluster under "cluster".
type clusterStatsBody struct {
	apiStats
	Cluster clusterView `json:"cluster"`
}

type clusterView struct {
	Node    string        `json:"node"`
	Broker  BrokerStats   `json:"broker"`
	Link    LinkStats     `json:"link"`
	Nodes   int           `json:"nodes"`
	Partial bool          `json:"partial,omitempty"`
	Reason  string        `json:"reason,omitempty"` // why the answer is partial
	Totals  ClusterTotals `json:"totals"`
	PerNode []NodeStats   `json:"per_node"`
}

// localStats are this node's server and hub counters.
func (g *Gateway) localStats() apiStats {
	st := apiStats{Hub: g.Stats()}
	if g.srv != nil {
		st.Stats = g.srv.Stats()
	}
	return st
}

// nodeStats is this node's part of a cluster /stats. Any goroutine may
// call it.
func (g *Gateway) nodeStats() NodeStats {
	cl := g.cluster
	bs := cl.c.Stats()
	return NodeStats{
		Node:     cl.c.NodeID(),
		apiStats: g.localStats(),
		Broker: BrokerStats{
			State: bs.State.String(), Published: bs.Published, Buffered: bs.Buffered, Unsent: bs.Unsent,
			Received: bs.Received, Dropped: bs.Dropped, Reconnects: bs.Reconnects, Topics: bs.Topics,
			Gathers: bs.Gathers,
		},
		Link: cl.stats(g),
	}
}

// answerStats is this node's answer to a stats query. It runs on the
// broker's query goroutine.
func (g *Gateway) answerStats([]byte) []byte {
	b, _ := json.Marshal(g.nodeStats())
	return b
}

// serveStatsCluster answers a cluster /stats within the broker's gather
// bound, even over a stuck broker link (broker.Client.Gather): nodes that
// did not answer are missing from per_node, the answer is marked partial
// with the reason, and this node's own counters are always there. With
// too many cluster queries in flight it answers 503, with this node's
// counters too.
func (g *Gateway) serveStatsCluster(w http.ResponseWriter, r *http.Request) {
	cl := g.cluster
	self := g.nodeStats()
	body := clusterStatsBody{apiStats: self.apiStats, Cluster: clusterView{Node: self.Node, Broker: self.Broker, Link: self.Link}}
	got, err := cl.c.Gather(r.Context(), queryStats, nil, cl.cfg.Nodes)
	for _, rep := range got.Replies {
		var ns NodeStats
		if json.Unmarshal(rep.Data, &ns) != nil {
			body.Cluster.Partial = true
			continue
		}
		body.Cluster.PerNode = append(body.Cluster.PerNode, ns)
	}
	if err != nil || len(body.Cluster.PerNode) == 0 {
		// The broker is away: this node is all that can be told.
		body.Cluster.PerNode, body.Cluster.Partial = []NodeStats{self}, true
	}
	if cl.cfg.Nodes > 0 && len(body.Cluster.PerNode) < cl.cfg.Nodes {
		body.Cluster.Partial = true
	}
	if body.Cluster.Partial {
		body.Cluster.Reason = gatherReason(err, len(got.Replies), cl.cfg.Nodes)
	}
	sort.Slice(body.Cluster.PerNode, func(i, j int) bool { return body.Cluster.PerNode[i].Node < body.Cluster.PerNode[j].Node })
	body.Cluster.Nodes = len(body.Cluster.PerNode)
	t := &body.Cluster.Totals
	for _, n := range body.Cluster.PerNode {
		t.Open += n.Stats.Open
		t.Upgraded += n.Stats.Upgraded
		t.Subscriptions += n.Hub.Subscriptions
		t.Topics += n.Hub.Topics
		t.Publishes += n.Hub.Publishes
		t.Delivered += n.Hub.Delivered
		t.Dropped += n.Hub.Dropped
		t.SlowClosed += n.Hub.SlowClosed
		t.Busy += n.Hub.Busy
		t.Unsent += n.Link.Unsent
	}
	if errors.Is(err, broker.ErrGatherBusy) {
		apiJSON(w, http.StatusServiceUnavailable, struct {
			Error string `json:"error"`
			clusterStatsBody
		}{ErrClusterBusy.Error(), body})
		return
	}
	apiJSON(w, http.StatusOK, body)
}
