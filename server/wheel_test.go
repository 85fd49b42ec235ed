package server

import "testing"

// BenchmarkWheel measures the loop's timing-wheel hot paths on Conns: a
// schedule, an unschedule, and a sweep that visits and reschedules every
// Conn once.
func BenchmarkWheel(b *testing.B) {
	const n = 4096
	newConns := func() []*Conn {
		cs := make([]*Conn, n)
		for i := range cs {
			cs[i] = &Conn{slot: noSlot}
		}
		return cs
	}
	b.Run("add-remove", func(b *testing.B) {
		var w wheel
		w.init(500, 0)
		cs := newConns()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			c := cs[i%n]
			w.add(c, int64(i%900)*500)
			if i%2 == 1 {
				w.remove(cs[(i-1)%n])
				w.remove(c)
			}
		}
	})
	b.Run("advance", func(b *testing.B) {
		var w wheel
		w.init(500, 0)
		cs := newConns()
		for i, c := range cs {
			w.add(c, int64(i%64+1)*500)
		}
		now := int64(0)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N / n {
			// One sweep per 64 ticks: every Conn comes due once and goes
			// back 64 ticks later.
			now += 64 * 500
			w.advance(now, func(c *Conn) { w.add(c, now+64*500) })
		}
	})
}
