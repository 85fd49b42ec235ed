package wheel

import "unsafe"

// NoSlot is the slot index of an element that is not in a wheel. Elements
// must start with their slot set to NoSlot.
const NoSlot = ^uint16(0)

// MaxSlots is the largest slot count a wheel may have: slot indexes are
// uint16 and NoSlot is reserved.
const MaxSlots = 1 << 15

// Access reaches the wheel links stored in an element of type T: pointers
// to its previous and next fields and to its slot index. Implementations
// are zero-size types whose Links method only takes field addresses, e.g.
//
//	type connLinks struct{}
//
//	func (connLinks) Links(c *Conn) (prev, next **Conn, slot *uint16) {
//		return &c.prev, &c.next, &c.slot
//	}
//
// Links must return fields of the element it is given, the same three for
// every element, with next declared right after prev. A new element has
// nil links and its slot set to NoSlot; after that only the wheel writes
// them. Init calls Links once, on a scratch element, to learn where the
// fields are; the hot paths then reach them by offset, because a method
// call through a type parameter is an indirect call in Go and made every
// operation about twice as slow.
type Access[T any] interface {
	Links(e *T) (prev, next **T, slot *uint16)
}

// Wheel is a hashed timing wheel of *T. Slot i holds the elements due in
// tick numbers congruent to i modulo the slot count, each slot an
// intrusive doubly linked list, so Add and Remove are O(1) and Advance
// costs one visit per due element plus one per elapsed tick.
//
// The zero value is not usable: call Init first. A Wheel must not be
// copied after Init.
type Wheel[T any, A Access[T]] struct {
	r ring
}

// Init sets the wheel up with slots slots (a power of two from 2 to
// MaxSlots, so that finding a slot needs no division) of width tick (> 0),
// with time starting at now (>= 0). Times are in any unit, as long as
// tick, now and every deadline use the same one. Init empties the wheel
// without touching elements that were in it; it panics on bad arguments or
// an Access whose fields are not inside T or not adjacent.
func (w *Wheel[T, A]) Init(slots int, tick, now int64) {
	if slots < 2 || slots > MaxSlots || slots&(slots-1) != 0 {
		panic("wheel: slot count is not a power of two in [2, MaxSlots]")
	}
	if tick <= 0 || now < 0 {
		panic("wheel: tick must be positive and now not negative")
	}
	var acc A
	probe := new(T)
	p, n, s := acc.Links(probe)
	w.r = ring{
		slots:    make([]unsafe.Pointer, slots),
		mask:     int64(slots - 1),
		tick:     tick,
		cur:      now / tick,
		far:      now/tick + int64(slots-1),
		linksOff: fieldOffset(probe, unsafe.Pointer(p), unsafe.Sizeof(links{})),
		slotOff:  fieldOffset(probe, unsafe.Pointer(s), unsafe.Sizeof(*s)),
	}
	if uintptr(unsafe.Pointer(n)) != uintptr(unsafe.Pointer(p))+unsafe.Sizeof(*p) {
		panic("wheel: Links must return adjacent prev and next fields")
	}
}

// fieldOffset returns the offset of the field at f, size bytes long, in
// the element at e, and panics if the field is not inside the element.
func fieldOffset[T any](e *T, f unsafe.Pointer, size uintptr) uintptr {
	base := uintptr(unsafe.Pointer(e))
	if uintptr(f) < base || uintptr(f)-base+size > unsafe.Sizeof(*e) {
		panic("wheel: Links returned a field outside the element")
	}
	return uintptr(f) - base
}

// Tick returns the slot width given to Init.
func (w *Wheel[T, A]) Tick() int64 { return w.r.tick }

// Span returns how far ahead of the current tick a deadline can be and
// still be kept in its own slot: deadlines further out are parked in the
// farthest slot.
func (w *Wheel[T, A]) Span() int64 { return w.r.mask * w.r.tick }

// Len returns the number of elements in the wheel.
func (w *Wheel[T, A]) Len() int { return w.r.n }

// Add schedules e, which must not be in a wheel, for the time due. It fires
// in the first tick that starts at or after due, or in the next tick to be
// processed if that time has passed; a due time beyond Span fires at the
// end of the span instead, and the fire callback must add it back.
func (w *Wheel[T, A]) Add(e *T, due int64) { w.r.add(unsafe.Pointer(e), due) }

// Remove unschedules e; it does nothing for an element not in the wheel.
func (w *Wheel[T, A]) Remove(e *T) { w.r.remove(unsafe.Pointer(e)) }

// Advance processes every tick that has started by now, handing each of
// their elements, already removed from the wheel, to fire. fire may add the
// element back (it lands in a later slot, so a pass always ends), and may
// add or remove any other element. After a stall longer than a full turn,
// every slot is processed once.
func (w *Wheel[T, A]) Advance(now int64, fire func(e *T)) {
	r := &w.r
	target := now / r.tick
	if target-r.cur > int64(len(r.slots)) {
		r.cur = target - int64(len(r.slots))
		r.far = r.cur + r.mask
	}
	for r.cur < target {
		r.cur++
		r.far = r.cur + r.mask
		// Take the head each time rather than walking the list, so that
		// fire may remove any element, including the next one.
		for e := r.pop(r.cur & r.mask); e != nil; e = r.pop(r.cur & r.mask) {
			fire((*T)(e))
		}
	}
}

// Each calls fn for every element in the wheel. fn must not add or remove
// elements.
func (w *Wheel[T, A]) Each(fn func(e *T)) {
	for _, e := range w.r.slots {
		for ; e != nil; e = w.r.links(e).next {
			fn((*T)(e))
		}
	}
}
