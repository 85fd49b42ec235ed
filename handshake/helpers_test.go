package handshake

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"strings"
	"testing"
)

// sampleKey is the key of the worked example in RFC 6455 §1.3.
const sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

// head joins request lines into a request head ending in a blank line.
func head(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n\r\n"
}

// upgradeRequest is a minimal valid upgrade request for target.
func upgradeRequest(target, key string) string {
	return head("GET "+target+" HTTP/1.1", "Host: example.test", "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Key: "+key, "Sec-WebSocket-Version: 13")
}

// newKey returns a fresh Sec-WebSocket-Key.
func newKey(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// acceptFor computes Sec-WebSocket-Accept for key as RFC 6455 §4.2.2
// defines it, independently of the package's code.
func acceptFor(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}
