package loadgen

import "sync/atomic"

// lastArrival keeps, for each recent broadcast message, the largest fan-out
// latency any subscriber of this process has seen for it: the time until
// the last subscriber had the message. It is a ring of lastRingSize slots
// indexed by sequence number; each slot is one atomic word packing the
// message's generation (seq / lastRingSize) with the latency, so event
// loops update it with compare-and-swap and no lock.
//
// A message's maximum is final when its slot is taken by the message
// lastRingSize sequence numbers later, or when flush runs at the end; it is
// then handed to sink, once. A delivery that arrives after its slot was
// taken is too late to be tracked and is only counted (untracked). Memory
// is fixed whatever the length of the run.
type lastArrival struct {
	slots     []atomic.Uint64
	sink      func(seq uint64, us int64) // may be called from any goroutine, one call per message
	untracked atomic.Int64
}

// Ring geometry and word layout: generation in the top 24 bits, latency in
// microseconds plus one in the low 40 bits (0 means an empty slot).
const (
	lastRingBits = 16
	lastRingSize = 1 << lastRingBits
	lastUsBits   = 40
	lastUsMask   = 1<<lastUsBits - 1
)

func newLastArrival(sink func(seq uint64, us int64)) *lastArrival {
	return &lastArrival{slots: make([]atomic.Uint64, lastRingSize), sink: sink}
}

// record notes that a subscriber received message seq us microseconds
// after it was sent. Safe for concurrent use.
func (a *lastArrival) record(seq uint64, us int64) {
	if seq >= 1<<(64-lastUsBits+lastRingBits) {
		a.untracked.Add(1) // its generation would not fit in the word
		return
	}
	us = min(max(us, 0), lastUsMask-1)
	i := seq & (lastRingSize - 1)
	gen := seq >> lastRingBits
	want := gen<<lastUsBits | uint64(us+1)
	slot := &a.slots[i]
	for {
		w := slot.Load()
		wgen := w >> lastUsBits
		switch {
		case w != 0 && wgen == gen:
			if w >= want || slot.CompareAndSwap(w, want) {
				return
			}
		case w == 0 || wgen < gen:
			if slot.CompareAndSwap(w, want) {
				if w != 0 {
					a.sink(wgen<<lastRingBits|i, int64(w&lastUsMask)-1)
				}
				return
			}
		default:
			a.untracked.Add(1)
			return
		}
	}
}

// flush hands every message still in the ring to sink and empties it. It
// should run when no more deliveries are recorded.
func (a *lastArrival) flush() {
	for i := range a.slots {
		if w := a.slots[i].Swap(0); w != 0 {
			a.sink((w>>lastUsBits)<<lastRingBits|uint64(i), int64(w&lastUsMask)-1)
		}
	}
}
