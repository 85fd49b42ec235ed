package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/server"
)

// Sources are what the exporter reads at scrape time. Server is required;
// Gateway is nil when no gateway is mounted; Broker is the node's broker
// link, nil on a single node; RSS defaults to ReadRSS.
type Sources struct {
	Server  *server.Server
	Gateway *gateway.Gateway
	Broker  *broker.Client
	RSS     func() (uint64, error)
}

func (s Sources) rss() (uint64, error) {
	if s.RSS != nil {
		return s.RSS()
	}
	return ReadRSS()
}

// Collector is a prometheus.Collector over a node's counters. It keeps no
// state between scrapes: every Collect reads fresh snapshots. Any
// goroutine may call its methods, concurrently.
type Collector struct {
	src    Sources
	descs  descs
	bdescs brokerDescs
	limits limitDescs
}

// NewCollector returns a Collector reading src. src.Server must not be
// nil.
func NewCollector(src Sources) *Collector {
	return &Collector{src: src, descs: newDescs(), bdescs: newBrokerDescs(), limits: newLimitDescs()}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.descs.each(func(d *prometheus.Desc) { ch <- d })
	c.bdescs.each(func(d *prometheus.Desc) { ch <- d })
	c.limits.each(func(d *prometheus.Desc) { ch <- d })
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Server.Stats()
	c.collectServer(ch, st)
	c.limits.collectServer(ch, st)
	c.collectBreakdown(ch, c.src.Server.Breakdown())
	c.collectLoops(ch)
	if c.src.Gateway != nil {
		hs := c.src.Gateway.Stats()
		c.collectGateway(ch, hs)
		c.limits.collectGateway(ch, hs)
	}
	c.collectBroker(ch)
	if rss, err := c.src.rss(); err == nil && st.Open > 0 {
		gauge(ch, c.descs.memPerConn, float64(rss)/float64(st.Open))
	}
}

func (c *Collector) collectServer(ch chan<- prometheus.Metric, st server.Stats) {
	d := &c.descs
	gauge(ch, d.handshaking, float64(st.Open-st.Upgraded))
	counter(ch, d.accepted, st.Accepted)
	counter(ch, d.upgrades, st.Upgrades, "101")
	counter(ch, d.messagesIn, st.MessagesIn)
	counter(ch, d.messagesOut, st.MessagesOut)
	counter(ch, d.bytesIn, st.BytesIn)
	counter(ch, d.bytesOut, st.BytesOut)
	counter(ch, d.compressed, st.CompressedIn, "in")
	counter(ch, d.compressed, st.CompressedOut, "out")
	counter(ch, d.pings, st.PingsSent)
	counter(ch, d.handshakeTimeouts, st.HandshakeTimeouts)
	counter(ch, d.slowConsumers, st.SlowConsumers)
	counter(ch, d.dropped, st.Dropped)
	draining := 0.0
	if st.Draining {
		draining = 1
	}
	gauge(ch, d.draining, draining)
}

func (c *Collector) collectBreakdown(ch chan<- prometheus.Metric, b server.Breakdown) {
	d := &c.descs
	for _, r := range b.Routes {
		gauge(ch, d.open, float64(r.Open), r.Path)
	}
	for _, r := range b.Refusals {
		result := "other"
		if r.Status != server.OtherStatus {
			result = strconv.Itoa(r.Status)
		}
		counter(ch, d.upgrades, r.Count, result)
	}
	for _, cl := range b.Closes {
		code := "other"
		switch cl.Code {
		case 0:
			code = "none"
		case server.OtherCode:
		default:
			code = strconv.Itoa(cl.Code)
		}
		counter(ch, d.closes, cl.Count, cl.Reason.String(), code)
	}
	h := b.Handshake
	buckets := make(map[float64]uint64, len(h.Bounds))
	var total uint64
	for i, bound := range h.Bounds {
		total += h.Counts[i]
		buckets[bound.Seconds()] = total
	}
	total += h.Counts[len(h.Bounds)]
	ch <- prometheus.MustNewConstHistogram(d.handshake, total, h.Sum.Seconds(), buckets)
}

func (c *Collector) collectLoops(ch chan<- prometheus.Metric) {
	d := &c.descs
	for _, l := range c.src.Server.Loops() {
		ls := l.Stats()
		idx := strconv.Itoa(ls.Index)
		gauge(ch, d.loopOpen, float64(ls.Open), idx)
		gauge(ch, d.loopQueued, float64(ls.Queued), idx)
		counter(ch, d.loopPosted, ls.Posted, idx)
		counter(ch, d.loopBusy, ls.PostBusy, idx)
		counter(ch, d.loopMessages, ls.MessagesIn, idx, "in")
		counter(ch, d.loopMessages, ls.MessagesOut, idx, "out")
	}
}

func (c *Collector) collectGateway(ch chan<- prometheus.Metric, hs gateway.HubStats) {
	d := &c.descs
	gauge(ch, d.topics, float64(hs.Topics))
	gauge(ch, d.subscriptions, float64(hs.Subscriptions))
	counter(ch, d.publishes, hs.Publishes)
	counter(ch, d.delivered, hs.Delivered)
	counter(ch, d.clientErrors, hs.ClientErrors)
	counter(ch, d.gatewayBusy, hs.Busy)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v uint64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}
