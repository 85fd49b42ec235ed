package gateway

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// events formats what takeEvents returns, sorted, for comparison.
func events(p *presenceState) string {
	var out []string
	for _, e := range p.takeEvents() {
		out = append(out, e.kind+" "+e.topic+" "+e.user)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// linkedState is node "self" with its broker link up since long ago, so
// no node it hears of is quiet.
func linkedState(t *testing.T) (*presenceState, time.Time) {
	t.Helper()
	now := time.Unix(1000, 0)
	p := newPresenceState("self", now)
	p.link(now.Add(-time.Hour), time.Second)
	p.takeSnapshot() // the one link asks for
	return p, now
}

// TestPresenceStateSteps drives the presence state through sequences of
// local and remote changes and checks the events due after each
// interval: one join per user's first holder anywhere, one leave for its
// last, none for what cancels out within an interval, and a leave held
// one interval for a join that cancels it.
func TestPresenceStateSteps(t *testing.T) {
	const retry = time.Second
	type step struct {
		do   func(p *presenceState, now time.Time)
		want string // events after the step's interval
	}
	local := func(user string, d int) func(*presenceState, time.Time) {
		return func(p *presenceState, _ time.Time) { p.noteLocal("room", user, d); p.takeLocal() }
	}
	delta := func(node string, seq uint64, user string, on bool) func(*presenceState, time.Time) {
		return func(p *presenceState, now time.Time) {
			p.applyDelta(node, seq, []presenceOp{{Topic: "room", User: user, On: on}}, now, retry)
		}
	}
	snap := func(node string, seq uint64, users ...string) func(*presenceState, time.Time) {
		return func(p *presenceState, now time.Time) {
			var ops []presenceOp
			for _, u := range users {
				ops = append(ops, presenceOp{Topic: "room", User: u, On: true})
			}
			p.applySnap(node, seq, 0, true, ops, now, retry)
		}
	}
	nothing := func(*presenceState, time.Time) {}
	cases := []struct {
		name  string
		steps []step
	}{
		{"two local connections: one join, one leave", []step{
			{local("ann", 1), "join room ann"},
			{local("ann", 1), ""},
			{local("ann", -1), ""},
			{local("ann", -1), ""}, // the leave waits an interval
			{nothing, "leave room ann"},
		}},
		{"came and went within an interval", []step{
			{func(p *presenceState, n time.Time) { local("ann", 1)(p, n); local("ann", -1)(p, n) }, ""},
			{nothing, ""},
		}},
		{"left and came back within the grace", []step{
			{local("ann", 1), "join room ann"},
			{local("ann", -1), ""},
			{local("ann", 1), ""},
			{nothing, ""},
		}},
		{"user on two nodes: one join, one leave", []step{
			{snap("b", 0), ""},
			{local("ann", 1), "join room ann"},
			{delta("b", 1, "ann", true), ""},
			{local("ann", -1), ""},
			{delta("b", 2, "ann", false), ""},
			{nothing, "leave room ann"},
		}},
		{"moving between nodes, leave heard first", []step{
			{snap("b", 0), ""},
			{snap("c", 0), ""},
			{delta("b", 1, "ann", true), "join room ann"},
			{delta("b", 2, "ann", false), ""}, // c's join is late
			{delta("c", 1, "ann", true), ""},
			{nothing, ""},
		}},
		{"a node's snapshot replaces what was known", []step{
			{snap("b", 4, "ann", "bob"), "join room ann, join room bob"},
			{snap("b", 9, "bob", "carol"), "join room carol"},
			{nothing, "leave room ann"},
		}},
		{"changes of an unknown node wait for its snapshot", []step{
			{delta("b", 7, "ann", true), ""},
			{snap("b", 7, "ann"), "join room ann"},
			{delta("b", 8, "ann", false), ""},
			{nothing, "leave room ann"},
		}},
		{"a missed change is not applied over", []step{
			{snap("b", 1, "ann"), "join room ann"},
			{delta("b", 3, "bob", true), ""}, // 2 is missing
			{delta("b", 4, "ann", false), ""},
			{nothing, ""},
			{snap("b", 4, "bob"), "join room bob"},
			{nothing, "leave room ann"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, now := linkedState(t)
			for i, s := range tc.steps {
				s.do(p, now)
				if got := events(p); got != s.want {
					t.Fatalf("step %d: events %q, want %q", i, got, s.want)
				}
			}
		})
	}
}

// TestPresenceStateSync checks when a node asks another for its
// snapshot: for an unknown node, after a gap in its changes or a
// heartbeat ahead of them, and not more often than the retry; and that a
// part out of order drops the snapshot.
func TestPresenceStateSync(t *testing.T) {
	const retry = time.Second
	p, now := linkedState(t)
	if !p.beat("b", 0, now, retry) {
		t.Fatal("an unknown node's heartbeat did not ask for its snapshot")
	}
	if p.applyDelta("b", 1, nil, now, retry) {
		t.Fatal("asked twice within the retry")
	}
	if !p.applyDelta("b", 1, nil, now.Add(retry), retry) {
		t.Fatal("did not ask again after the retry")
	}
	p.applySnap("b", 5, 0, false, []presenceOp{{Topic: "room", User: "ann"}}, now, retry)
	if p.holding("room", "ann") != 0 {
		t.Fatal("a snapshot counted before its last part")
	}
	if !p.applySnap("b", 5, 2, true, nil, now.Add(2*retry), retry) {
		t.Fatal("a part out of order did not ask again")
	}
	p.applySnap("b", 5, 0, false, []presenceOp{{Topic: "room", User: "ann"}}, now, retry)
	p.applySnap("b", 5, 1, true, []presenceOp{{Topic: "room", User: "bob"}}, now, retry)
	if p.holding("room", "ann") != 1 || p.holding("room", "bob") != 1 {
		t.Fatal("a snapshot in two parts was not taken whole")
	}
	if p.beat("b", 5, now, retry) || p.applyDelta("b", 6, nil, now, retry) {
		t.Fatal("asked for a snapshot with nothing missed")
	}
	if !p.beat("b", 7, now.Add(4*retry), retry) {
		t.Fatal("a heartbeat ahead of the changes did not ask")
	}
	p.wantSnap("other")
	if _, _, ok := p.takeSnapshot(); ok {
		t.Fatal("sent a snapshot asked of another node")
	}
	p.noteLocal("room", "me", 1)
	parts, first := p.takeLocal()
	p.wantSnap("self")
	snap, seq, ok := p.takeSnapshot()
	if !ok || len(parts) != 1 || first != 1 || seq != 1 || len(snap) != 1 || snap[0][0].User != "me" {
		t.Fatalf("own changes %v from %d, snapshot %v at %d", parts, first, snap, seq)
	}
}

// TestPresenceStateExpire removes a silent node with its users (a leave
// for those no other node holds) and keeps everyone while the link is
// down.
func TestPresenceStateExpire(t *testing.T) {
	const retry, timeout = time.Second, 5 * time.Second
	p, now := linkedState(t)
	p.applySnap("b", 1, 0, true, []presenceOp{{Topic: "room", User: "ann"}, {Topic: "room", User: "bob"}}, now, retry)
	p.applySnap("c", 1, 0, true, []presenceOp{{Topic: "room", User: "bob"}}, now, retry)
	events(p)
	p.touchAll(now.Add(timeout), timeout) // the link was down: nobody is silent
	if gone := p.expire(now.Add(timeout+time.Second), timeout); len(gone) != 0 {
		t.Fatalf("expired %v while the link was down", gone)
	}
	p.beat("c", 1, now.Add(2*timeout), retry)
	if gone := p.expire(now.Add(2*timeout+time.Second), timeout); fmt.Sprint(gone) != "[b]" {
		t.Fatalf("expired %v, want [b]", gone)
	}
	events(p) // the grace interval
	if got := events(p); got != "leave room ann" {
		t.Fatalf("events %q, want ann's leave only (bob is on c)", got)
	}
	if nodes, expired, _ := p.counters(); nodes != 2 || expired != 1 {
		t.Fatalf("%d nodes, %d expired", nodes, expired)
	}
}

// TestPresenceStateQuietStart takes the first snapshot of a node heard
// while this node starts without events (those users were there first),
// and tells of later changes.
func TestPresenceStateQuietStart(t *testing.T) {
	const retry = time.Second
	now := time.Unix(1000, 0)
	p := newPresenceState("self", now)
	p.link(now, 10*time.Second)
	p.applySnap("b", 3, 0, true, []presenceOp{{Topic: "room", User: "ann"}}, now.Add(time.Second), retry)
	if got := events(p); got != "" || p.holding("room", "ann") != 1 {
		t.Fatalf("events %q, holding %d: want ann known, quietly", got, p.holding("room", "ann"))
	}
	p.applyDelta("b", 4, []presenceOp{{Topic: "room", User: "bob", On: true}}, now.Add(time.Second), retry)
	if got := events(p); got != "join room bob" {
		t.Fatalf("events %q, want bob's join", got)
	}
	p.applySnap("late", 1, 0, true, []presenceOp{{Topic: "room", User: "carol"}}, now.Add(time.Minute), retry)
	if got := events(p); got != "join room carol" {
		t.Fatalf("a node first heard after the start: events %q, want carol's join", got)
	}
}

// TestSplitOps cuts long lists into parts under presencePartBytes.
func TestSplitOps(t *testing.T) {
	for _, n := range []int{0, 1, 5000} {
		ops := make([]presenceOp, n)
		for i := range ops {
			ops[i] = presenceOp{Topic: "topic", User: fmt.Sprintf("user-%05d", i)}
		}
		parts := splitOps(ops)
		total := 0
		for _, part := range parts {
			size := 0
			for _, op := range part {
				size += len(op.Topic) + len(op.User) + 24
			}
			if size > presencePartBytes || len(part) == 0 {
				t.Fatalf("%d ops: a part of %d ops, %d bytes", n, len(part), size)
			}
			total += len(part)
		}
		if total != n || (n == 5000 && len(parts) < 2) {
			t.Fatalf("%d ops in %d parts, total %d", n, len(parts), total)
		}
	}
}
