package peer

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall"
)

// MaxPublishBody is the largest publish body accepted; larger gets 413.
// It matches myriad's default --api-max-body so the peers refuse what
// myriad refuses.
const MaxPublishBody = 1 << 20

// ErrBodyTooLarge is returned by readBody for a body over MaxPublishBody.
var ErrBodyTooLarge = errors.New("publish body too large")

// Fanout hands payload to every subscriber and returns how many it was
// handed to. It is called from net/http's goroutines, one per request, so
// it must be safe for concurrent use; it must not keep payload after it
// returns unless it copied it.
type Fanout func(payload []byte) int

// PublishHandler returns the handler of POST /publish: the body, bounded
// by MaxPublishBody, goes to fan, and the answer is {"delivered":N}. Any
// other method gets 405 and any other path 404. It may be served from any
// number of goroutines if fan may.
func PublishHandler(fan Fanout) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, `{"error":"method not allowed"}`, http.StatusMethodNotAllowed)
			return
		}
		body, err := readBody(r.Body)
		switch {
		case errors.Is(err, ErrBodyTooLarge):
			http.Error(w, `{"error":"body too large"}`, http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, `{"error":"reading body"}`, http.StatusBadRequest)
			return
		case len(body) == 0:
			http.Error(w, `{"error":"empty body"}`, http.StatusBadRequest)
			return
		}
		n := fan(body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"delivered":%s}`, strconv.Itoa(n))
	})
	return mux
}

// readBody reads at most MaxPublishBody bytes, and ErrBodyTooLarge when
// there is more.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxPublishBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPublishBody {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}

// RaiseNoFile lifts the soft descriptor limit to the hard one, as myriad
// does at start, so every server in a comparison can hold as many sockets.
// It is safe to call from any goroutine.
func RaiseNoFile() error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	rl.Cur = rl.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
}
