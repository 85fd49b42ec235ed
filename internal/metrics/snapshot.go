package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/server"
)

// Snapshot is one reading of a node for the dashboard: totals it turns
// into rates by differencing two readings, and gauges it plots as they
// are.
type Snapshot struct {
	Time       time.Time            `json:"time"`
	Server     server.Stats         `json:"server"`
	Loops      []server.LoopStats   `json:"loops"`
	Hub        *gateway.HubStats    `json:"hub,omitempty"`
	TopTopics  []gateway.TopicCount `json:"top_topics"`
	RSS        uint64               `json:"rss_bytes"`
	MemPerConn float64              `json:"memory_per_connection_bytes"` // 0 with no connection
	Refusals   map[string]uint64    `json:"refusals"`                    // by HTTP status
	Broker     string               `json:"broker"`                      // the broker link's state, "none" on a single node
}

// topTopicsShown is how many topics the dashboard lists.
const topTopicsShown = 8

// Take reads src now. A gateway that cannot answer in time leaves
// TopTopics empty rather than failing the whole reading. Any goroutine
// but an event loop may call it.
func Take(ctx context.Context, src Sources) Snapshot {
	s := Snapshot{Time: time.Now(), Server: src.Server.Stats(), Broker: "none", Refusals: map[string]uint64{}}
	if src.Broker != nil {
		s.Broker = src.Broker.State().String()
	}
	for _, l := range src.Server.Loops() {
		s.Loops = append(s.Loops, l.Stats())
	}
	for _, r := range src.Server.Breakdown().Refusals {
		key := "other"
		if r.Status != server.OtherStatus {
			key = strconv.Itoa(r.Status)
		}
		s.Refusals[key] = r.Count
	}
	if g := src.Gateway; g != nil {
		hs := g.Stats()
		s.Hub = &hs
		if top, err := g.TopTopics(ctx, topTopicsShown); err == nil {
			s.TopTopics = top
		}
	}
	if s.TopTopics == nil {
		s.TopTopics = []gateway.TopicCount{}
	}
	if rss, err := src.rss(); err == nil {
		s.RSS = rss
		if s.Server.Open > 0 {
			s.MemPerConn = float64(rss) / float64(s.Server.Open)
		}
	}
	return s
}
