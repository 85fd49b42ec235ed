package supervisor

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"time"
)

// ReadReady reads a new process's readiness line, "ready WS API" with its
// listener counts on the WebSocket and API ports, from the read end of the
// pipe whose write end the process inherited as ReadyFD. It waits at most
// timeout, and wraps ErrNotReady when the process exits first (EOF), stays
// silent, or writes something else. Any goroutine may call it.
func ReadReady(pr *os.File, timeout time.Duration) (wsN, apiN int, err error) {
	_ = pr.SetReadDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(pr).ReadString('\n')
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, 0, fmt.Errorf("%w: no readiness within %v", ErrNotReady, timeout)
	case err != nil:
		return 0, 0, fmt.Errorf("%w: it exited first", ErrNotReady)
	}
	if _, err := fmt.Sscanf(line, "ready %d %d\n", &wsN, &apiN); err != nil || wsN <= 0 || apiN < 0 {
		return 0, 0, fmt.Errorf("%w: unreadable readiness line %q", ErrNotReady, line)
	}
	return wsN, apiN, nil
}
