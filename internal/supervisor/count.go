package supervisor

import "fmt"

// DefaultHeadroom is the descriptors a worker keeps for everything that is
// not a client connection: listeners, epoll and event fds of its loops,
// the broker connection, logs, the API's own connections.
const DefaultHeadroom = 100

// MaxWorkers bounds WorkerCount: past it a host spends more on process
// overhead and scheduling than it gains.
const MaxWorkers = 1024

// WorkerCount returns how many workers carry target connections when each
// may open nofile descriptors and keeps headroom of them for itself, and
// the connection bound of each (target spread evenly, rounded up). A
// target of 0 or less means no target: one worker per CPU (at least one),
// each unbounded (0). It is a pure function; any goroutine may call it.
func WorkerCount(target int, nofile uint64, headroom, cpus int) (workers, perWorker int, err error) {
	if target <= 0 {
		return max(cpus, 1), 0, nil
	}
	if headroom < 0 || nofile <= uint64(headroom) {
		return 0, 0, fmt.Errorf("%w: limit %d, headroom %d", ErrNoDescriptors, nofile, headroom)
	}
	per := nofile - uint64(headroom)
	n := (uint64(target) + per - 1) / per
	if n > MaxWorkers {
		return 0, 0, fmt.Errorf("%w: %d connections at %d per worker need %d", ErrTooManyWorkers, target, per, n)
	}
	workers = int(n)
	return workers, (target + workers - 1) / workers, nil
}
