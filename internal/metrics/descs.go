package metrics

import "github.com/prometheus/client_golang/prometheus"

// descs are the metric descriptions of a Collector; README's Operations
// section lists the same names.
type descs struct {
	open, handshaking, accepted, upgrades, closes *prometheus.Desc
	messagesIn, messagesOut, bytesIn, bytesOut    *prometheus.Desc
	compressed, pings, handshakeTimeouts          *prometheus.Desc
	slowConsumers, dropped, draining, memPerConn  *prometheus.Desc
	handshake                                     *prometheus.Desc
	loopOpen, loopQueued, loopPosted, loopBusy    *prometheus.Desc
	loopMessages                                  *prometheus.Desc
	topics, subscriptions, publishes, delivered   *prometheus.Desc
	clientErrors, gatewayBusy                     *prometheus.Desc
}

func newDescs() descs {
	n := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("myriad_"+name, help, labels, nil)
	}
	return descs{
		open:              n("connections_open", "WebSocket connections open, by route.", "route"),
		handshaking:       n("connections_handshaking", "TCP connections accepted and not yet upgraded."),
		accepted:          n("connections_accepted_total", "TCP connections accepted."),
		upgrades:          n("upgrades_total", "Upgrade requests answered, by HTTP status (101 for success).", "result"),
		closes:            n("closes_total", "WebSocket connections closed, by reason and close code.", "reason", "code"),
		messagesIn:        n("messages_in_total", "WebSocket messages received."),
		messagesOut:       n("messages_out_total", "WebSocket messages sent."),
		bytesIn:           n("messages_in_bytes_total", "Payload bytes of the messages received."),
		bytesOut:          n("messages_out_bytes_total", "Payload bytes of the messages sent, before compression."),
		compressed:        n("messages_compressed_total", "Messages received or sent with permessage-deflate.", "direction"),
		pings:             n("pings_sent_total", "Pings sent to silent connections."),
		handshakeTimeouts: n("handshake_timeouts_total", "Connections closed for not completing an upgrade in time."),
		slowConsumers:     n("slow_consumers_total", "Connections closed because their outbound queue was full."),
		dropped:           n("messages_dropped_total", "Messages skipped for slow subscribers (slow policy drop)."),
		draining:          n("draining", "1 while the node is draining its connections."),
		memPerConn:        n("memory_per_connection_bytes", "Resident memory of the process divided by its open connections (absent with none)."),
		handshake:         n("handshake_duration_seconds", "Time from accept to the 101 response, at the loops' 1 ms clock."),
		loopOpen:          n("loop_connections", "TCP connections held by each event loop.", "loop"),
		loopQueued:        n("loop_mailbox_depth", "Functions waiting in each event loop's mailbox.", "loop"),
		loopPosted:        n("loop_posted_total", "Functions posted to each event loop.", "loop"),
		loopBusy:          n("loop_busy_refusals_total", "Posts refused because the loop's mailbox was full.", "loop"),
		loopMessages:      n("loop_messages_total", "Messages handled by each event loop.", "loop", "direction"),
		topics:            n("topics", "Distinct topics with subscribers on this node."),
		subscriptions:     n("subscriptions", "Connection-topic subscriptions on this node."),
		publishes:         n("publishes_total", "Messages published, one per topic."),
		delivered:         n("deliveries_total", "Published messages written to subscribers."),
		clientErrors:      n("client_errors_total", "Error replies sent to gateway clients."),
		gatewayBusy:       n("gateway_busy_total", "Gateway jobs refused by a full loop mailbox."),
	}
}

// each calls fn with every description.
func (d *descs) each(fn func(*prometheus.Desc)) {
	for _, x := range []*prometheus.Desc{
		d.open, d.handshaking, d.accepted, d.upgrades, d.closes,
		d.messagesIn, d.messagesOut, d.bytesIn, d.bytesOut,
		d.compressed, d.pings, d.handshakeTimeouts,
		d.slowConsumers, d.dropped, d.draining, d.memPerConn,
		d.handshake,
		d.loopOpen, d.loopQueued, d.loopPosted, d.loopBusy, d.loopMessages,
		d.topics, d.subscriptions, d.publishes, d.delivered,
		d.clientErrors, d.gatewayBusy,
	} {
		fn(x)
	}
}
