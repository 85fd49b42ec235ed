package gateway

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/broker"
)

// presenceAnnounce is the broker announcement kind (broker.Client.Announce)
// of presence: every node with presence events on sends its own changes
// on it and keeps everybody's (presenceState).
const presenceAnnounce = "presence"

// Kinds of presence announcements.
const (
	// wireDelta: the sender's changes, numbered (Seq) one after another.
	wireDelta = "delta"
	// wireSnap: one part (Part, from 0; Last on the last) of everything the
	// sender holds, as of its change Seq.
	wireSnap = "snap"
	// wireBeat: the sender is alive; Seq is its last change.
	wireBeat = "beat"
	// wireSync: asks node Want ("" every node) for its snapshot.
	wireSync = "sync"
)

// maxPresenceUser bounds a user id in a presence announcement: a token's
// sub is short, and a stray announcement must not make a node keep
// megabytes per entry.
const maxPresenceUser = 1024

// presenceWire is one presence announcement.
type presenceWire struct {
	Kind string       `json:"k"`
	Seq  uint64       `json:"s,omitempty"`
	Part int          `json:"p,omitempty"`
	Last bool         `json:"l,omitempty"`
	Want string       `json:"w,omitempty"`
	Ops  []presenceOp `json:"o,omitempty"`
}

// announce sends one presence announcement; a failure (the broker away
// and its buffer full) is made good later: the others notice the gap at
// the next heartbeat and ask for a snapshot.
func (cl *clusterLink) announce(w presenceWire) {
	b, err := json.Marshal(&w)
	if err != nil {
		return
	}
	if err := cl.c.Announce(presenceAnnounce, b); err != nil {
		cl.presenceUnsent.Add(1)
	}
}

// sendPresenceChanges announces this node's changes of the interval and,
// when asked, its snapshot, in that order: the snapshot is as of the last
// change announced before it. Presence goroutine only.
func (g *Gateway) sendPresenceChanges(parts [][]presenceOp, first uint64) {
	cl := g.cluster
	for i, ops := range parts {
		cl.announce(presenceWire{Kind: wireDelta, Seq: first + uint64(i), Ops: ops})
	}
	snap, seq, ok := g.presence.takeSnapshot()
	if !ok {
		return
	}
	for i, ops := range snap {
		cl.announce(presenceWire{Kind: wireSnap, Seq: seq, Part: i, Last: i == len(snap)-1, Ops: ops})
	}
}

// beatPresence runs every PresenceHeartbeat on a cluster node: it tells
// the others this node is alive and how far its changes go, and removes
// the nodes that have been silent past PresenceTimeout. While the
// broker link is down nobody is heard, so nobody is removed. Presence
// goroutine only.
func (g *Gateway) beatPresence(now time.Time) {
	cl, ps := g.cluster, g.presence
	// Every live node is heard within PresenceTimeout (or taken for
	// dead): the nodes first heard that soon after this one came up
	// were there before it, and so were their users.
	quiet := cl.cfg.PresenceTimeout
	if cl.c.State() != broker.StateConnected {
		ps.touchAll(now, quiet)
		return
	}
	if ps.link(now, quiet) {
		cl.announce(presenceWire{Kind: wireSync}) // a starting node learns who is there
	}
	cl.announce(presenceWire{Kind: wireBeat, Seq: ps.lastSeq()})
	for _, id := range ps.expire(now, cl.cfg.PresenceTimeout) {
		cl.log.Warn("cluster node silent: its users leave", zap.String("node", id), zap.Duration("timeout", cl.cfg.PresenceTimeout))
	}
}

// onPresence takes another node's presence announcement. It runs on the
// broker's announcement goroutine. Announcements that a gateway would not
// send (bad JSON, an unknown kind, a bad topic or user) are counted in
// rejected and dropped whole.
func (g *Gateway) onPresence(m broker.Message) {
	cl, ps := g.cluster, g.presence
	if m.Local {
		return
	}
	var w presenceWire
	if m.Origin == "" || json.Unmarshal(m.Payload, &w) != nil || !g.validOps(w.Ops) {
		cl.rejected.Add(1)
		return
	}
	now, retry := time.Now(), 2*cl.cfg.PresenceHeartbeat
	var ask bool
	switch w.Kind {
	case wireDelta:
		ask = ps.applyDelta(m.Origin, w.Seq, w.Ops, now, retry)
	case wireSnap:
		ask = ps.applySnap(m.Origin, w.Seq, w.Part, w.Last, w.Ops, now, retry)
	case wireBeat:
		ask = ps.beat(m.Origin, w.Seq, now, retry)
	case wireSync:
		ps.wantSnap(w.Want)
	default:
		cl.rejected.Add(1)
	}
	if ask {
		cl.announce(presenceWire{Kind: wireSync, Want: m.Origin})
	}
}

// validOps reports whether every op names a valid topic and a user a
// token could carry.
func (g *Gateway) validOps(ops []presenceOp) bool {
	for _, op := range ops {
		if checkTopic(op.Topic, g.cfg.MaxTopicLen) != nil || op.User == "" || len(op.User) > maxPresenceUser || !utf8.ValidString(op.User) {
			return false
		}
	}
	return true
}
