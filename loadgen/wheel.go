package loadgen

// wheel is a hashed timing wheel of connections, one per event loop and
// touched only on that loop. It replaces a timer per connection: a
// connection waiting for something (a handshake deadline, a close reply, a
// scheduled send, the end of its lifetime) sits in one slot through two
// pointers in its Conn. Slot i holds connections due in tick numbers
// congruent to i; a connection due more than one turn ahead is skipped and
// put back until its turn comes.
type wheel struct {
	tick   int64   // slot width, ns
	slots  []*Conn // list heads
	cursor int64   // last tick number processed
	n      int     // connections in the wheel
	later  []*Conn // scratch for advance
}

// wheelSlots is the number of slots: with 1 ms ticks one turn is about 4 s,
// longer than typical send intervals and close timeouts.
const wheelSlots = 4096

func newWheel(tick, now int64) wheel {
	return wheel{tick: tick, slots: make([]*Conn, wheelSlots), cursor: now / tick}
}

// add puts c in the slot for due. A due time already passed lands in the
// next tick to be processed.
func (w *wheel) add(c *Conn, due int64) {
	t := (due + w.tick - 1) / w.tick
	if t <= w.cursor {
		t = w.cursor + 1
	}
	i := int32(t % int64(len(w.slots)))
	c.wdue = due
	c.wslot = i
	c.wprev = nil
	c.wnext = w.slots[i]
	if c.wnext != nil {
		c.wnext.wprev = c
	}
	w.slots[i] = c
	w.n++
}

// remove takes c out of the wheel if it is in it.
func (w *wheel) remove(c *Conn) {
	if c.wslot < 0 {
		return
	}
	if c.wprev != nil {
		c.wprev.wnext = c.wnext
	} else {
		w.slots[c.wslot] = c.wnext
	}
	if c.wnext != nil {
		c.wnext.wprev = c.wprev
	}
	c.wprev, c.wnext, c.wslot = nil, nil, -1
	w.n--
}

// advance processes every tick up to now and calls fire for each connection
// whose due time has come, after taking it out of the wheel. fire may add
// connections back, close them, or close others.
func (w *wheel) advance(now int64, fire func(c *Conn, now int64)) {
	last := now / w.tick
	first := w.cursor + 1
	if last-first >= int64(len(w.slots)) {
		first = last - int64(len(w.slots)) + 1
	}
	w.cursor = last
	for t := first; t <= last; t++ {
		// Empty the slot into a scratch list first, so that whatever fire
		// does to the wheel (re-adding, removing others) cannot disturb the
		// iteration.
		i := t % int64(len(w.slots))
		w.later = w.later[:0]
		for c := w.slots[i]; c != nil; c = w.slots[i] {
			w.remove(c)
			w.later = append(w.later, c)
		}
		for _, c := range w.later {
			switch {
			case c.wslot >= 0 || c.phase == phaseClosed:
				// Re-added or closed by an earlier fire.
			case c.wdue > now:
				w.add(c, c.wdue)
			default:
				fire(c, now)
			}
		}
	}
	clear(w.later)
}
