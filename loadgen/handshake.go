package loadgen

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
)

// maxResponseHead bounds the HTTP response head we are willing to buffer
// while waiting for its end.
const maxResponseHead = 8 << 10

// websocketGUID is the constant of RFC 6455 §1.3.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

var (
	errResponseTooLong = errors.New("HTTP response head too long")
	errBadStatusLine   = errors.New("malformed HTTP status line")
	errBadAccept       = errors.New("Sec-WebSocket-Accept missing or wrong")
	errBadUpgrade      = errors.New("101 response without Upgrade: websocket")
)

// requestTemplate is a target's upgrade request split around the key, built
// once per target so each connection only appends.
type requestTemplate struct {
	prefix []byte
	suffix []byte
}

func newRequestTemplate(t target) requestTemplate {
	return requestTemplate{
		prefix: []byte("GET " + t.path + " HTTP/1.1\r\n" +
			"Host: " + t.host + "\r\n" +
			"User-Agent: myriad-loadgen\r\n" +
			"Upgrade: websocket\r\n" +
			"Connection: Upgrade\r\n" +
			"Sec-WebSocket-Version: 13\r\n" +
			"Sec-WebSocket-Key: "),
		suffix: []byte("\r\n\r\n"),
	}
}

// appendRequest appends the upgrade request with the given key.
func (rt requestTemplate) appendRequest(dst []byte, key *[24]byte) []byte {
	dst = append(dst, rt.prefix...)
	dst = append(dst, key[:]...)
	return append(dst, rt.suffix...)
}

// handshakeKey derives a connection's Sec-WebSocket-Key from the run's seed
// and the connection id. Deriving it, instead of storing 24 random bytes
// per connection, keeps the Conn small; the key only has to differ between
// connections, not be secret.
func handshakeKey(seed, id uint64) (key [24]byte) {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], splitmix(seed^id))
	binary.LittleEndian.PutUint64(raw[8:], splitmix(seed+id*0x9e3779b97f4a7c15))
	base64.StdEncoding.Encode(key[:], raw[:])
	return key
}

// acceptFor computes Sec-WebSocket-Accept for key.
func acceptFor(key *[24]byte) (accept [28]byte) {
	var in [24 + len(websocketGUID)]byte
	copy(in[:], key[:])
	copy(in[24:], websocketGUID)
	sum := sha1.Sum(in[:])
	base64.StdEncoding.Encode(accept[:], sum[:])
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
// a 101 must carry Upgrade: websocket and the expected accept value.
func parseResponse(b []byte, accept *[28]byte) (n, status int, err error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > maxResponseHead {
			return 0, 0, errResponseTooLong
		}
		return 0, 0, io.ErrShortBuffer
	}
	n = end + 4
	head := b[:end]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	// "HTTP/1.1 101 Switching Protocols"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return n, 0, errBadStatusLine
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return n, 0, errBadStatusLine
		}
		status = status*10 + int(d-'0')
	}
	if len(line) > 12 && line[12] != ' ' {
		return n, 0, errBadStatusLine
	}
	if status != 101 {
		return n, status, nil
	}
	var gotAccept, gotUpgrade bool
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(bytes.TrimSpace(name), []byte("Sec-WebSocket-Accept")):
			gotAccept = bytes.Equal(value, accept[:])
		case bytes.EqualFold(bytes.TrimSpace(name), []byte("Upgrade")):
			gotUpgrade = bytes.EqualFold(value, []byte("websocket"))
		}
	}
	switch {
	case !gotUpgrade:
		return n, status, errBadUpgrade
	case !gotAccept:
		return n, status, errBadAccept
	}
	return n, status, nil
}
