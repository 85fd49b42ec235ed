package supervisor

import "time"

// closeSpan bounds how long before the supervisor reaps a dead worker its
// listeners may have closed: the kernel closes a process's descriptors
// as it exits, just before the process becomes a zombie, and the slot
// goroutine waiting for it wakes up at once. Closing them takes about a
// microsecond or two per connection, so a second or two for the largest
// worker; a closed listener waits at most that long for the reap.
const closeSpan = 2 * time.Second

// block is one worker's share of the ports' SO_REUSEPORT groups: how many
// listeners it has on the WebSocket port and on the API port.
type block struct {
	pid     int
	ws, api int
	steered bool // it reported that it attached the steering it was given
}

// layout is the supervisor's model of the order of its workers' listeners
// in the ports' SO_REUSEPORT groups, which the kernel keeps as an array in
// the order the listeners joined (listen). A listener that closes takes
// the group's last member into its place. So while workers join one at a
// time (each reports ready before the next starts) and leave one at a
// time, every worker's listeners form one contiguous block on each port,
// in the same order on both: a join appends a block, and when a worker
// leaves, the last block, if it has as many listeners, moves into its
// place. blocks is that order. Both ports follow it; only the block sizes
// differ.
//
// When two changes may have interleaved (two workers died at about the
// same time, a worker died while another joined) or a leaving block is
// not the size of the last one, the model no longer holds and known
// turns false for good: the supervisor then replaces workers without
// steering.
//
// The zero layout is empty and known. It is not safe for concurrent use:
// the supervisor guards it with its mutex.
type layout struct {
	blocks  []block
	unknown string        // why the order is unknown; "" while it is known
	span    time.Duration // closeSpan, unless a test shortens it

	joining   bool
	joiner    int       // pid of the current or last joiner
	joinEnd   time.Time // when the last join ended
	lastExit  time.Time // when the last worker was reaped
	hadJoin   bool
	hadExited bool
}

// known reports whether the model is exact.
func (l *layout) known() bool { return l.unknown == "" }

// lose marks the model inexact for the reason why (the first one stays).
func (l *layout) lose(why string) {
	if l.unknown == "" {
		l.unknown = why
	}
}

// joinStarted records that pid is starting and may open listeners from
// now on. The supervisor allows one join at a time.
func (l *layout) joinStarted(pid int) {
	l.joining, l.joiner, l.hadJoin = true, pid, true
}

// joined appends the block of the worker that reported ready, at now.
func (l *layout) joined(b block, now time.Time) {
	l.blocks = append(l.blocks, b)
	l.joining, l.joinEnd = false, now
}

// joinFailed ends a join whose worker never reported ready; the
// supervisor has waited for that worker to exit, so whatever listeners
// it opened were the group's last ones and are gone.
func (l *layout) joinFailed(now time.Time) {
	l.joining, l.joinEnd = false, now
}

// exited records that pid was reaped at now. Its listeners closed no
// earlier than since (when it started, or when the supervisor asked it to
// leave) and than closeSpan before now: if another worker joined or was
// reaped within that window, their listeners may have interleaved and the
// model is lost.
func (l *layout) exited(pid int, since, now time.Time) {
	span := l.span
	if span == 0 {
		span = closeSpan
	}
	from := now.Add(-span)
	if since.After(from) {
		from = since
	}
	switch {
	case l.joining && l.joiner != pid:
		l.lose("a worker died while another was starting")
	case l.hadJoin && l.joiner != pid && !l.joinEnd.Before(from):
		l.lose("a worker died just as another started")
	case l.hadExited && !l.lastExit.Before(from):
		l.lose("two workers died at about the same time")
	}
	l.lastExit, l.hadExited = now, true
	p := l.find(pid)
	if p < 0 {
		return // it never reported ready: its listeners were the group's last
	}
	last := len(l.blocks) - 1
	if p != last && (l.blocks[p].ws != l.blocks[last].ws || l.blocks[p].api != l.blocks[last].api) {
		l.lose("workers with different listener counts")
	}
	l.blocks[p] = l.blocks[last]
	l.blocks = l.blocks[:last]
}

// find returns pid's position, or -1.
func (l *layout) find(pid int) int {
	for i, b := range l.blocks {
		if b.pid == pid {
			return i
		}
	}
	return -1
}

// steering returns the program a worker joining now must attach to
// exclude pid's listeners: on each port, skip pid's block among the
// members before the joiner's. ok is false when the model is lost or pid
// has no block.
func (l *layout) steering(pid int) (s Steering, ok bool) {
	if !l.known() {
		return Steering{}, false
	}
	p := l.find(pid)
	if p < 0 {
		return Steering{}, false
	}
	for i, b := range l.blocks {
		if i < p {
			s.WS.First += b.ws
			s.API.First += b.api
		}
		s.WS.Total += b.ws
		s.API.Total += b.api
	}
	s.WS.Len, s.API.Len = l.blocks[p].ws, l.blocks[p].api
	return s, true
}
