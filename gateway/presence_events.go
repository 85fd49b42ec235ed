package gateway

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/server"
)

// presenceBatcher gathers presence changes (Config.PresenceEvents) and
// sends them once per Config.PresenceInterval: for each topic, at most one
// event per user, the net of what happened in the interval, and none when
// a user came and went. One client flapping a subscription thus costs its
// topic's subscribers at most one event per interval (and the client's
// own rate limit bounds the flapping). Loops note changes under mu; one
// goroutine per Gateway (run) sends them.
type presenceBatcher struct {
	mu      sync.Mutex
	pending map[string]map[string]int // topic -> user ("" anonymous) -> joins minus leaves
}

// note records one join (+1) or leave (-1). Any goroutine may call it.
func (p *presenceBatcher) note(topic, user string, delta int) {
	p.mu.Lock()
	if p.pending == nil {
		p.pending = make(map[string]map[string]int)
	}
	users := p.pending[topic]
	if users == nil {
		users = make(map[string]int, 1)
		p.pending[topic] = users
	}
	users[user] += delta
	p.mu.Unlock()
}

// take returns the changes gathered so far and starts a new interval.
func (p *presenceBatcher) take() map[string]map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.pending
	p.pending = nil
	return m
}

// topicEvents is one topic's events of an interval, as prepared frames.
type topicEvents struct {
	topic  string
	frames []*server.PreparedFrame
}

// runPresence sends the gathered presence events every PresenceInterval
// until the server stops.
func (g *Gateway) runPresence() {
	t := time.NewTicker(g.cfg.PresenceInterval)
	defer t.Stop()
	for {
		select {
		case <-g.srv.Done():
			return
		case <-t.C:
		}
		changes := g.presence.take()
		if g.cluster != nil {
			g.sendPresence(changes)
			continue
		}
		if batch := buildPresence(changes); len(batch) > 0 {
			_ = g.dispatch(&job{run: func(sh *shard) int { return sh.deliverPresence(batch) }})
		}
	}
}

// sendPresence hands an interval's events to the broker, which brings
// them back to every node, this one included, as it does publishes.
func (g *Gateway) sendPresence(changes map[string]map[string]int) {
	for topic, users := range changes {
		for user, d := range users {
			if kind := presenceKind(d); kind != "" {
				g.cluster.event(g, kind, topic, user)
			}
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

// buildPresence turns net changes into events: a join for a user who
// came, a leave for one who went.
func buildPresence(changes map[string]map[string]int) []topicEvents {
	var out []topicEvents
	for topic, users := range changes {
		var te topicEvents
		for user, d := range users {
			kind := presenceKind(d)
			if kind == "" {
				continue
			}
			b, err := json.Marshal(&reply{Type: kind, Topic: topic, User: user})
			if err != nil {
				continue
			}
			te.frames = append(te.frames, server.Prepare(ws.OpText, b))
		}
		if len(te.frames) > 0 {
			te.topic = topic
			out = append(out, te)
		}
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
