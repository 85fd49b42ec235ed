package supervisor

import (
	"slices"
	"testing"
	"time"
)

// pidsOf lists the layout's blocks by pid, in group order.
func pidsOf(l *layout) []int {
	var out []int
	for _, b := range l.blocks {
		out = append(out, b.pid)
	}
	return out
}

// layoutStep is one event of a layout's history, at a time in seconds.
type layoutStep struct {
	at    float64
	join  int // pid that joins (reports ready), or
	exit  int // pid that is reaped
	since float64
	ws    int // listener count of a joiner; 0 means 2
}

func play(steps []layoutStep) *layout {
	l := &layout{}
	t0 := time.Unix(1_000_000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	for _, st := range steps {
		switch {
		case st.join != 0:
			ws := st.ws
			if ws == 0 {
				ws = 2
			}
			l.joinStarted(st.join)
			l.joined(block{pid: st.join, ws: ws, api: 1}, at(st.at))
		case st.exit != 0:
			l.exited(st.exit, at(st.since), at(st.at))
		}
	}
	return l
}

// TestLayoutFollowsTheKernel replays joins and exits and checks the
// order the model predicts: a join appends, an exit takes the last
// block into the hole (TestClosedBlockIsFilledByTheLastOne in
// internal/handover checks the kernel does that).
func TestLayoutFollowsTheKernel(t *testing.T) {
	start := []layoutStep{{at: 0, join: 1}, {at: 1, join: 2}, {at: 2, join: 3}}
	cases := []struct {
		name  string
		steps []layoutStep
		want  []int
		known bool
	}{
		{"workers start one after the other", nil, []int{1, 2, 3}, true},
		{"a middle worker dies", []layoutStep{{at: 10, exit: 2, since: 1}}, []int{1, 3}, true},
		{"the first worker dies", []layoutStep{{at: 10, exit: 1}}, []int{3, 2}, true},
		{"the last worker dies", []layoutStep{{at: 10, exit: 3, since: 2}}, []int{1, 2}, true},
		{"a dead worker restarts at the end", []layoutStep{{at: 10, exit: 1}, {at: 11, join: 4}}, []int{3, 2, 4}, true},
		{"a replacement takes the old block", []layoutStep{{at: 10, join: 4}, {at: 11, exit: 2, since: 10.5}}, []int{1, 4, 3}, true},
		{"every worker replaced in turn", []layoutStep{
			{at: 10, join: 4}, {at: 11, exit: 1, since: 10.5},
			{at: 12, join: 5}, {at: 13, exit: 2, since: 12.5},
			{at: 14, join: 6}, {at: 15, exit: 3, since: 14.5},
		}, []int{4, 5, 6}, true},
		{"a worker that never reported ready changes nothing", []layoutStep{{at: 10, exit: 99, since: 9}}, []int{1, 2, 3}, true},
		{"a crash loop of one worker", []layoutStep{
			{at: 10, exit: 2, since: 1}, {at: 10.2, join: 4}, {at: 10.4, exit: 4, since: 10.1}, {at: 10.6, join: 5},
		}, []int{1, 3, 5}, true},
		{"two workers die together", []layoutStep{{at: 10, exit: 1}, {at: 10.5, exit: 2}}, []int{3}, false},
		{"a worker dies just after another joined", []layoutStep{{at: 10, join: 4}, {at: 10.5, exit: 1}}, []int{4, 2, 3}, false},
		{"the old worker leaves right after its replacement joined, when told", []layoutStep{{at: 10, join: 4}, {at: 10.5, exit: 1, since: 10.2}}, []int{4, 2, 3}, true},
		{"a hole filled by a block of another size", []layoutStep{{at: 10, join: 4, ws: 3}, {at: 20, exit: 1, since: 15}}, []int{4, 2, 3}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := play(append(slices.Clone(start), tc.steps...))
			if got := pidsOf(l); !slices.Equal(got, tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
			if l.known() != tc.known {
				t.Errorf("known = %v (%q), want %v", l.known(), l.unknown, tc.known)
			}
		})
	}
}

func TestLayoutDiesDuringAJoin(t *testing.T) {
	l := play([]layoutStep{{at: 0, join: 1}, {at: 1, join: 2}})
	l.joinStarted(3)
	l.exited(1, time.Unix(1_000_000, 0), time.Unix(1_000_100, 0))
	if l.known() {
		t.Fatal("an exit while another worker joins kept the layout known")
	}
}

func TestLayoutSteering(t *testing.T) {
	l := play([]layoutStep{{at: 0, join: 1}, {at: 1, join: 2}, {at: 2, join: 3}})
	cases := []struct {
		name string
		pid  int
		want Steering
		ok   bool
	}{
		{"first block", 1, Steering{WS: Skip{0, 2, 6}, API: Skip{0, 1, 3}}, true},
		{"middle block", 2, Steering{WS: Skip{2, 2, 6}, API: Skip{1, 1, 3}}, true},
		{"last block", 3, Steering{WS: Skip{4, 2, 6}, API: Skip{2, 1, 3}}, true},
		{"no such worker", 9, Steering{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := l.steering(tc.pid)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("steering(%d) = %+v, %v; want %+v, %v", tc.pid, got, ok, tc.want, tc.ok)
			}
		})
	}
	l.lose("test")
	if _, ok := l.steering(2); ok {
		t.Fatal("a lost layout still steers")
	}
}

func TestSteeringEnvRoundTrip(t *testing.T) {
	for _, s := range []Steering{{}, {WS: Skip{2, 2, 6}, API: Skip{1, 1, 3}}, {WS: Skip{0, 4, 4}}} {
		got, err := ParseSteering(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSteering(%q) = %+v, %v; want %+v", s.String(), got, err, s)
		}
	}
	for _, bad := range []string{"1,1,2", "a,1,2 0,0,0", "0,0,0 0,1,1", "-1,1,2 0,0,0", "2,1,2 0,0,0", "0,1,2 0,1,2 0,1,2", "0,1,2,3 0,0,0"} {
		if _, err := ParseSteering(bad); err == nil {
			t.Errorf("ParseSteering(%q) accepted", bad)
		}
	}
}
