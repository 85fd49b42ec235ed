package server

import iwheel "github.com/myriadws/myriad/internal/wheel"

// noSlot marks a Conn that is not in the wheel.
const noSlot = iwheel.NoSlot

// wheelSlots is the wheel's size. With the default 500 ms tick it spans
// more than eight minutes, longer than any default timeout, so most
// connections are visited once per deadline.
const wheelSlots = 1024

// connLinks gives the shared wheel the links it keeps in each Conn: the
// prev, next and slot fields, so scheduling costs no memory beyond them.
type connLinks struct{}

// Links returns c's wheel fields.
func (connLinks) Links(c *Conn) (prev, next **Conn, slot *uint16) {
	return &c.prev, &c.next, &c.slot
}

// wheel is the loop's timing wheel of Conns, touched only by that loop.
//
// Deadlines are lazy: activity on a connection only records a timestamp,
// and when the Conn's slot comes due the loop recomputes its real deadline
// and either acts or reschedules it. A busy connection therefore costs
// nothing here per message, and an idle one is visited about once per
// ping interval.
type wheel struct {
	w iwheel.Wheel[Conn, connLinks]
	// count is the number of Conns scheduled as of the last advance; the
	// drain, which runs right after one, sizes its snapshot with it. It is
	// not kept per add and remove so that those stay small enough to be
	// inlined.
	count int
}

func (w *wheel) init(tickMs, nowMs int64) { w.w.Init(wheelSlots, tickMs, nowMs) }

// span is how far ahead a Conn can be scheduled, in ms.
func (w *wheel) span() int64 { return w.w.Span() }

// add schedules c, which must not be scheduled, at the absolute ms time
// at. Times past the wheel's span come due at its end, and expire
// reschedules them.
func (w *wheel) add(c *Conn, at int64) {
	w.w.Add(c, at)
}

// remove unschedules c; it is a no-op for a Conn not in the wheel.
func (w *wheel) remove(c *Conn) {
	w.w.Remove(c)
}

// advance processes every slot due by nowMs, handing each of its Conns,
// already unscheduled, to fn, which reschedules or closes it.
func (w *wheel) advance(nowMs int64, fn func(c *Conn)) {
	w.w.Advance(nowMs, fn)
	w.count = w.w.Len()
}

// each calls fn for every scheduled Conn. fn must not reschedule.
func (w *wheel) each(fn func(c *Conn)) { w.w.Each(fn) }
