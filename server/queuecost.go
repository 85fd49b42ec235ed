package server

import "math/bits"

// listNodeBytes is what one node of gnet's outbound list costs besides
// its slice: a slice header and a next pointer, 32 bytes in Go's size
// classes.
const listNodeBytes = 32

// costUnit is the fixed point of holders.costPerByte: 256 is one real
// byte per queued byte.
const costUnit = 256

// queueCost is the memory a write of n bytes takes when it is queued on a
// connection that is already behind. gnet keeps each such write in a list
// node of its own whose slice comes from a pool of powers of two, so the
// cost is n rounded up to a power of two plus the node: a 150-byte frame
// takes 288 bytes (1.9 times), a 1,000,010-byte frame 1 MiB (1.05 times).
// Measured with bench/hardening: 4 MiB of 147-byte frames held 9.1 MiB of
// RSS while MaxOutbound counted payload bytes.
func queueCost(n int) int {
	if n <= 0 {
		return 0
	}
	return 1<<bits.Len(uint(n-1)) + listNodeBytes
}

// writeCost is queueCost of one frame as the loop writes it: a frame
// with more than inlinePayload payload bytes is written as two slices
// (header, payload), which gnet queues as two nodes.
func writeCost(hdr, payload int) int {
	if payload > inlinePayload {
		return queueCost(hdr) + queueCost(payload)
	}
	return queueCost(hdr + payload)
}

// inlinePayload is the largest payload writeFrame copies behind its
// header into one write; larger ones go out as a header and payload pair.
const inlinePayload = 1024

// realQueued is what queued bytes cost, at costPerByte real bytes per
// costUnit queued bytes.
func realQueued(queued int, costPerByte int64) int64 {
	return int64(queued) * costPerByte / costUnit
}

// noteCost records the cost per byte of a write queued behind others on
// this loop: the estimate the budget sweep applies to queues whose frames
// it cannot see. It moves an eighth of the way each time, so one odd
// frame does not swing it.
func (l *loop) noteCost(n, cost int) {
	r := int64(cost) * costUnit / int64(n)
	if l.held.costPerByte == 0 {
		l.held.costPerByte = r
		return
	}
	l.held.costPerByte += (r - l.held.costPerByte) / 8
}

// costPerByte is the loop's current estimate, costUnit before any write
// was queued.
func (l *loop) costPerByte() int64 {
	if l.held.costPerByte == 0 {
		return costUnit
	}
	return l.held.costPerByte
}
