package loadgen

import (
	"encoding/base64"
	"encoding/binary"

	"github.com/myriadws/myriad/handshake"
)

// The client half of the upgrade is package handshake's; what is the load
// generator's own is how keys are derived and that requests are built once
// per target.

// websocketGUID is the constant of RFC 6455 §1.3.
const websocketGUID = handshake.GUID

// The ways a 101 can be wrong, for the tests and the cause classifier.
var (
	errResponseTooLong = handshake.ErrResponseTooLong
	errBadStatusLine   = handshake.ErrStatusLine
	errBadAccept       = handshake.ErrAccept
	errBadUpgrade      = handshake.ErrUpgrade
)

// requestTemplate is a target's upgrade request split around the key, built
// once per target so each connection only appends. It offers no extension
// and no subprotocol, so a 101 that accepts one fails the connection. For
// an SSE target it is instead the whole plain GET, which has no key.
type requestTemplate struct {
	t   handshake.RequestTemplate
	sse []byte
}

func newRequestTemplate(t target) requestTemplate {
	if t.sse {
		return requestTemplate{sse: []byte("GET " + t.path + " HTTP/1.1\r\nHost: " + t.host +
			"\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nUser-Agent: myriad-loadgen\r\n\r\n")}
	}
	return requestTemplate{t: handshake.NewRequestTemplate(t.host, t.path, handshake.Offer{}, "User-Agent: myriad-loadgen\r\n")}
}

// appendRequest appends the upgrade request with the given key (unused for
// an SSE GET).
func (rt *requestTemplate) appendRequest(dst []byte, key *[24]byte) []byte {
	if rt.sse != nil {
		return append(dst, rt.sse...)
	}
	return rt.t.Append(dst, key[:])
}

// handshakeKey derives a connection's Sec-WebSocket-Key from the run's seed
// and the connection id. Deriving it, instead of storing 24 random bytes
// per connection, keeps the Conn small; the key only has to differ between
// connections, not be secret.
func handshakeKey(seed, id uint64) (key [handshake.KeyLen]byte) {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], splitmix(seed^id))
	binary.LittleEndian.PutUint64(raw[8:], splitmix(seed+id*0x9e3779b97f4a7c15))
	base64.StdEncoding.Encode(key[:], raw[:])
	return key
}

// acceptFor computes Sec-WebSocket-Accept for key.
func acceptFor(key *[handshake.KeyLen]byte) (accept [handshake.AcceptLen]byte) {
	handshake.AppendAccept(accept[:0], key[:])
	return accept
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// parseResponse parses the HTTP response head at the start of b. It returns
// the head's length and status code. It returns io.ErrShortBuffer while the
// head is incomplete, so it can be called again as bytes arrive. A status
// other than 101 is returned with a nil error for the caller to classify;
// a 101 must carry Upgrade: websocket, Connection: upgrade and the expected
// accept value, and no extension or subprotocol.
func parseResponse(b []byte, accept *[handshake.AcceptLen]byte) (n, status int, err error) {
	resp, n, err := handshake.ReadResponse(b, accept[:], nil)
	if err != nil {
		return 0, 0, err
	}
	return n, resp.Status, nil
}
