package loadgen

import (
	"bytes"
	"strconv"
)

// Broadcast payloads. The publisher posts
//
//	{"topic":"T","data":{"seq":17,"ts":1795440000123456789,"pad":"xxxx"}}
//
// and a gateway delivers {"topic":"T","data":{...same...}, ...} to every
// subscriber, perhaps with fields of its own. Subscribers read seq and ts
// with a small scanner instead of a JSON decoder: it allocates nothing and
// looks at a few dozen bytes, because it runs once per delivery on the
// event loop.

// appendBroadcastBody appends the publish request body for message seq
// sent at ts (Unix ns) to b; topic is already JSON-encoded. The data
// object is padded with a string of 'x' to at least size bytes.
func appendBroadcastBody(b, topic []byte, seq uint64, ts int64, size int) []byte {
	b = append(b, `{"topic":`...)
	b = append(b, topic...)
	b = append(b, `,"data":`...)
	start := len(b)
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"pad":"`...)
	for n := size - (len(b) - start) - len(`"}`); n > 0; n-- {
		b = append(b, 'x')
	}
	b = append(b, `"}}`...)
	return b
}

// parseBroadcast finds the sequence number and send time in a delivered
// message. It looks inside the "data" member when there is one, so that
// fields the gateway adds around it (its own "ts", say) are not mistaken
// for the publisher's.
func parseBroadcast(p []byte) (seq uint64, ts int64, ok bool) {
	if i, found := jsonKey(p, "data"); found {
		p = p[i:]
	}
	i, found := jsonKey(p, "seq")
	if !found {
		return 0, 0, false
	}
	seq, ok = jsonUint(p[i:])
	if !ok {
		return 0, 0, false
	}
	i, found = jsonKey(p, "ts")
	if !found {
		return 0, 0, false
	}
	t, ok := jsonUint(p[i:])
	if !ok || t > 1<<63-1 {
		return 0, 0, false
	}
	return seq, int64(t), true
}

// jsonKey returns the offset just after `"key"` and its colon (and any
// blanks around it) in p, skipping occurrences that are not followed by a
// colon (a string value equal to key).
func jsonKey(p []byte, key string) (int, bool) {
	for off := 0; off < len(p); {
		i := bytes.Index(p[off:], []byte(key))
		if i < 0 {
			return 0, false
		}
		at := off + i
		off = at + len(key)
		if at == 0 || p[at-1] != '"' || off >= len(p) || p[off] != '"' {
			continue
		}
		j := skipBlanks(p, off+1)
		if j < len(p) && p[j] == ':' {
			return skipBlanks(p, j+1), true
		}
	}
	return 0, false
}

func skipBlanks(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// jsonUint parses the unsigned decimal integer at the start of p.
func jsonUint(p []byte) (uint64, bool) {
	var v uint64
	n := 0
	for ; n < len(p) && p[n] >= '0' && p[n] <= '9'; n++ {
		d := uint64(p[n] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, n > 0
}
