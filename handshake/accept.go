package handshake

import (
	"crypto/sha1"
	"encoding/base64"
)

// GUID is the fixed string of RFC 6455 §1.3 that the accept key is derived
// from.
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// KeyLen and AcceptLen are the lengths of a Sec-WebSocket-Key (base64 of 16
// bytes) and of a Sec-WebSocket-Accept (base64 of a SHA-1 sum).
const (
	KeyLen    = 24
	AcceptLen = 28
)

// ValidKey reports whether k is a Sec-WebSocket-Key: base64 of exactly 16
// bytes (RFC 6455 §4.1).
func ValidKey(k []byte) bool {
	if len(k) != KeyLen || k[22] != '=' || k[23] != '=' {
		return false
	}
	var dst [18]byte
	n, err := base64.StdEncoding.Decode(dst[:], k)
	return err == nil && n == 16
}

// AppendAccept appends the Sec-WebSocket-Accept value for key to dst: base64
// of SHA-1 of the key and GUID. It does not allocate when dst has room and
// the key is no longer than 64 bytes (a valid key has KeyLen); checking
// the key is the caller's business (ValidKey).
func AppendAccept(dst, key []byte) []byte {
	var buf [64 + len(GUID)]byte
	in := buf[:0]
	if len(key) > 64 {
		in = make([]byte, 0, len(key)+len(GUID))
	}
	in = append(append(in, key...), GUID...)
	sum := sha1.Sum(in)
	var out [AcceptLen]byte
	base64.StdEncoding.Encode(out[:], sum[:])
	return append(dst, out[:]...)
}
