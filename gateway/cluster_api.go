package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/myriadws/myriad/internal/broker"
)

// Query kinds a cluster node answers (broker.Client.Respond).
const (
	queryPresence = "presence"
	queryStats    = "stats"
)

// answerWait bounds a node's own part of a cluster query; it stays under
// the broker's default gather bound so the answer can still count.
const answerWait = 400 * time.Millisecond

// ClusterPublish is the answer to a publish on a cluster node.
type ClusterPublish struct {
	// Accepted is true when every message reached the broker: sent and
	// acknowledged (the broker processed it, so every node with interest
	// has it or is about to), or, while the broker is away, delivered on
	// this node and buffered for the others.
	Accepted bool `json:"accepted"`
	Cluster  bool `json:"cluster"`
	// Broker is the broker connection's state at the answer.
	Broker string `json:"broker"`
	// Buffered counts messages that went to this node's subscribers at
	// once and wait in the reconnect buffer for the other nodes.
	Buffered int `json:"buffered,omitempty"`
	// Unsent counts messages the broker could not take: they reached this
	// node's subscribers only.
	Unsent int `json:"unsent,omitempty"`
}

// PublishCluster publishes data to topics through the broker and, when
// all went out while connected, waits for the broker's acknowledgement
// (a flush, bounded by ctx and ClusterConfig.FlushTimeout). It returns
// ErrBrokerUnavailable when some message reached this node only, and the
// flush error when the broker did not acknowledge in time (the messages
// may still arrive). It does not count deliveries: each node counts its
// own, in /stats. Any goroutine may call it except an event loop.
func (g *Gateway) PublishCluster(ctx context.Context, topics []string, data json.RawMessage) (ClusterPublish, error) {
	cl := g.cluster
	if cl == nil || g.srv == nil {
		return ClusterPublish{}, ErrNotAttached
	}
	distinct, compact, err := g.publishInput(topics, data)
	if err != nil {
		return ClusterPublish{}, err
	}
	g.publishes.Add(uint64(len(distinct)))
	res, err := cl.publish(g, distinct, compact)
	out := ClusterPublish{Cluster: true, Buffered: res.buffered, Unsent: res.unsent}
	if err == nil && res.sent > 0 {
		wait := cl.cfg.FlushTimeout
		if dl, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(dl))
		}
		if ferr := cl.c.Flush(wait); ferr != nil {
			err = fmt.Errorf("gateway: broker did not acknowledge: %w", ferr)
		}
	}
	out.Accepted = err == nil
	out.Broker = cl.c.State().String()
	return out, err
}

func (g *Gateway) servePublishCluster(w http.ResponseWriter, r *http.Request, topics []string, data json.RawMessage) {
	res, err := g.PublishCluster(r.Context(), topics, data)
	if err != nil {
		if _, ok := errors.AsType[*PublishError](err); ok {
			apiError(w, http.StatusBadRequest, err.Error())
			return
		}
		apiJSON(w, http.StatusServiceUnavailable, struct {
			Error string `json:"error"`
			ClusterPublish
		}{err.Error(), res})
		return
	}
	apiJSON(w, http.StatusOK, res)
}

// ClusterPresence is a topic's presence over every node that answered.
type ClusterPresence struct {
	Presence
	// Nodes is how many nodes answered.
	Nodes int `json:"nodes"`
	// Partial is set when fewer nodes answered than ClusterConfig.Nodes,
	// or the broker was away or its link stuck and the answer is this
	// node's alone.
	Partial bool `json:"partial,omitempty"`
	// Reason says why the answer is partial.
	Reason string `json:"reason,omitempty"`
}

// ErrClusterBusy is returned by a cluster query (PresenceCluster, and
// /stats and /presence as 503) refused because too many are in flight,
// as when a stuck broker link holds earlier ones
// (broker.Config.MaxGathers): the answer is this node's alone.
var ErrClusterBusy = errors.New("gateway: too many cluster queries in flight (the broker link is slow or stuck): this node's answer only, try again later")

// gatherReason says why a cluster query's answer is partial, for the
// operator reading it: err is the gather's, answered the number of nodes
// whose answer counts and expect ClusterConfig.Nodes.
func gatherReason(err error, answered, expect int) string {
	switch {
	case errors.Is(err, broker.ErrGatherBusy):
		return "too many cluster queries in flight: this node's answer only"
	case errors.Is(err, broker.ErrGatherStuck):
		return "broker link stuck: the query was not sent within the gather bound, this node's answer only"
	case err != nil:
		return err.Error() + ": this node's answer only"
	case answered == 0:
		return "no node answered within the gather bound (the broker is away?): this node's answer only"
	case expect > 0 && answered < expect:
		return fmt.Sprintf("%d of %d nodes answered within the gather bound", answered, expect)
	}
	return "a node's answer was unreadable"
}

// PresenceCluster gathers topic's presence from every node: counts
// summed, user lists merged (a user connected to two nodes is listed
// once) and cut at MaxPresenceUsers. It answers within the broker's
// gather bound (or ctx's), however stuck the broker link: when the
// broker is away or its link stuck it answers with this node's presence,
// marked partial with the reason, and so it does with ErrClusterBusy
// when too many cluster queries are in flight. Any goroutine may call it
// except an event loop.
func (g *Gateway) PresenceCluster(ctx context.Context, topic string) (ClusterPresence, error) {
	cl := g.cluster
	if cl == nil {
		return ClusterPresence{}, ErrNotAttached
	}
	if err := checkTopic(topic, g.cfg.MaxTopicLen); err != nil {
		return ClusterPresence{Presence: Presence{Topic: topic, Users: []string{}}}, &PublishError{Reason: fmt.Sprintf("topic %q: %v", topic, err)}
	}
	got, gerr := cl.c.Gather(ctx, queryPresence, []byte(topic), cl.cfg.Nodes)
	if gerr != nil || len(got.Replies) == 0 {
		// The broker is away, its link stuck (or nobody answered): this
		// node alone.
		local, err := g.Presence(ctx, topic)
		if err == nil && errors.Is(gerr, broker.ErrGatherBusy) {
			err = ErrClusterBusy
		}
		return ClusterPresence{Presence: local, Nodes: 1, Partial: true, Reason: gatherReason(gerr, 0, cl.cfg.Nodes)}, err
	}
	out := ClusterPresence{Presence: Presence{Topic: topic}, Nodes: len(got.Replies)}
	out.Partial = cl.cfg.Nodes > 0 && !got.Complete
	lists := make([][]string, 0, len(got.Replies))
	for _, rep := range got.Replies {
		var p Presence
		if json.Unmarshal(rep.Data, &p) != nil || p.Topic != topic {
			out.Partial = true
			continue
		}
		out.Count += p.Count
		out.Truncated = out.Truncated || p.Truncated
		lists = append(lists, p.Users)
	}
	if out.Partial {
		out.Reason = gatherReason(nil, len(lists), cl.cfg.Nodes)
	}
	var cut bool
	out.Users, cut = mergeUsers(lists, g.cfg.MaxPresenceUsers)
	out.Truncated = out.Truncated || cut
	return out, nil
}

// answerPresence is this node's answer to a presence query: its own
// Presence of the topic in the request. It runs on the broker's query
// goroutine.
func (g *Gateway) answerPresence(req []byte) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), answerWait)
	defer cancel()
	p, err := g.Presence(ctx, string(req))
	if err != nil {
		return nil // not an answer: the asker counts the node as partial
	}
	b, _ := json.Marshal(p)
	return b
}

func (g *Gateway) servePresenceCluster(w http.ResponseWriter, r *http.Request, topic string) {
	p, err := g.PresenceCluster(r.Context(), topic)
	if errors.Is(err, ErrClusterBusy) {
		apiJSON(w, http.StatusServiceUnavailable, struct {
			Error string `json:"error"`
			ClusterPresence
		}{err.Error(), p})
		return
	}
	if err != nil {
		status := http.StatusServiceUnavailable
		if _, ok := errors.AsType[*PublishError](err); ok {
			status = http.StatusBadRequest
		}
		apiError(w, status, err.Error())
		return
	}
	apiJSON(w, http.StatusOK, p)
}
