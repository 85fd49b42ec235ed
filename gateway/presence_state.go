package gateway

import (
	"sync"
	"time"
)

// presenceState is what join and leave events are made from
// (Config.PresenceEvents): which users are present on each topic, on this
// node and over the cluster, and what changed since the last events.
//
// A user is present on a topic while at least one of its connections
// anywhere is subscribed to it. Each node counts its own connections per
// topic and user (local) and announces only its own transitions, a user's
// first connection on the node and its last (0 to 1, 1 to 0). Every node
// keeps, for every node it hears from (itself included), the set of
// (topic, user) that node holds, and for each (topic, user) how many
// nodes hold it (holders): an event is due when that count leaves or
// reaches zero, whichever node caused it, so each node sends its own
// subscribers one join when a user's first connection anywhere arrives
// and one leave when its last one goes. A single node is a cluster of
// one.
//
// Events are coalesced per interval (takeEvents): shown keeps, for each
// (topic, user) whose presence changed since the last events, what the
// subscribers were last told, so a user who came and went within an
// interval costs nothing. A leave is held one interval more (grace): a
// user moving from one node to another may be announced gone by the
// first before the second's announcement arrives, and the grace lets the
// join cancel the leave.
//
// Anonymous connections (no user id) are not users: as before, each
// connection's subscription counts, net per interval (anon).
//
// Loops call noteLocal, which takes lmu only; the presence goroutine and
// the broker's announcement goroutine call the rest, under mu (and lmu
// briefly to take the local changes). So a loop never waits for work on
// the cluster's view, which may walk a whole node's users.
type presenceState struct {
	self string // this node's id; "" on a single node

	lmu     sync.Mutex
	local   map[string]map[string]int32 // topic -> user -> this node's connections
	changed map[string]map[string]bool  // topic -> user -> announced presence, for those changed since
	anon    map[string]int              // topic -> anonymous subscriptions gained minus lost this interval

	mu  sync.Mutex
	seq uint64 // this node's last announced change (presenceWire.Seq)

	nodes   map[string]*peer               // every node heard from, this one included
	holders map[string]map[string]int32    // topic -> user -> nodes holding it
	shown   map[string]map[string]*shownAt // topic -> user -> last told, for those changed since

	snapWanted bool      // another node asked for this node's holdings
	linked     bool      // the broker link has been up once
	quietUntil time.Time // nodes first heard before this are quiet (see applySnap)
	expired    uint64    // nodes removed for silence
	resyncs    uint64    // snapshots asked for after a gap
}

// peer is one node's holdings as this node knows them.
type peer struct {
	users  map[string]map[string]struct{} // topic -> users held there
	seq    uint64                         // last change applied
	seen   time.Time                      // last heard from
	synced bool                           // users is known: a snapshot arrived and no change was missed since
	known  bool                           // a snapshot arrived once
	quiet  bool                           // first heard while this node was starting: its first snapshot makes no events
	asked  time.Time                      // when a snapshot was last asked for

	stage     map[string]map[string]struct{} // a snapshot being received
	stagePart int
}

// shownAt is what a topic's subscribers were last told of a user.
type shownAt struct {
	present bool
	grace   bool // a leave waits one interval for a join that cancels it
}

// presenceOp is one change of a node's holdings: user on topic, present
// or not. A snapshot's ops are all present.
type presenceOp struct {
	Topic string `json:"t"`
	User  string `json:"u"`
	On    bool   `json:"on,omitempty"`
}

// presenceEvent is a join or leave due to a topic's subscribers.
type presenceEvent struct {
	kind, topic, user string
}

func newPresenceState(self string, now time.Time) *presenceState {
	p := &presenceState{self: self, local: map[string]map[string]int32{}, changed: map[string]map[string]bool{},
		anon: map[string]int{}, nodes: map[string]*peer{}, holders: map[string]map[string]int32{},
		shown: map[string]map[string]*shownAt{}}
	p.nodes[self] = &peer{users: map[string]map[string]struct{}{}, synced: true, seen: now}
	return p
}

// noteLocal records one of this node's connections joining (+1) or leaving
// (-1) topic. Any goroutine may call it; loops do.
func (p *presenceState) noteLocal(topic, user string, delta int) {
	p.lmu.Lock()
	defer p.lmu.Unlock()
	if user == "" {
		p.anon[topic] += delta
		return
	}
	users := p.local[topic]
	if users == nil {
		users = map[string]int32{}
		p.local[topic] = users
	}
	was := users[user] > 0
	users[user] += int32(delta)
	now := users[user] > 0
	if users[user] <= 0 {
		delete(users, user)
		if len(users) == 0 {
			delete(p.local, topic)
		}
	}
	if was == now {
		return
	}
	ch := p.changed[topic]
	if ch == nil {
		ch = map[string]bool{}
		p.changed[topic] = ch
	}
	if announced, ok := ch[user]; !ok {
		ch[user] = was
	} else if announced == now {
		delete(ch, user) // back to what the others know
		if len(ch) == 0 {
			delete(p.changed, topic)
		}
	}
}

// takeLocal returns this node's changes since the last call in
// announcements of at most presencePartBytes, applies them to its own
// holdings and numbers them: the first is first, the next first+1, and
// so on. Called by the presence goroutine only.
func (p *presenceState) takeLocal() (parts [][]presenceOp, first uint64) {
	var ops []presenceOp
	p.lmu.Lock()
	for topic, users := range p.changed {
		for user := range users {
			ops = append(ops, presenceOp{Topic: topic, User: user, On: p.local[topic][user] > 0})
		}
	}
	clear(p.changed)
	p.lmu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	self := p.nodes[p.self]
	for _, op := range ops {
		p.hold(self, op.Topic, op.User, op.On)
	}
	parts = splitOps(ops)
	first = p.seq + 1
	p.seq += uint64(len(parts))
	return parts, first
}

// takeAnon returns the anonymous subscriptions' net changes of the
// interval. Called by the presence goroutine only.
func (p *presenceState) takeAnon() map[string]int {
	p.lmu.Lock()
	defer p.lmu.Unlock()
	if len(p.anon) == 0 {
		return nil
	}
	m := p.anon
	p.anon = map[string]int{}
	return m
}

// hold records that node n holds (on) or no longer holds user on topic,
// and counts the change in holders, noting a change of cluster-wide
// presence in shown unless quiet. mu held.
func (p *presenceState) hold(n *peer, topic, user string, on bool) {
	p.holdQuiet(n, topic, user, on, false)
}

func (p *presenceState) holdQuiet(n *peer, topic, user string, on, quiet bool) {
	users := n.users[topic]
	_, had := users[user]
	if had == on {
		return
	}
	if on {
		if users == nil {
			users = map[string]struct{}{}
			n.users[topic] = users
		}
		users[user] = struct{}{}
	} else {
		delete(users, user)
		if len(users) == 0 {
			delete(n.users, topic)
		}
	}
	h := p.holders[topic]
	if h == nil {
		h = map[string]int32{}
		p.holders[topic] = h
	}
	before := h[user] > 0
	if on {
		h[user]++
	} else if h[user]--; h[user] <= 0 {
		delete(h, user)
		if len(h) == 0 {
			delete(p.holders, topic)
		}
	}
	if quiet || before == (h[user] > 0) {
		return
	}
	sh := p.shown[topic]
	if sh == nil {
		sh = map[string]*shownAt{}
		p.shown[topic] = sh
	}
	if sh[user] == nil {
		sh[user] = &shownAt{present: before}
	}
}

// takeEvents returns the events due at the end of an interval: for each
// (topic, user) whose cluster-wide presence changed, a join or a leave
// when it differs from what the subscribers were last told; a leave only
// once it has lasted a whole interval. Called by the presence goroutine
// only.
func (p *presenceState) takeEvents() []presenceEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []presenceEvent
	for topic, users := range p.shown {
		for user, s := range users {
			now := p.holders[topic][user] > 0
			switch {
			case now == s.present:
				delete(users, user)
			case now:
				out = append(out, presenceEvent{kind: "join", topic: topic, user: user})
				delete(users, user)
			case s.grace:
				out = append(out, presenceEvent{kind: "leave", topic: topic, user: user})
				delete(users, user)
			default:
				s.grace = true
			}
		}
		if len(users) == 0 {
			delete(p.shown, topic)
		}
	}
	return out
}

// holding reports how many nodes hold user on topic, as this node knows.
func (p *presenceState) holding(topic, user string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(p.holders[topic][user])
}
