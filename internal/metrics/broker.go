package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/internal/broker"
)

// brokerDescs describe a cluster node's broker link: exported only when
// Sources.Broker is set, so a single node shows none of them.
type brokerDescs struct {
	state, messages, reconnects, topics *prometheus.Desc
	gathers                             *prometheus.Desc
	link, interestErrors                *prometheus.Desc
	queued, presence, presenceNodes     *prometheus.Desc
	interestQueued                      *prometheus.Desc
}

func newBrokerDescs() brokerDescs {
	n := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("myriad_"+name, help, labels, nil)
	}
	return brokerDescs{
		state:          n("broker_state", "1 for the broker link's current state (connecting, connected, reconnecting, closed), 0 for the others.", "state"),
		messages:       n("broker_messages_total", "Broker messages by what became of them: published while connected, buffered for the reconnect, unsent (lost to the cluster), received for local subscribers, dropped by the client for a slow topic.", "result"),
		reconnects:     n("broker_reconnects_total", "Successful reconnects to the broker."),
		topics:         n("broker_topics", "Topics this node holds interest in at the broker."),
		gathers:        n("broker_gathers", "Cluster queries (/stats, /presence) of this node in flight, those left waiting for a stuck broker link included; past the bound (64 by default) more are refused."),
		link:           n("cluster_link_messages_total", "This node's cluster link: broker messages delivered to its loops, own messages skipped as already delivered, rejected as malformed, delivered locally first while the broker was away, unsent (this node only), and client publishes refused because the publish queue was full.", "result"),
		queued:         n("cluster_publish_queued", "Client publishes waiting for the broker in the node's publish queue."),
		presence:       n("cluster_presence_total", "Cluster presence upkeep: nodes removed for silence (expired), snapshots asked for after a missed change (resync), announcements the broker could not take (unsent).", "result"),
		presenceNodes:  n("cluster_presence_nodes", "Nodes whose presence this node keeps, itself included (presence events on)."),
		interestErrors: n("cluster_interest_errors_total", "Failed broker interest and disinterest calls."),
		interestQueued: n("cluster_interest_queued", "Topics whose broker interest change (first subscriber on the node, or last gone) waits for the node's interest goroutine."),
	}
}

func (d *brokerDescs) each(fn func(*prometheus.Desc)) {
	for _, x := range []*prometheus.Desc{d.state, d.messages, d.reconnects, d.topics, d.gathers, d.link, d.interestErrors, d.queued, d.interestQueued, d.presence, d.presenceNodes} {
		fn(x)
	}
}

// collectBroker exports the broker link of a cluster node; it does
// nothing on a single node.
func (c *Collector) collectBroker(ch chan<- prometheus.Metric) {
	b := c.src.Broker
	if b == nil {
		return
	}
	d := &c.bdescs
	st := b.Stats()
	for s := broker.StateConnecting; s <= broker.StateClosed; s++ {
		v := 0.0
		if st.State == s {
			v = 1
		}
		gauge(ch, d.state, v, s.String())
	}
	counter(ch, d.messages, st.Published, "published")
	counter(ch, d.messages, st.Buffered, "buffered")
	counter(ch, d.messages, st.Unsent, "unsent")
	counter(ch, d.messages, st.Received, "received")
	counter(ch, d.messages, st.Dropped, "dropped")
	counter(ch, d.reconnects, st.Reconnects)
	gauge(ch, d.topics, float64(st.Topics))
	gauge(ch, d.gathers, float64(st.Gathers))
	if c.src.Gateway == nil {
		return
	}
	if ls, ok := c.src.Gateway.LinkStats(); ok {
		collectLink(ch, d, ls)
	}
}

func collectLink(ch chan<- prometheus.Metric, d *brokerDescs, ls gateway.LinkStats) {
	counter(ch, d.link, ls.Received, "delivered")
	counter(ch, d.link, ls.OwnSkipped, "own_skipped")
	counter(ch, d.link, ls.Rejected, "rejected")
	counter(ch, d.link, ls.LocalFirst, "local_first")
	counter(ch, d.link, ls.Unsent, "unsent")
	counter(ch, d.link, ls.QueueFull, "queue_full")
	counter(ch, d.interestErrors, ls.InterestErrors)
	gauge(ch, d.queued, float64(ls.Queued))
	gauge(ch, d.interestQueued, float64(ls.InterestQueued))
	counter(ch, d.presence, ls.PresenceExpired, "expired")
	counter(ch, d.presence, ls.PresenceResyncs, "resync")
	counter(ch, d.presence, ls.PresenceUnsent, "unsent")
	gauge(ch, d.presenceNodes, float64(ls.PresenceNodes))
}
