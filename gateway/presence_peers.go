package gateway

import "time"

// presencePartBytes bounds one presence announcement's ops (roughly, in
// JSON bytes): far below the broker's payload limit (1 MiB by default),
// so a node with many users sends its snapshot in parts.
const presencePartBytes = 64 << 10

// splitOps cuts ops into parts of about presencePartBytes; none for no
// ops.
func splitOps(ops []presenceOp) [][]presenceOp {
	var parts [][]presenceOp
	start, size := 0, 0
	for i, op := range ops {
		n := len(op.Topic) + len(op.User) + 24 // the JSON around them
		if size+n > presencePartBytes && i > start {
			parts = append(parts, ops[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(ops) {
		parts = append(parts, ops[start:])
	}
	return parts
}

// peerOf returns node's holdings, starting an unknown node with none and
// not synced. mu held.
func (p *presenceState) peerOf(node string, now time.Time) *peer {
	n := p.nodes[node]
	if n == nil {
		n = &peer{users: map[string]map[string]struct{}{}, seen: now, quiet: !p.linked || now.Before(p.quietUntil)}
		p.nodes[node] = n
	}
	n.seen = now
	return n
}

// shouldAsk reports whether to ask n for a snapshot now: not more often
// than every retry, so a node that lost many changes asks once. mu held.
func (p *presenceState) shouldAsk(n *peer, now time.Time, retry time.Duration) bool {
	if !n.asked.IsZero() && now.Sub(n.asked) < retry {
		return false
	}
	n.asked = now
	p.resyncs++
	return true
}

// applyDelta applies node's change number seq. It reports whether node
// must be asked for a snapshot: its holdings are not known yet, or a
// change was missed (then what is known stays until the snapshot
// replaces it). Called by the broker's announcement goroutine.
func (p *presenceState) applyDelta(node string, seq uint64, ops []presenceOp, now time.Time, retry time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.peerOf(node, now)
	if !n.synced || seq != n.seq+1 {
		n.synced = false
		return p.shouldAsk(n, now, retry)
	}
	for _, op := range ops {
		p.hold(n, op.Topic, op.User, op.On)
	}
	n.seq = seq
	return false
}

// beat notes node's heartbeat, which carries the number of its last
// change: one this node has not applied means it missed some. It reports
// whether node must be asked for a snapshot.
func (p *presenceState) beat(node string, seq uint64, now time.Time, retry time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.peerOf(node, now)
	if n.synced && seq == n.seq {
		return false
	}
	n.synced = false
	return p.shouldAsk(n, now, retry)
}

// applySnap takes one part of node's snapshot: everything it holds as of
// its change seq. The last part replaces what was known of node, and the
// difference makes events, except for the first snapshot of a node first
// heard while this node was starting (peer.quiet): those users were there
// before this node's subscribers were. A part out of order drops the
// snapshot; it reports whether to ask again.
func (p *presenceState) applySnap(node string, seq uint64, part int, last bool, ops []presenceOp, now time.Time, retry time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.peerOf(node, now)
	switch {
	case part == 0:
		n.stage, n.stagePart = map[string]map[string]struct{}{}, 0
	case n.stage == nil || part != n.stagePart+1:
		n.stage = nil
		return p.shouldAsk(n, now, retry)
	}
	n.stagePart = part
	for _, op := range ops {
		users := n.stage[op.Topic]
		if users == nil {
			users = map[string]struct{}{}
			n.stage[op.Topic] = users
		}
		users[op.User] = struct{}{}
	}
	if !last {
		return false
	}
	quiet := !n.known && n.quiet
	var gone []presenceOp
	for topic, users := range n.users {
		for user := range users {
			if _, ok := n.stage[topic][user]; !ok {
				gone = append(gone, presenceOp{Topic: topic, User: user})
			}
		}
	}
	for _, op := range gone {
		p.holdQuiet(n, op.Topic, op.User, false, quiet)
	}
	for topic, users := range n.stage {
		for user := range users {
			p.holdQuiet(n, topic, user, true, quiet)
		}
	}
	n.stage, n.seq, n.synced, n.known = nil, seq, true, true
	return false
}

// wantSnap notes a request for node's snapshot ("" asks every node): this
// node sends its own at the end of the interval.
func (p *presenceState) wantSnap(node string) {
	p.mu.Lock()
	if node == "" || node == p.self {
		p.snapWanted = true
	}
	p.mu.Unlock()
}

// takeSnapshot returns this node's holdings in parts, and the number of
// its last change they include, when some node asked for them. There is
// always at least one part, empty for a node that holds nothing. Called by
// the presence goroutine only, after takeLocal.
func (p *presenceState) takeSnapshot() ([][]presenceOp, uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.snapWanted {
		return nil, 0, false
	}
	p.snapWanted = false
	var ops []presenceOp
	for topic, users := range p.nodes[p.self].users {
		for user := range users {
			ops = append(ops, presenceOp{Topic: topic, User: user, On: true})
		}
	}
	parts := splitOps(ops)
	if len(parts) == 0 {
		parts = [][]presenceOp{nil}
	}
	return parts, p.seq, true
}

// lastSeq is the number of this node's last announced change.
func (p *presenceState) lastSeq() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq
}

// expire removes the nodes not heard from for timeout, with everything
// they held (leave events follow), and returns their ids: a node that
// died without a word leaves no ghosts.
func (p *presenceState) expire(now time.Time, timeout time.Duration) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for id, n := range p.nodes {
		if id == p.self || now.Sub(n.seen) <= timeout {
			continue
		}
		for topic, users := range n.users {
			for user := range users {
				p.hold(n, topic, user, false)
			}
		}
		delete(p.nodes, id)
		p.expired++
		out = append(out, id)
	}
	return out
}

// touchAll marks every node heard from now: while this node's own broker
// link is down it hears nobody, which says nothing about them, so their
// silence counts only from the reconnect. It also keeps the start's quiet
// window open until the link first comes up, for quiet.
func (p *presenceState) touchAll(now time.Time, quiet time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.nodes {
		n.seen = now
	}
	if !p.linked {
		p.quietUntil = now.Add(quiet)
	}
}

// link notes that the broker link is up; the first time, it opens the
// start's quiet window, makes the node send its own snapshot at the end
// of the interval, and reports true, so the node asks every other for
// theirs.
func (p *presenceState) link(now time.Time, quiet time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.linked {
		return false
	}
	p.linked = true
	p.quietUntil = now.Add(quiet)
	p.snapWanted = true
	return true
}

// presenceCounters are the presence state's counters for LinkStats.
func (p *presenceState) counters() (nodes int, expired, resyncs uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.nodes), p.expired, p.resyncs
}
