package wheel

import (
	"slices"
	"testing"
)

// item is a test element: its links sit among other fields, as in the
// server's and the loadgen's Conns.
type item struct {
	id         int
	prev, next *item
	due        int64
	slot       uint16
}

type itemLinks struct{}

func (itemLinks) Links(e *item) (prev, next **item, slot *uint16) {
	return &e.prev, &e.next, &e.slot
}

type testWheel = Wheel[item, itemLinks]

// fired is one call of the fire callback.
type fired struct {
	id  int
	now int64
}

// op is one step of a scripted case.
type op struct {
	add     int   // add item add-1 (when > 0) at due
	due     int64 // for add
	remove  int   // remove item remove-1 (when > 0)
	advance int64 // advance to this time (when > 0)
}

func newItems(n int) []*item {
	items := make([]*item, n)
	for i := range items {
		items[i] = &item{id: i, slot: NoSlot}
	}
	return items
}

// run plays ops on a fresh wheel of 8 slots of width 10 and returns the
// fires. The fire callback re-adds an item whose due time is still ahead
// (the wheel parks far deadlines at the end of its span).
func run(t *testing.T, items []*item, ops []op) []fired {
	t.Helper()
	var w testWheel
	w.Init(8, 10, 0)
	var got []fired
	for _, o := range ops {
		switch {
		case o.add > 0:
			it := items[o.add-1]
			it.due = o.due
			w.Add(it, o.due)
		case o.remove > 0:
			w.Remove(items[o.remove-1])
		default:
			now := o.advance
			w.Advance(now, func(it *item) {
				if it.slot != NoSlot || it.prev != nil || it.next != nil {
					t.Fatalf("item %d handed to fire still linked", it.id)
				}
				if it.due > now {
					w.Add(it, it.due)
					return
				}
				got = append(got, fired{it.id, now})
			})
		}
	}
	checkLen(t, &w, items)
	return got
}

// checkLen asserts that Len and the items' slots agree with a walk of the
// wheel.
func checkLen(t *testing.T, w *testWheel, items []*item) {
	t.Helper()
	walked := 0
	w.Each(func(*item) { walked++ })
	linked := 0
	for _, it := range items {
		if it.slot != NoSlot {
			linked++
		} else if it.prev != nil || it.next != nil {
			t.Fatalf("item %d out of the wheel has links", it.id)
		}
	}
	if w.Len() != walked || walked != linked {
		t.Fatalf("Len %d, walked %d, linked %d", w.Len(), walked, linked)
	}
}

func TestWheel(t *testing.T) {
	// 8 slots of 10: the span is 70 ahead of the current tick.
	tests := []struct {
		name  string
		items int
		ops   []op
		want  []fired
	}{
		{
			name:  "fires in the first tick at or after due",
			items: 3,
			ops: []op{
				{add: 1, due: 30}, {add: 2, due: 10}, {add: 3, due: 21},
				{advance: 9}, {advance: 10}, {advance: 29}, {advance: 30},
			},
			want: []fired{{1, 10}, {2, 30}, {0, 30}},
		},
		{
			name:  "a due time already passed fires on the next tick",
			items: 1,
			ops:   []op{{advance: 40}, {add: 1, due: -5}, {advance: 49}, {advance: 50}},
			want:  []fired{{0, 50}},
		},
		{
			name:  "removed items never fire",
			items: 3,
			ops: []op{
				{add: 1, due: 10}, {add: 2, due: 10}, {add: 3, due: 10},
				{remove: 2}, {remove: 2}, {advance: 10},
			},
			want: []fired{{2, 10}, {0, 10}},
		},
		{
			name:  "remove head, middle and tail of one slot",
			items: 5,
			ops: []op{
				{add: 1, due: 20}, {add: 2, due: 20}, {add: 3, due: 20}, {add: 4, due: 20}, {add: 5, due: 20},
				{remove: 5}, {remove: 3}, {remove: 1}, {advance: 20},
			},
			want: []fired{{3, 20}, {1, 20}},
		},
		{
			name:  "reschedule moves an item",
			items: 2,
			ops: []op{
				{add: 1, due: 10}, {add: 2, due: 10},
				{remove: 1}, {add: 1, due: 50}, {advance: 40}, {advance: 50},
			},
			want: []fired{{1, 40}, {0, 50}},
		},
		{
			name:  "wrap-around reuses slots turn after turn",
			items: 2,
			ops: []op{
				{add: 1, due: 60}, {advance: 50}, {add: 2, due: 110},
				{advance: 60}, {advance: 100}, {advance: 110},
				{add: 1, due: 170}, {advance: 169}, {advance: 170},
			},
			want: []fired{{0, 60}, {1, 110}, {0, 170}},
		},
		{
			name:  "a far deadline parks at the end of the span and fires on time",
			items: 1,
			ops: []op{
				{add: 1, due: 1000}, {advance: 70}, {advance: 500}, {advance: 999}, {advance: 1000},
			},
			want: []fired{{0, 1000}},
		},
		{
			name:  "a stall longer than a turn visits everything once",
			items: 3,
			ops: []op{
				{add: 1, due: 10}, {add: 2, due: 40}, {add: 3, due: 70}, {advance: 10_000},
			},
			want: []fired{{0, 10_000}, {1, 10_000}, {2, 10_000}},
		},
		{
			name:  "many items in one slot all fire",
			items: 6,
			ops: []op{
				{add: 1, due: 30}, {add: 2, due: 31}, {add: 3, due: 35},
				{add: 4, due: 39}, {add: 5, due: 40}, {add: 6, due: 110},
				{advance: 40},
			},
			// 30 is due in tick 3; 31 to 40 all round up to tick 4, and
			// within a slot the latest added fires first.
			want: []fired{{0, 40}, {4, 40}, {3, 40}, {2, 40}, {1, 40}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, newItems(tc.items), tc.ops)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("fired %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWheelFireMayChangeOthers checks that fire may remove the items still
// waiting in the slot being processed, and add new ones, without losing or
// repeating any.
func TestWheelFireMayChangeOthers(t *testing.T) {
	items := newItems(4)
	var w testWheel
	w.Init(8, 10, 0)
	for _, it := range items[:3] {
		w.Add(it, 10)
	}
	var got []int
	w.Advance(10, func(it *item) {
		got = append(got, it.id)
		if it.id == 2 {
			w.Remove(items[1])  // next in this slot
			w.Add(items[3], 10) // passed: goes to the next tick
			w.Add(it, 10)       // itself again: also the next tick
		}
	})
	if want := []int{2, 0}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	checkLen(t, &w, items)
	if w.Len() != 2 {
		t.Fatalf("Len %d, want 2", w.Len())
	}
	got = got[:0]
	w.Advance(20, func(it *item) { got = append(got, it.id) })
	if want := []int{2, 3}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	checkLen(t, &w, items)
}

func TestWheelInitRefusesBadArguments(t *testing.T) {
	tests := []struct {
		name      string
		slots     int
		tick, now int64
		wantPanic bool
		wantSpan  int64
	}{
		{name: "power of two", slots: 1024, tick: 500, now: 7, wantSpan: 1023 * 500},
		{name: "largest", slots: MaxSlots, tick: 1, wantSpan: MaxSlots - 1},
		{name: "not a power of two", slots: 1000, tick: 1, wantPanic: true},
		{name: "one slot", slots: 1, tick: 1, wantPanic: true},
		{name: "too many slots", slots: 2 * MaxSlots, tick: 1, wantPanic: true},
		{name: "zero tick", slots: 8, tick: 0, wantPanic: true},
		{name: "negative clock", slots: 8, tick: 1, now: -1, wantPanic: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); (r != nil) != tc.wantPanic {
					t.Fatalf("panic %v, want panic %v", r, tc.wantPanic)
				}
			}()
			var w testWheel
			w.Init(tc.slots, tc.tick, tc.now)
			if w.Span() != tc.wantSpan || w.Tick() != tc.tick {
				t.Fatalf("span %d tick %d, want %d and %d", w.Span(), w.Tick(), tc.wantSpan, tc.tick)
			}
		})
	}
}

// badLinks returns prev and next fields that are not adjacent.
type badLinks struct{}

func (badLinks) Links(e *item) (prev, next **item, slot *uint16) {
	return &e.next, &e.prev, &e.slot
}

func TestWheelInitRefusesSplitLinks(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Init accepted prev and next in the wrong order")
		}
	}()
	var w Wheel[item, badLinks]
	w.Init(8, 1, 0)
}

// BenchmarkWheel measures the hot paths on elements shaped like a Conn:
// add and remove, and a sweep that fires and re-adds every element once.
func BenchmarkWheel(b *testing.B) {
	const n = 4096
	b.Run("add-remove", func(b *testing.B) {
		var w testWheel
		w.Init(1024, 500, 0)
		items := newItems(n)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			it := items[i%n]
			w.Add(it, int64(i%900)*500)
			if i%2 == 1 {
				w.Remove(items[(i-1)%n])
				w.Remove(it)
			}
		}
	})
	b.Run("advance", func(b *testing.B) {
		var w testWheel
		w.Init(1024, 500, 0)
		for i, it := range newItems(n) {
			w.Add(it, int64(i%64+1)*500)
		}
		now := int64(0)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N / n {
			now += 64 * 500
			w.Advance(now, func(it *item) { w.Add(it, now+64*500) })
		}
	})
}
