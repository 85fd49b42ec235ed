package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/server"
)

// clientMsg is a message from a gateway client (see PROTOCOL.md).
type clientMsg struct {
	Type   string          `json:"type"`
	ID     string          `json:"id"`
	Topic  string          `json:"topic"`
	Topics []string        `json:"topics"`
	Data   json.RawMessage `json:"data"`
	Ref    json.RawMessage `json:"ref"`
	Since  json.RawMessage `json:"since"`
}

// topicList returns the topics of m: "topic" and "topics" together.
func (m *clientMsg) topicList() []string {
	if m.Topic == "" {
		return m.Topics
	}
	return append(m.Topics, m.Topic)
}

// reply is a message to a gateway client other than a published message.
type reply struct {
	Type   string          `json:"type"`
	Topic  string          `json:"topic,omitempty"`
	Topics []string        `json:"topics,omitempty"`
	User   string          `json:"user,omitempty"`
	Error  string          `json:"error,omitempty"`
	Ref    json.RawMessage `json:"ref,omitempty"`
	// Duplicate marks a publish whose id was already published.
	Duplicate bool `json:"duplicate,omitempty"`
	// Recovered answers a subscribe with a cursor: every missed message
	// follows (true), or the history no longer reaches back (false).
	Recovered *bool `json:"recovered,omitempty"`
	// Positions are the recovered topics' positions after what follows.
	Positions map[string]positionJSON `json:"positions,omitempty"`
}

// positionJSON is a history position as the protocol writes it.
type positionJSON struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// OnMessage implements server.Handler: it runs one client request. Every request
// that fails gets an error reply; MaxClientErrors of them in a row close
// the connection with 1008, and so does a client sending past its rate
// (Config.ClientRate). Loop-only.
func (g *Gateway) OnMessage(c *server.Conn, op ws.OpCode, data []byte) {
	sh := g.shardFor(c)
	if sh == nil {
		return
	}
	if !g.allow(sh, c) {
		return
	}
	defer func() {
		if s := sh.conns[c]; s != nil {
			sh.release(c, s)
		}
	}()
	if op != ws.OpText {
		g.fail(sh, c, nil, "binary messages are not supported: send JSON text")
		return
	}
	if len(data) > g.cfg.MaxClientMessage {
		g.fail(sh, c, nil, "message larger than "+strconv.Itoa(g.cfg.MaxClientMessage)+" bytes")
		return
	}
	var m clientMsg
	if err := json.Unmarshal(data, &m); err != nil {
		g.fail(sh, c, nil, "invalid JSON message: "+err.Error())
		return
	}
	var err error
	switch m.Type {
	case "subscribe":
		err = g.onSubscribe(sh, c, &m)
	case "unsubscribe":
		err = g.onUnsubscribe(sh, c, &m)
	case "publish":
		err = g.onPublish(sh, c, &m)
	case "ping":
		g.reply(sh, c, &reply{Type: "pong", Ref: m.Ref})
	case "":
		err = fmt.Errorf(`missing "type"`)
	default:
		err = fmt.Errorf("unknown type %q", m.Type)
	}
	if err != nil {
		g.fail(sh, c, m.Ref, err.Error())
		return
	}
	// A good request does not forgive earlier errors: the count only
	// lapses with its window, or abuse interleaved with good requests
	// would never be closed.
	if s := sh.conns[c]; s != nil && s.strikes > 0 && s.strikesLapsed(time.Now()) {
		s.strikes = 0
		sh.release(c, s)
	}
}

// checkTopics validates the topics of a request.
func (g *Gateway) checkTopics(topics []string) error {
	if len(topics) == 0 {
		return fmt.Errorf(`no topic given: set "topic" or "topics"`)
	}
	if len(topics) > g.cfg.MaxTopicsPerConn {
		return fmt.Errorf("at most %d topics per request", g.cfg.MaxTopicsPerConn)
	}
	for _, t := range topics {
		if err := checkTopic(t, g.cfg.MaxTopicLen); err != nil {
			return fmt.Errorf("topic %q: %w", t, err)
		}
	}
	return nil
}

// onSubscribe subscribes to all the topics of m or, when one is refused,
// to none.
func (g *Gateway) onSubscribe(sh *shard, c *server.Conn, m *clientMsg) error {
	topics := m.topicList()
	if err := g.checkTopics(topics); err != nil {
		return err
	}
	s := sh.conns[c]
	var gr *grant
	have := 0
	if s != nil {
		gr, have = s.grant, len(s.topics)
	}
	for _, t := range topics {
		if !gr.canSub(t) {
			return fmt.Errorf("not allowed to subscribe to %q", t)
		}
	}
	if have+len(topics) > g.cfg.MaxTopicsPerConn && have+g.newTopics(sh, c, topics) > g.cfg.MaxTopicsPerConn {
		return fmt.Errorf("at most %d topics per connection", g.cfg.MaxTopicsPerConn)
	}
	since, err := sinceFromMessage(m.Since, topics)
	if err != nil {
		return err
	}
	s = sh.session(c, true)
	ref := m.Ref
	sh.subscribeFrom(c, s, topics, since, func(res []topicResult) {
		g.replySubscribed(sh, c, topics, ref, res)
	})
	return nil
}

// replySubscribed answers a subscribe and delivers what its recovery
// found, in order, before any live message. recovered is set only when
// the request gave cursors: true when every one of them was honoured.
func (g *Gateway) replySubscribed(sh *shard, c *server.Conn, topics []string, ref json.RawMessage, res []topicResult) {
	r := &reply{Type: "subscribed", Topics: topics, Ref: ref}
	all := true
	for _, tr := range res {
		if !tr.asked {
			continue
		}
		all = all && tr.recovered
		if r.Positions == nil {
			r.Positions = make(map[string]positionJSON, len(res))
		}
		r.Positions[tr.topic] = positionJSON{Offset: tr.next.Offset, Epoch: tr.next.Epoch}
		if r.Recovered == nil {
			r.Recovered = new(bool)
		}
	}
	if r.Recovered != nil {
		*r.Recovered = all
	}
	g.reply(sh, c, r)
	for _, tr := range res {
		for _, m := range tr.out {
			sh.send(c, m)
		}
	}
}

// onUnsubscribe leaves the topics of m; topics not subscribed are ignored.
func (g *Gateway) onUnsubscribe(sh *shard, c *server.Conn, m *clientMsg) error {
	topics := m.topicList()
	if err := g.checkTopics(topics); err != nil {
		return err
	}
	if s := sh.conns[c]; s != nil {
		for _, t := range topics {
			sh.unsubscribeTopic(c, s, t)
		}
		sh.release(c, s)
	}
	g.reply(sh, c, &reply{Type: "unsubscribed", Topics: topics, Ref: m.Ref})
	return nil
}

// onPublish publishes m's data to its topics when the client may. The
// acknowledgement, sent only when the request has a ref, means the
// message was handed to every loop, not that it was delivered.
func (g *Gateway) onPublish(sh *shard, c *server.Conn, m *clientMsg) error {
	topics := m.topicList()
	if err := g.checkTopics(topics); err != nil {
		return err
	}
	var gr *grant
	if s := sh.conns[c]; s != nil {
		gr = s.grant
	}
	for _, t := range topics {
		if !gr.canPub(t, g.cfg.ClientPublish) {
			return pubRefused(gr, t)
		}
	}
	if len(m.Data) == 0 {
		return fmt.Errorf(`missing "data"`)
	}
	dup, err := g.publishFromClient(m.ID, topics, m.Data)
	if err != nil {
		return err
	}
	if len(m.Ref) > 0 || dup {
		g.reply(sh, c, &reply{Type: "published", Topics: topics, Ref: m.Ref, Duplicate: dup})
	}
	return nil
}

// pubRefused explains a refused publish with what would allow it: a
// client without a token needs the server to let anonymous clients
// publish (Config.ClientPublish, the command's --client-publish); a token
// holder needs the topic in its pub_topics claim.
func pubRefused(gr *grant, topic string) error {
	if gr == nil {
		return fmt.Errorf("not allowed to publish to %q: clients without a token may publish only when the server runs with --client-publish; or connect with a token whose pub_topics claim allows the topic", topic)
	}
	return fmt.Errorf("not allowed to publish to %q: the token's pub_topics claim does not allow it", topic)
}

// publishFromClient publishes without waiting, as a loop must: with an
// id it reports whether the id was already used (then nothing is sent).
func (g *Gateway) publishFromClient(id string, topics []string, data []byte) (dup bool, err error) {
	if id == "" || g.dedup == nil {
		_, err = g.dispatchMessages(topics, data, nil)
		return false, err
	}
	if len(id) > maxPublishID {
		return false, fmt.Errorf("id longer than %d bytes", maxPublishID)
	}
	e, first := g.dedup.claim(id, time.Now())
	if !first {
		g.duplicates.Add(1)
		return true, nil
	}
	// A done channel, so that an API retry of this id can wait for it.
	j, err := g.dispatchMessages(topics, data, make(chan struct{}))
	g.dedup.settle(e, j, err)
	return false, err
}

// fail answers a bad request with an error reply and closes the
// connection once it has failed MaxClientErrors times within
// clientErrorWindow.
func (g *Gateway) fail(sh *shard, c *server.Conn, ref json.RawMessage, msg string) {
	sh.stats.clientErrors.Add(1)
	g.reply(sh, c, &reply{Type: "error", Error: msg, Ref: ref})
	s := sh.session(c, true)
	if now := time.Now(); s.strikes == 0 || s.strikesLapsed(now) {
		s.strikes, s.struckAt = 0, uint32(now.Unix())
	}
	if s.strikes < 255 {
		s.strikes++
	}
	if int(s.strikes) >= g.cfg.MaxClientErrors {
		c.Close(ws.StatusPolicyViolation, "too many invalid messages")
	}
}

func (g *Gateway) reply(sh *shard, c *server.Conn, r *reply) {
	b, err := json.Marshal(r)
	if err != nil {
		// A ref that is not valid JSON cannot come out of Unmarshal;
		// answer without it rather than not at all.
		r.Ref = nil
		b, _ = json.Marshal(r)
	}
	sh.sendText(c, b)
}

// newTopics counts the distinct topics of a request that c is not yet
// subscribed to. It is quadratic in the request's length (bounded by
// MaxTopicsPerConn), so it runs only when a request could pass the limit.
func (g *Gateway) newTopics(sh *shard, c *server.Conn, topics []string) int {
	n := 0
	for i, t := range topics {
		if !sh.isSubscribed(c, t) && !contains(topics[:i], t) {
			n++
		}
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compactJSON validates one JSON value and returns it without
// insignificant whitespace.
func compactJSON(data []byte) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(data))
	if err := json.Compact(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
