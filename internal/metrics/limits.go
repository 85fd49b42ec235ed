package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/server"
)

// limitDescs describe what the bounds did: connections shed at the
// descriptor cap, bytes held against the buffer budget, and clients the
// server or the gateway closed for abuse. An operator alerts on these.
type limitDescs struct {
	shed, maxConns, buffered, maxBuffered       *prometheus.Desc
	overBudget, slowTimeouts, messageTimeouts   *prometheus.Desc
	pages, rateLimited, duplicates, presenceOff *prometheus.Desc
	encoded, encodedBytes, streams              *prometheus.Desc
}

func newLimitDescs() limitDescs {
	n := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("myriad_"+name, help, nil, nil)
	}
	return limitDescs{
		shed:            n("connections_shed_total", "Connections closed at accept because max-conns was reached."),
		maxConns:        n("connections_max", "The connection cap in force (0: none)."),
		buffered:        n("buffered_bytes", "Bytes queued for slow peers or assembled from fragments, at the last tick."),
		maxBuffered:     n("buffered_max_bytes", "The process-wide buffer budget (max-buffered; 0: none)."),
		overBudget:      n("over_budget_closes_total", "Connections closed as the largest holders while over max-buffered."),
		slowTimeouts:    n("slow_timeouts_total", "Connections closed after slow-timeout at their outbound limit."),
		messageTimeouts: n("message_timeouts_total", "Connections closed for not completing a message within message-timeout."),
		pages:           n("pages_total", "Static pages answered on the WebSocket port."),
		rateLimited:     n("clients_rate_limited_total", "Gateway clients closed for sending past client-rate."),
		duplicates:      n("publish_duplicates_total", "Publishes not repeated because their id was seen in the dedup window."),
		presenceOff:     n("presence_events_dropped_total", "Presence events not sent: topics over presence-max-subscribers on a loop."),
		encoded:         n("publish_frames_total", "Frames built for publishes (topics that had subscribers)."),
		encodedBytes:    n("publish_frames_bytes_total", "Bytes of the frames built for publishes."),
		streams:         n("streams_total", "SSE and long-poll requests accepted on the WebSocket port."),
	}
}

func (d *limitDescs) each(fn func(*prometheus.Desc)) {
	for _, x := range []*prometheus.Desc{
		d.shed, d.maxConns, d.buffered, d.maxBuffered,
		d.overBudget, d.slowTimeouts, d.messageTimeouts,
		d.pages, d.rateLimited, d.duplicates, d.presenceOff,
		d.encoded, d.encodedBytes, d.streams,
	} {
		fn(x)
	}
}

func (d *limitDescs) collectServer(ch chan<- prometheus.Metric, st server.Stats) {
	counter(ch, d.shed, st.Shed)
	gauge(ch, d.maxConns, float64(st.MaxConns))
	gauge(ch, d.buffered, float64(st.Buffered))
	gauge(ch, d.maxBuffered, float64(max(st.MaxBuffered, 0)))
	counter(ch, d.overBudget, st.OverBudget)
	counter(ch, d.slowTimeouts, st.SlowTimeouts)
	counter(ch, d.messageTimeouts, st.MessageTimeouts)
	counter(ch, d.pages, st.Pages)
	counter(ch, d.streams, st.Streams)
}

func (d *limitDescs) collectGateway(ch chan<- prometheus.Metric, hs gateway.HubStats) {
	counter(ch, d.rateLimited, hs.RateLimited)
	counter(ch, d.duplicates, hs.Duplicates)
	counter(ch, d.presenceOff, hs.PresenceDropped)
	counter(ch, d.encoded, hs.Encoded)
	counter(ch, d.encodedBytes, hs.EncodedBytes)
}
