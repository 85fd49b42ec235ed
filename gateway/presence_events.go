package gateway

import (
	"time"

	"github.com/myriadws/myriad/server"
)

// topicEvents is one topic's events of an interval, as prepared frames.
type topicEvents struct {
	topic  string
	frames []*server.PreparedFrame
}

// runPresence sends the gathered presence events every PresenceInterval,
// and on a cluster node heartbeats every PresenceHeartbeat, until the
// server stops. It is the one goroutine that announces this node's
// presence, so its changes, snapshots and heartbeats go out in order.
func (g *Gateway) runPresence() {
	t := time.NewTicker(g.cfg.PresenceInterval)
	defer t.Stop()
	var beat <-chan time.Time
	if cl := g.cluster; cl != nil {
		bt := time.NewTicker(cl.cfg.PresenceHeartbeat)
		defer bt.Stop()
		beat = bt.C
		g.beatPresence(time.Now()) // heard at once, not a heartbeat later
	}
	for {
		select {
		case <-g.srv.Done():
			return
		case now := <-beat:
			g.beatPresence(now)
		case <-t.C:
			g.flushPresence()
		}
	}
}

// flushPresence ends an interval: it announces this node's changes (on a
// cluster node) and sends this node's subscribers the events due. Events
// of anonymous connections go as before: on a single node straight to
// the loops, on a cluster node through the broker to every node.
func (g *Gateway) flushPresence() {
	parts, first := g.presence.takeLocal()
	anon := g.presence.takeAnon()
	var evs []presenceEvent
	if g.cluster != nil {
		g.sendPresenceChanges(parts, first)
		g.sendPresence(anon)
	} else {
		for topic, d := range anon {
			if kind := presenceKind(d); kind != "" {
				evs = append(evs, presenceEvent{kind: kind, topic: topic})
			}
		}
	}
	evs = append(evs, g.presence.takeEvents()...)
	if batch := g.buildPresence(evs); len(batch) > 0 {
		_ = g.dispatch(&job{run: func(sh *shard) int { return sh.deliverPresence(batch) }})
	}
}

// sendPresence hands an interval's anonymous events to the broker, which
// brings them back to every node, this one included, as it does
// publishes.
func (g *Gateway) sendPresence(changes map[string]int) {
	for topic, d := range changes {
		if kind := presenceKind(d); kind != "" {
			g.cluster.event(g, kind, topic)
		}
	}
}

// presenceKind names the event for a user's net change over an interval:
// a join for one who came, a leave for one who went, none for no change.
func presenceKind(d int) string {
	switch {
	case d > 0:
		return "join"
	case d < 0:
		return "leave"
	}
	return ""
}

// buildPresence prepares the events of topics this node has subscribers
// of, grouped by topic.
func (g *Gateway) buildPresence(evs []presenceEvent) []topicEvents {
	var out []topicEvents
	at := map[string]int{}
	for _, ev := range evs {
		if !g.reg.has(ev.topic) {
			continue
		}
		i, ok := at[ev.topic]
		if !ok {
			i = len(out)
			at[ev.topic] = i
			out = append(out, topicEvents{topic: ev.topic})
		}
		out[i].frames = append(out[i].frames, eventFrame(ev.kind, ev.topic, ev.user))
	}
	return out
}

// deliverPresence writes an interval's events to this loop's subscribers,
// skipping (and counting) topics with more than PresenceMaxSubscribers
// subscribers on this loop, where a list of comings and goings would cost
// more than it tells. Loop-only.
func (sh *shard) deliverPresence(batch []topicEvents) int {
	n := 0
	for _, te := range batch {
		ts := sh.topics[te.topic]
		if ts == nil {
			continue
		}
		if len(ts.subs) > sh.g.cfg.PresenceMaxSubscribers {
			sh.stats.presenceSkipped.Add(uint64(len(te.frames)))
			continue
		}
		for _, f := range te.frames {
			n += sh.deliver(te.topic, f)
		}
	}
	return n
}
