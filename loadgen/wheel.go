package loadgen

import iwheel "github.com/myriadws/myriad/internal/wheel"

// wheelSlots is the number of slots: with 1 ms ticks one turn is about 4 s,
// longer than typical send intervals and close timeouts.
const wheelSlots = 4096

// connLinks gives the shared wheel the links it keeps in each Conn.
type connLinks struct{}

// Links returns c's wheel fields.
func (connLinks) Links(c *Conn) (prev, next **Conn, slot *uint16) {
	return &c.wprev, &c.wnext, &c.wslot
}

// wheel is a loop's timing wheel of connections, touched only on that
// loop. It replaces a timer per connection: a connection waiting for
// something (a handshake deadline, a close reply, a scheduled send, the end
// of its lifetime) sits in one slot through the links in its Conn. The
// Conn also keeps its exact due time, so one due beyond the wheel's span
// is put back until its time comes.
type wheel struct {
	w iwheel.Wheel[Conn, connLinks]
}

func (w *wheel) init(tick, now int64) { w.w.Init(wheelSlots, tick, now) }

// len returns the number of connections in the wheel.
func (w *wheel) len() int { return w.w.Len() }

// add puts c, which must not be in the wheel, in the slot for due. A due
// time already passed fires on the next tick processed.
func (w *wheel) add(c *Conn, due int64) {
	c.wdue = due
	w.w.Add(c, due)
}

// remove takes c out of the wheel if it is in it.
func (w *wheel) remove(c *Conn) { w.w.Remove(c) }

// advance processes every tick up to now and calls fire for each connection
// whose due time has come, after taking it out of the wheel. fire may add
// connections back, close them, or close others.
func (w *wheel) advance(now int64, fire func(c *Conn, now int64)) {
	w.w.Advance(now, func(c *Conn) {
		switch {
		case c.phase == phaseClosed:
			// Closed by an earlier fire; its close handler unlinks it.
		case c.wdue > now:
			w.w.Add(c, c.wdue) // parked at the end of the span
		default:
			fire(c, now)
		}
	})
}
