package loadgen

import (
	"testing"
	"time"

	iwheel "github.com/myriadws/myriad/internal/wheel"
)

func TestWheel(t *testing.T) {
	const tick = int64(time.Millisecond)
	type fired struct {
		id  uint64
		now int64
	}
	tests := []struct {
		name    string
		dues    []int64 // per connection id
		remove  []int   // ids removed before advancing
		advance []int64 // successive now values
		want    []fired
	}{
		{
			// Within one slot the most recently added fires first.
			name:    "fires at or after due, in tick order",
			dues:    []int64{3 * tick, 1 * tick, 2*tick + 1},
			advance: []int64{1 * tick, 2 * tick, 3 * tick},
			want:    []fired{{1, 1 * tick}, {2, 3 * tick}, {0, 3 * tick}},
		},
		{
			name:    "removed connections never fire",
			dues:    []int64{tick, tick},
			remove:  []int{0},
			advance: []int64{5 * tick},
			want:    []fired{{1, 5 * tick}},
		},
		{
			name:    "more than a turn ahead waits for its turn",
			dues:    []int64{(wheelSlots + 2) * tick},
			advance: []int64{3 * tick, (wheelSlots + 1) * tick, (wheelSlots + 2) * tick},
			want:    []fired{{0, (wheelSlots + 2) * tick}},
		},
		{
			name:    "a due time already passed fires on the next tick",
			dues:    []int64{-5 * tick},
			advance: []int64{tick},
			want:    []fired{{0, tick}},
		},
		{
			name:    "a long stall processes everything once",
			dues:    []int64{tick, 100 * tick, 3 * wheelSlots * tick},
			advance: []int64{3 * wheelSlots * tick},
			want:    []fired{{0, 3 * wheelSlots * tick}, {1, 3 * wheelSlots * tick}, {2, 3 * wheelSlots * tick}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w wheel
			w.init(tick, 0)
			conns := make([]*Conn, len(tc.dues))
			for i, d := range tc.dues {
				conns[i] = &Conn{id: uint64(i), wslot: iwheel.NoSlot, phase: phaseOpen}
				w.add(conns[i], d)
			}
			for _, i := range tc.remove {
				w.remove(conns[i])
			}
			var got []fired
			for _, now := range tc.advance {
				w.advance(now, func(c *Conn, now int64) { got = append(got, fired{c.id, now}) })
			}
			if len(got) != len(tc.want) {
				t.Fatalf("fired %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("fired %v, want %v", got, tc.want)
				}
			}
			if w.len() != 0 {
				t.Fatalf("%d connections left in the wheel", w.len())
			}
		})
	}
}

func TestWheelFireMayRescheduleAndClose(t *testing.T) {
	const tick = int64(time.Millisecond)
	var w wheel
	w.init(tick, 0)
	a := &Conn{id: 1, wslot: iwheel.NoSlot, phase: phaseOpen}
	b := &Conn{id: 2, wslot: iwheel.NoSlot, phase: phaseOpen}
	w.add(a, tick)
	w.add(b, tick)
	fires := 0
	fire := func(c *Conn, now int64) {
		fires++
		// Whichever fires first closes the other and reschedules itself.
		other := a
		if c == a {
			other = b
		}
		w.remove(other)
		other.phase = phaseClosed
		w.add(c, now+tick)
	}
	w.advance(tick, fire)
	if fires != 1 || w.len() != 1 {
		t.Fatalf("fires %d, in wheel %d; want 1 and 1", fires, w.len())
	}
	w.advance(2*tick, fire)
	if fires != 2 {
		t.Fatalf("rescheduled connection did not fire again")
	}
}

// BenchmarkWheel measures the loop's timing-wheel hot paths on Conns: a
// schedule, an unschedule, and a sweep that fires and reschedules every
// Conn once.
func BenchmarkWheel(b *testing.B) {
	const n = 4096
	const tick = int64(time.Millisecond)
	newConns := func() []*Conn {
		cs := make([]*Conn, n)
		for i := range cs {
			cs[i] = &Conn{id: uint64(i), wslot: iwheel.NoSlot, phase: phaseOpen}
		}
		return cs
	}
	b.Run("add-remove", func(b *testing.B) {
		var w wheel
		w.init(tick, 0)
		cs := newConns()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			c := cs[i%n]
			w.add(c, int64(i%900)*tick)
			if i%2 == 1 {
				w.remove(cs[(i-1)%n])
				w.remove(c)
			}
		}
	})
	b.Run("advance", func(b *testing.B) {
		var w wheel
		w.init(tick, 0)
		cs := newConns()
		for i, c := range cs {
			w.add(c, int64(i%64+1)*tick)
		}
		now := int64(0)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N / n {
			now += 64 * tick
			w.advance(now, func(c *Conn, now int64) { w.add(c, now+64*tick) })
		}
	})
}
