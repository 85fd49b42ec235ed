package loadgen

import "bytes"

// Gateway messages, read with the same allocation-free scanner as
// broadcast payloads (bcastpayload.go), because they are read once per
// delivery on the event loop. Only what the reconnect scenario needs is
// read:
//
//	{"type":"message","topic":"t","offset":42,"epoch":"k3x9q1","data":{...}}
//	{"type":"subscribed","topics":["t"],"recovered":true,"positions":{"t":{"offset":44,"epoch":"k3x9q1"}}}
//
// The gateway writes its own members before "data", so members are looked
// up only in front of it: the publisher's data cannot be mistaken for them.

// gwKind is the type of a gateway message.
type gwKind uint8

const (
	gwOther gwKind = iota
	gwMessage
	gwSubscribed
)

// gwMsg is what the scanner read; epoch aliases the input.
type gwMsg struct {
	kind      gwKind
	offset    uint64 // message: its offset; subscribed: the position's
	epoch     []byte
	hasPos    bool // offset and epoch were found
	recovered bool // subscribed: "recovered":true
}

// parseGateway reads a gateway message.
func parseGateway(p []byte) gwMsg {
	var m gwMsg
	head := p
	if i, found := jsonKey(p, "data"); found {
		head = p[:i]
	}
	i, found := jsonKey(head, "type")
	if !found {
		return m
	}
	switch t := head[i:]; {
	case bytes.HasPrefix(t, []byte(`"message"`)):
		m.kind = gwMessage
	case bytes.HasPrefix(t, []byte(`"subscribed"`)):
		m.kind = gwSubscribed
		if j, ok := jsonKey(head, "recovered"); ok {
			m.recovered = bytes.HasPrefix(head[j:], []byte("true"))
		}
		j, ok := jsonKey(head, "positions")
		if !ok {
			return m
		}
		head = head[j:]
	default:
		return m
	}
	j, ok := jsonKey(head, "offset")
	if !ok {
		return m
	}
	if m.offset, ok = jsonUint(head[j:]); !ok {
		return m
	}
	j, ok = jsonKey(head, "epoch")
	if !ok || j >= len(head) || head[j] != '"' {
		return m
	}
	e := head[j+1:]
	end := bytes.IndexByte(e, '"')
	if end <= 0 {
		return m
	}
	m.epoch, m.hasPos = e[:end], true
	return m
}
