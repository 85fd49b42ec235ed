package server

// noSlot marks a Conn that is not in the wheel.
const noSlot = ^uint16(0)

// wheelSlots is the wheel's size. With the default 500 ms tick it spans
// more than eight minutes, longer than any default timeout, so most
// connections are visited once per deadline.
const wheelSlots = 1024

// wheel is a hashed timing wheel of Conns, one per event loop, touched only
// by that loop. Each Conn sits in exactly one slot, on an intrusive doubly
// linked list, so scheduling and removal cost O(1) and no memory beyond the
// Conn's own fields.
//
// Deadlines are lazy: activity on a connection only records a timestamp,
// and when the Conn's slot comes due the loop recomputes its real deadline
// and either acts or reschedules it. A busy connection therefore costs
// nothing here per message, and an idle one is visited about once per
// ping interval.
type wheel struct {
	slots [wheelSlots]*Conn
	tick  int64 // ms per slot
	cur   int64 // last tick processed (absolute)
	count int   // Conns scheduled
}

func (w *wheel) init(tickMs, nowMs int64) {
	w.tick = tickMs
	w.cur = nowMs / tickMs
}

// add schedules c at the absolute ms time at. Times past the wheel's span
// go to the farthest slot and are rescheduled when it comes round.
func (w *wheel) add(c *Conn, at int64) {
	t := at / w.tick
	if t <= w.cur {
		t = w.cur + 1
	}
	if t >= w.cur+wheelSlots {
		t = w.cur + wheelSlots - 1
	}
	i := uint16(t % wheelSlots)
	c.slot = i
	c.prev = nil
	c.next = w.slots[i]
	if c.next != nil {
		c.next.prev = c
	}
	w.slots[i] = c
	w.count++
}

// remove unschedules c; it is a no-op for a Conn not in the wheel.
func (w *wheel) remove(c *Conn) {
	if c.slot == noSlot {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		w.slots[c.slot] = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next, c.slot = nil, nil, noSlot
	w.count--
}

// advance processes every slot due by nowMs, handing each of its Conns,
// already unscheduled, to fn, which reschedules or closes it. A Conn that
// fn reschedules always lands in a later slot, so a pass terminates.
func (w *wheel) advance(nowMs int64, fn func(c *Conn)) {
	target := nowMs / w.tick
	if target-w.cur > wheelSlots {
		// The loop stalled past a full turn: every slot is due once.
		w.cur = target - wheelSlots
	}
	for w.cur < target {
		w.cur++
		i := w.cur % wheelSlots
		c := w.slots[i]
		w.slots[i] = nil
		for c != nil {
			next := c.next
			c.prev, c.next, c.slot = nil, nil, noSlot
			w.count--
			fn(c)
			c = next
		}
	}
}

// each calls fn for every scheduled Conn. fn must not reschedule.
func (w *wheel) each(fn func(c *Conn)) {
	for _, c := range w.slots {
		for ; c != nil; c = c.next {
			fn(c)
		}
	}
}
