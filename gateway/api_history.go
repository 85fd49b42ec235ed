package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/myriadws/myriad/internal/history"
)

// maxHistoryLimit bounds one GET /history answer; a client pages on with
// the last offset it got.
const maxHistoryLimit = 1000

// historyAnswer is the body of GET /history.
type historyAnswer struct {
	Topic string `json:"topic"`
	// Messages are the stored messages after since, oldest first, as
	// subscribers receive them.
	Messages []json.RawMessage `json:"messages"`
	// Recovered is true when the messages reach back to since (none
	// missing); false when since is of another epoch or too old, or not
	// given.
	Recovered bool `json:"recovered"`
	// Position is the topic's position now.
	Position positionJSON `json:"position"`
	// Next is the cursor to ask for more with: the last message's
	// position, or since when there was none.
	Next string `json:"next,omitempty"`
}

// serveHistory answers GET /history?topic=t&since=<epoch>/<offset>&limit=N.
func (g *Gateway) serveHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	topic := q.Get("topic")
	if topic == "" {
		apiError(w, http.StatusBadRequest, "missing ?topic=")
		return
	}
	var since history.Position
	if s := q.Get("since"); s != "" {
		p, err := parseCursor(s)
		if err != nil {
			apiError(w, http.StatusBadRequest, "since: "+err.Error())
			return
		}
		since = p
	}
	limit := maxHistoryLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxHistoryLimit {
			apiError(w, http.StatusBadRequest, "limit must be between 1 and "+strconv.Itoa(maxHistoryLimit))
			return
		}
		limit = n
	}
	msgs, ok, cur, err := g.History(r.Context(), topic, since, limit)
	if err != nil {
		status := http.StatusServiceUnavailable
		switch {
		case errors.Is(err, ErrNoHistory):
			status = http.StatusNotFound
		default:
			if _, bad := errors.AsType[*PublishError](err); bad {
				status = http.StatusBadRequest
			}
		}
		apiError(w, status, err.Error())
		return
	}
	ans := historyAnswer{Topic: topic, Messages: make([]json.RawMessage, 0, len(msgs)), Recovered: ok,
		Position: positionJSON{Offset: cur.Offset, Epoch: cur.Epoch}}
	next := since
	if next.Epoch == "" {
		next = cur
	}
	for _, e := range msgs {
		p := history.Position{Offset: e.Offset, Epoch: cur.Epoch}
		ans.Messages = append(ans.Messages, newMessage(topic, e.Payload, p).json())
		next = p
	}
	if !ok {
		next = cur
	}
	ans.Next = string(appendCursor(nil, next))
	apiJSON(w, http.StatusOK, ans)
}
