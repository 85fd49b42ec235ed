package gateway

import (
	"errors"
	"maps"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/server"
)

// shard is the gateway's state for one event loop: the loop's
// subscriptions and the gateway state of the loop's connections. All its
// maps are touched only by that loop's goroutine (in Handler callbacks and
// functions posted to the loop), so publishing takes no lock: a publish
// reaches each loop through server.Loop.Post and the loop walks its own
// subscribers. Only the counters are shared.
type shard struct {
	g   *Gateway
	l   *server.Loop
	idx int // position in Gateway.shards: l.Index()

	topics     map[string]*topicSubs // topics with subscribers on this loop
	topicsPeak int
	conns      map[*server.Conn]*session // connections with gateway state
	connsPeak  int
	// bucketOnly are the sessions kept only for a rate bucket that has
	// not refilled yet (see sweepBuckets).
	bucketOnly map[*server.Conn]struct{}

	polls     map[*server.Conn]int64 // held long polls: deadline, unix ms
	pollCount atomic.Int64           // len(polls), for the sweeper
	scratch   []byte                 // SSE events and poll answers being written
	body      []byte                 // a poll answer's body

	cur *job     // the job running on the loop now, if any (see deliverSliced)
	fan fanQueue // deliveries written in steps

	stats shardStats
}

// shardStats are one loop's hub counters, kept by the gateway itself
// (the server counts only what it does); only that loop writes them
// (busy aside), and Gateway.Stats sums them.
type shardStats struct {
	subscriptions   atomic.Int64
	delivered       atomic.Uint64
	dropped         atomic.Uint64
	slowClosed      atomic.Uint64
	clientErrors    atomic.Uint64
	busy            atomic.Uint64
	rateLimited     atomic.Uint64
	presenceSkipped atomic.Uint64
	_               [64]byte
}

// topicSubs is one topic's subscribers on one loop.
type topicSubs struct {
	name  string
	subs  map[*server.Conn]*catchup // nil: live, nothing to recover
	peak  int
	users map[string]uint32 // authenticated subscribers by user id; nil until one subscribes
	upeak int
}

// session is the gateway state of one connection. A connection has one
// only while there is something to keep: a verified token, subscriptions
// or recent errors. An anonymous connection that subscribes to nothing
// costs the gateway nothing.
type session struct {
	grant    *grant
	topics   []*topicSubs // bounded by MaxTopicsPerConn; scanned linearly
	strikes  uint8        // error replies since struckAt
	struckAt uint32       // unix seconds of the first error of the window
	tokens   float32      // the message rate bucket (see allow)
	lastMs   int64        // when tokens was last filled; 0: never
	stream   *streamState // an SSE or long-poll connection; nil for WebSocket
}

// clientErrorWindow is the window over which a connection's error replies
// are counted against MaxClientErrors.
const clientErrorWindow = time.Minute

// strikesLapsed reports whether the error window has passed.
func (s *session) strikesLapsed(now time.Time) bool {
	return now.Unix()-int64(s.struckAt) >= int64(clientErrorWindow/time.Second)
}

// shrinkFloor is the high-water mark from which an emptied map is
// rebuilt. Go maps never give back their buckets, so a loop that once
// held a million subscriptions would keep their memory forever; rebuilding
// once a map falls to an eighth of its peak costs amortized O(1) per
// delete.
const shrinkFloor = 64

// shrink returns m, or a right-sized copy when it has fallen far below
// its peak (which it then resets).
func shrink[K comparable, V any](m map[K]V, peak *int) map[K]V {
	if n := len(m); *peak >= shrinkFloor && n <= *peak/8 {
		m = maps.Clone(m)
		if m == nil {
			m = make(map[K]V)
		}
		*peak = n
	}
	return m
}

func newShard(g *Gateway, l *server.Loop) *shard {
	sh := &shard{g: g, l: l, idx: l.Index(), topics: make(map[string]*topicSubs), conns: make(map[*server.Conn]*session),
		bucketOnly: make(map[*server.Conn]struct{}), polls: make(map[*server.Conn]int64)}
	sh.fan.step = sh.fanStep
	return sh
}

// session returns c's session, creating it when create is set.
func (sh *shard) session(c *server.Conn, create bool) *session {
	s := sh.conns[c]
	if s == nil && create {
		s = &session{}
		sh.conns[c] = s
		sh.connsPeak = max(sh.connsPeak, len(sh.conns))
	}
	return s
}

// release drops c's session when it no longer holds anything.
func (sh *shard) release(c *server.Conn, s *session) {
	if s.grant != nil || len(s.topics) > 0 || s.strikes > 0 || s.stream != nil {
		return
	}
	if !sh.g.bucketFull(s, time.Now().UnixMilli()) {
		sh.bucketOnly[c] = struct{}{} // for sweepBuckets
		return
	}
	delete(sh.conns, c)
	sh.conns = shrink(sh.conns, &sh.connsPeak)
}

// isSubscribed reports whether c is subscribed to topic, in O(1).
func (sh *shard) isSubscribed(c *server.Conn, topic string) bool {
	ts := sh.topics[topic]
	if ts == nil {
		return false
	}
	_, ok := ts.subs[c]
	return ok
}

// index returns the position of ts in s's subscriptions, or -1. The
// comparison is of pointers, so even a full list scans fast.
func (s *session) index(ts *topicSubs) int {
	for i, t := range s.topics {
		if t == ts {
			return i
		}
	}
	return -1
}

// unsubscribeTopic removes c from topic if it is subscribed.
func (sh *shard) unsubscribeTopic(c *server.Conn, s *session, topic string) {
	ts := sh.topics[topic]
	if ts == nil {
		return
	}
	if _, ok := ts.subs[c]; !ok {
		return
	}
	if i := s.index(ts); i >= 0 {
		sh.unsubscribe(c, s, i)
	}
}

// subscribe adds c to topic; it is a no-op when c is already subscribed.
func (sh *shard) subscribe(c *server.Conn, s *session, topic string) {
	ts := sh.topics[topic]
	if ts != nil {
		if _, ok := ts.subs[c]; ok {
			return
		}
	} else {
		ts = &topicSubs{name: topic, subs: make(map[*server.Conn]*catchup, 1)}
		sh.topics[topic] = ts
		sh.topicsPeak = max(sh.topicsPeak, len(sh.topics))
		sh.g.reg.add(topic) // on a cluster node, the first queues the broker interest
	}
	ts.subs[c] = nil
	ts.peak = max(ts.peak, len(ts.subs))
	user := s.user()
	if user != "" {
		if ts.users == nil {
			ts.users = make(map[string]uint32, 1)
		}
		ts.users[user]++
		ts.upeak = max(ts.upeak, len(ts.users))
	}
	s.topics = append(s.topics, ts)
	sh.stats.subscriptions.Add(1)
	if sh.g.cfg.PresenceEvents {
		sh.g.presence.noteLocal(topic, user, 1)
	}
}

// unsubscribe removes c's i-th subscription. The topic's entry goes when
// its last subscriber on this loop does.
func (sh *shard) unsubscribe(c *server.Conn, s *session, i int) {
	ts := s.topics[i]
	last := len(s.topics) - 1
	s.topics[i] = s.topics[last]
	s.topics[last] = nil
	s.topics = s.topics[:last]
	if last == 0 {
		s.topics = nil
	}
	delete(ts.subs, c)
	user := s.user()
	if user != "" && ts.users != nil {
		if ts.users[user] <= 1 {
			delete(ts.users, user)
			ts.users = shrink(ts.users, &ts.upeak)
		} else {
			ts.users[user]--
		}
	}
	if len(ts.subs) == 0 {
		delete(sh.topics, ts.name)
		sh.topics = shrink(sh.topics, &sh.topicsPeak)
		sh.g.reg.remove(ts.name)
	} else {
		ts.subs = shrink(ts.subs, &ts.peak)
	}
	sh.stats.subscriptions.Add(-1)
	if sh.g.cfg.PresenceEvents {
		sh.g.presence.noteLocal(ts.name, user, -1)
	}
}

// drop removes every trace of c: its subscriptions and its session.
func (sh *shard) drop(c *server.Conn) {
	s := sh.conns[c]
	if s == nil {
		return
	}
	for len(s.topics) > 0 {
		sh.unsubscribe(c, s, len(s.topics)-1)
	}
	delete(sh.bucketOnly, c)
	delete(sh.conns, c)
	sh.conns = shrink(sh.conns, &sh.connsPeak)
}

func (s *session) user() string {
	if s.grant == nil {
		return ""
	}
	return s.grant.user
}

// deliver writes a prepared frame to every subscriber of topic on this
// loop and returns how many took it. More subscribers than one step
// writes, or a sliced delivery still in progress, make it a sliced
// delivery (fanout.go): it returns 0 and the current job's share counts
// the rest when its last step has run.
func (sh *shard) deliver(topic string, fr *server.PreparedFrame) int {
	ts := sh.topics[topic]
	if ts == nil {
		return 0
	}
	if sh.sliced(ts, fr) {
		sh.deliverSliced(ts, nil, fr)
		return 0
	}
	n := 0
	// A failed write may close a subscriber at once, and its OnClose
	// deletes from (or replaces) ts.subs while this loop ranges over it:
	// Go allows deletion during range, and a closed connection refuses
	// the send.
	for c := range ts.subs {
		if sh.push(c, fr) {
			n++
		}
	}
	sh.stats.delivered.Add(uint64(n))
	return n
}

// deliverMessage writes m to every subscriber of its topic on this loop,
// through each one's transport (WebSocket, SSE, long poll), and returns
// how many took it. Subscribers still recovering get it through admit.
// Like deliver, it may go in steps (fanout.go) and then returns 0.
func (sh *shard) deliverMessage(m *message) int {
	ts := sh.topics[m.topic]
	if ts == nil {
		return 0
	}
	if sh.sliced(ts, m.frame) {
		sh.deliverSliced(ts, m, nil)
		return 0
	}
	n := 0
	for c, cs := range ts.subs { // see deliver on closing during range
		if cs != nil && !sh.admit(c, ts, cs, m) {
			continue
		}
		if sh.send(c, m) {
			n++
		}
	}
	sh.stats.delivered.Add(uint64(n))
	return n
}

// send writes one message to c on its transport.
func (sh *shard) send(c *server.Conn, m *message) bool {
	if c.Streaming() {
		return sh.sendStream(c, m)
	}
	return sh.push(c, m.frame)
}

// push writes one prepared frame to c under the server's MaxOutbound
// bound, with the gateway's slow policy, and counts what that policy did.
func (sh *shard) push(c *server.Conn, fr *server.PreparedFrame) bool {
	policy := server.SlowClose
	if sh.g.cfg.SlowPolicy == SlowDrop {
		policy = server.SlowDrop
	}
	err := c.SendPrepared(fr, policy)
	switch {
	case err == nil:
		return true
	case errors.Is(err, server.ErrDropped):
		sh.stats.dropped.Add(1)
	case errors.Is(err, server.ErrSlowConsumer):
		sh.stats.slowClosed.Add(1)
	}
	return false
}

// sendText sends payload to c as one text message, under the same
// policy as published messages.
func (sh *shard) sendText(c *server.Conn, payload []byte) {
	sh.push(c, server.Prepare(ws.OpText, payload))
}
