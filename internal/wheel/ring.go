package wheel

import "unsafe"

// ring is the untyped body of a Wheel: the slots and the clock, with
// elements as unsafe.Pointer and their links reached at fixed offsets.
//
// add and remove are kept under the compiler's inlining budget (check with
// go build -gcflags=-m=2), as the hand-written wheels this package
// replaced were: on these paths a call costs as much as the work. That is
// why the type parameters stop at Wheel's thin methods (code generic over
// a shape, or a method called through a type parameter, is dearer), why
// prev and next must be adjacent (one offset instead of two), and why the
// clamps are min and max.
type ring struct {
	slots []unsafe.Pointer // list heads
	mask  int64            // len(slots)-1: slot counts are powers of two
	tick  int64            // slot width, in the caller's time unit
	cur   int64            // last tick number processed
	far   int64            // cur+mask: the farthest tick add may use
	n     int              // elements linked

	// Offsets in the element type of its links (prev, then next) and of
	// its slot index.
	linksOff, slotOff uintptr
}

// links is an element's prev and next fields. Outside a wheel both are
// nil: a new element's are, and remove and pop leave them so.
type links struct{ prev, next unsafe.Pointer }

func (r *ring) links(e unsafe.Pointer) *links { return (*links)(unsafe.Add(e, r.linksOff)) }

func (r *ring) slot(e unsafe.Pointer) *uint16 { return (*uint16)(unsafe.Add(e, r.slotOff)) }

// add links e at the head of the slot for due; see Wheel.Add.
func (r *ring) add(e unsafe.Pointer, due int64) {
	// The first tick starting at or after due (rounding up is exact for
	// any due while the clock is not negative), but never one already
	// processed, and never a full turn ahead, so an element added while
	// its slot is being processed does not land back in that slot.
	t := min(max((due+r.tick-1)/r.tick, r.cur+1), r.far) & r.mask
	*(*uint16)(unsafe.Add(e, r.slotOff)) = uint16(t)
	head := r.slots[t]
	(*links)(unsafe.Add(e, r.linksOff)).next = head // prev is already nil
	if head != nil {
		(*links)(unsafe.Add(head, r.linksOff)).prev = e
	}
	r.slots[t] = e
	r.n++
}

// remove unlinks e if it is linked; see Wheel.Remove.
func (r *ring) remove(e unsafe.Pointer) {
	l := (*links)(unsafe.Add(e, r.linksOff))
	slot := (*uint16)(unsafe.Add(e, r.slotOff))
	if *slot != NoSlot {
		if l.prev == nil {
			r.slots[*slot] = l.next
		} else {
			(*links)(unsafe.Add(l.prev, r.linksOff)).next = l.next
		}
		if l.next != nil {
			(*links)(unsafe.Add(l.next, r.linksOff)).prev = l.prev
		}
		*l = links{}
		*slot = NoSlot
		r.n--
	}
}

// pop unlinks and returns the head of slot i, or nil if it is empty.
func (r *ring) pop(i int64) unsafe.Pointer {
	e := r.slots[i]
	if e == nil {
		return nil
	}
	l := r.links(e)
	r.slots[i] = l.next
	if l.next != nil {
		r.links(l.next).prev = nil
	}
	l.next = nil
	*r.slot(e) = NoSlot
	r.n--
	return e
}
