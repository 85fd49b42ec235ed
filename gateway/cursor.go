package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/myriadws/myriad/internal/history"
)

// Cursors in URLs and SSE ids have one compact form, "<epoch>/<offset>":
// the position of the last message a client has of a topic. In a query a
// topic's cursor is the parameter "since.<topic>" (topic names cannot
// hold '=' or '&'), so ?topics=a,b&since.a=k3x9/41 resumes a after offset
// 41 of epoch k3x9 and subscribes b from now. An SSE event's id is the
// cursor of its topic when the stream has one topic, and otherwise the
// list "<topic>=<epoch>/<offset>,..." of every topic the stream has a
// position in, so Last-Event-ID always resumes all of them.

// maxEpochLen bounds an epoch read from a client; the stores make 13-char
// base-36 epochs.
const maxEpochLen = 32

// errCursor is wrapped by every malformed cursor.
var errCursor = errors.New(`cursor must be "<epoch>/<offset>"`)

// parseCursor reads "<epoch>/<offset>".
func parseCursor(s string) (history.Position, error) {
	epoch, off, ok := strings.Cut(s, "/")
	if !ok || !validEpoch(epoch) {
		return history.Position{}, errCursor
	}
	n, err := strconv.ParseUint(off, 10, 64)
	if err != nil {
		return history.Position{}, errCursor
	}
	return history.Position{Offset: n, Epoch: epoch}, nil
}

// validEpoch accepts 1 to maxEpochLen letters, digits, '-' and '_'.
func validEpoch(e string) bool {
	if e == "" || len(e) > maxEpochLen {
		return false
	}
	for i := 0; i < len(e); i++ {
		c := e[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// appendCursor appends "<epoch>/<offset>".
func appendCursor(b []byte, p history.Position) []byte {
	b = append(b, p.Epoch...)
	b = append(b, '/')
	return strconv.AppendUint(b, p.Offset, 10)
}

// sinceFromQuery reads the since.<topic> parameters of q for topics. A
// parameter for a topic not in the list, or a malformed cursor, is an
// error: a client that asks to resume something must learn it cannot.
func sinceFromQuery(q url.Values, topics []string) (map[string]history.Position, error) {
	var out map[string]history.Position
	for k, vs := range q {
		t, ok := strings.CutPrefix(k, "since.")
		if !ok {
			continue
		}
		if !contains(topics, t) {
			return nil, fmt.Errorf("%s: topic %q is not in ?topics=", k, t)
		}
		p, err := parseCursor(vs[len(vs)-1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if out == nil {
			out = make(map[string]history.Position, len(topics))
		}
		out[t] = p
	}
	return out, nil
}

// sinceFromEventID reads an SSE Last-Event-ID for a stream of topics: a
// bare cursor when the stream has one topic, or the topic=cursor list.
func sinceFromEventID(id string, topics []string) (map[string]history.Position, error) {
	out := make(map[string]history.Position, len(topics))
	if !strings.Contains(id, "=") {
		if len(topics) != 1 {
			return nil, errors.New("Last-Event-ID: a bare cursor needs exactly one topic")
		}
		p, err := parseCursor(id)
		if err != nil {
			return nil, fmt.Errorf("Last-Event-ID: %w", err)
		}
		out[topics[0]] = p
		return out, nil
	}
	for item := range strings.SplitSeq(id, ",") {
		t, c, _ := strings.Cut(item, "=")
		if !contains(topics, t) {
			return nil, fmt.Errorf("Last-Event-ID: topic %q is not in ?topics=", t)
		}
		p, err := parseCursor(c)
		if err != nil {
			return nil, fmt.Errorf("Last-Event-ID: %w", err)
		}
		out[t] = p
	}
	return out, nil
}

// sinceFromMessage reads the "since" of a subscribe request: a position
// {"offset":N,"epoch":"E"} for a request with one topic, or an object of
// positions by topic.
func sinceFromMessage(raw json.RawMessage, topics []string) (map[string]history.Position, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one struct {
		Offset *uint64 `json:"offset"`
		Epoch  *string `json:"epoch"`
	}
	if err := json.Unmarshal(raw, &one); err == nil && one.Epoch != nil && one.Offset != nil {
		if len(topics) != 1 {
			return nil, errors.New(`"since" as one position needs exactly one topic; give {"<topic>": {"offset":..,"epoch":..}} for several`)
		}
		if !validEpoch(*one.Epoch) {
			return nil, errors.New(`"since": malformed epoch`)
		}
		return map[string]history.Position{topics[0]: {Offset: *one.Offset, Epoch: *one.Epoch}}, nil
	}
	var many map[string]struct {
		Offset uint64 `json:"offset"`
		Epoch  string `json:"epoch"`
	}
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.New(`"since" must be {"offset":N,"epoch":"E"} or an object of them by topic`)
	}
	out := make(map[string]history.Position, len(many))
	for t, p := range many {
		if !contains(topics, t) {
			return nil, fmt.Errorf(`"since": topic %q is not subscribed in this request`, t)
		}
		if !validEpoch(p.Epoch) {
			return nil, fmt.Errorf(`"since": topic %q: malformed epoch`, t)
		}
		out[t] = history.Position{Offset: p.Offset, Epoch: p.Epoch}
	}
	return out, nil
}
