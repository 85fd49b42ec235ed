package gateway

import (
	"encoding/json"
	"strconv"
	"sync"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server"
)

// message is one published message of one topic as the loops deliver it:
// encoded once as a WebSocket frame, whose payload is also the data line
// of an SSE event and an item of a long poll's answer. It is immutable
// and shared read-only by every loop.
type message struct {
	topic string
	data  []byte           // compact JSON
	pos   history.Position // zero when history is off
	frame *server.PreparedFrame
}

// newMessage encodes {"type":"message","topic":..,"offset":..,
// "epoch":..,"data":..}; offset and epoch only when pos has an epoch.
// Topic names need no JSON escaping (see checkTopic), epochs are checked
// by validEpoch where they come from clients and are made of base-36
// digits by the stores; data is compact JSON.
func newMessage(topic string, data []byte, pos history.Position) *message {
	const pre, mid = `{"type":"message","topic":"`, `","data":`
	b := make([]byte, 0, len(pre)+len(topic)+len(mid)+len(data)+48+len(pos.Epoch))
	b = append(b, pre...)
	b = append(b, topic...)
	if pos.Epoch != "" {
		b = append(b, `","offset":`...)
		b = strconv.AppendUint(b, pos.Offset, 10)
		b = append(b, `,"epoch":`...)
		eb, _ := json.Marshal(pos.Epoch)
		b = append(b, eb...)
		b = append(b, `,"data":`...)
	} else {
		b = append(b, mid...)
	}
	b = append(b, data...)
	b = append(b, '}')
	return &message{topic: topic, data: data, pos: pos, frame: server.Prepare(ws.OpText, b)}
}

// json returns the message's JSON object, shared: not to be modified.
func (m *message) json() []byte { return m.frame.Payload() }

// encodeMessage prepares a message frame without history position.
func encodeMessage(topic string, data []byte) *server.PreparedFrame {
	return newMessage(topic, data, history.Position{}).frame
}

// lazyMessage is one topic's message of a publish, built by the first
// loop that has a subscriber of the topic when the publish runs there, and
// shared read-only by every loop after that: a topic nobody subscribes to
// costs no frame, while a subscription made before the publish reaches a
// loop (a URL topic, subscribed in OnOpen just after the 101) still
// receives it, in the loop's order.
type lazyMessage struct {
	topic string
	data  []byte // compact JSON, shared by the topics of the publish
	pos   history.Position
	once  sync.Once
	m     *message
}

// get returns the message, building it (and counting it) on first use.
// Any goroutine may call it.
func (l *lazyMessage) get(g *Gateway) *message {
	l.once.Do(func() {
		l.m = newMessage(l.topic, l.data, l.pos)
		g.encoded.Add(1)
		g.encodedBytes.Add(uint64(len(l.m.json())))
	})
	return l.m
}
