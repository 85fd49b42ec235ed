package supervisor

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// SteeredMark ends the readiness line of a replacement worker that
// attached the steering program it was given: "ready WS API steered".
// Only a worker given EnvSteer writes it, so a supervisor that predates
// steering never reads it.
const SteeredMark = "steered"

// readiness is what a new process reports once it listens.
type readiness struct {
	ws, api int  // its listener counts on the WebSocket and API ports
	steered bool // it attached the steering program it was given
}

// ReadReady reads a new process's readiness line, "ready WS API" with its
// listener counts on the WebSocket and API ports, from the read end of the
// pipe whose write end the process inherited as ReadyFD. It waits at most
// timeout, and wraps ErrNotReady when the process exits first (EOF), stays
// silent, or writes something else. Any goroutine may call it.
func ReadReady(pr *os.File, timeout time.Duration) (wsN, apiN int, err error) {
	r, err := readReady(pr, timeout)
	return r.ws, r.api, err
}

// readReady is ReadReady, which also accepts SteeredMark after the counts.
func readReady(pr *os.File, timeout time.Duration) (readiness, error) {
	_ = pr.SetReadDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(pr).ReadString('\n')
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return readiness{}, fmt.Errorf("%w: no readiness within %v", ErrNotReady, timeout)
	case err != nil:
		return readiness{}, fmt.Errorf("%w: it exited first", ErrNotReady)
	}
	var r readiness
	rest, steered := strings.CutSuffix(line, " "+SteeredMark+"\n")
	if steered {
		rest += "\n"
	}
	if _, err := fmt.Sscanf(rest, "ready %d %d\n", &r.ws, &r.api); err != nil || r.ws <= 0 || r.api < 0 {
		return readiness{}, fmt.Errorf("%w: unreadable readiness line %q", ErrNotReady, line)
	}
	r.steered = steered
	return r, nil
}
