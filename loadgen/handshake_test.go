package loadgen

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/myriadws/myriad/handshake"
)

func TestAcceptKnownVector(t *testing.T) {
	// RFC 6455 §1.3.
	var key [24]byte
	copy(key[:], "dGhlIHNhbXBsZSBub25jZQ==")
	if got := acceptFor(&key); string(got[:]) != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("accept = %s", got)
	}
}

func TestHandshakeKeysDiffer(t *testing.T) {
	seen := map[[24]byte]bool{}
	for id := uint64(0); id < 1000; id++ {
		k := handshakeKey(42, id)
		if seen[k] {
			t.Fatalf("key for id %d repeats", id)
		}
		seen[k] = true
	}
}

func TestParseResponse(t *testing.T) {
	var key [24]byte
	copy(key[:], "dGhlIHNhbXBsZSBub25jZQ==")
	accept := acceptFor(&key)
	const good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	const noConnection = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	tests := []struct {
		name   string
		in     string
		status int
		err    error
	}{
		{name: "101 with frames after it", in: good + "\x81\x02hi", status: 101},
		{name: "header names in any case", in: "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: upgrade\r\nsec-websocket-accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", status: 101},
		{name: "503", in: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", status: 503},
		{name: "status without reason", in: "HTTP/1.1 404\r\n\r\n", status: 404},
		{name: "wrong accept", in: strings.Replace(good, "s3pP", "AAAA", 1), status: 101, err: errBadAccept},
		{name: "no accept", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", status: 101, err: errBadAccept},
		{name: "no upgrade", in: "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", status: 101, err: errBadUpgrade},
		{name: "no Connection", in: noConnection, status: 101, err: errBadUpgrade},
		{name: "extension not offered", in: strings.Replace(good, "\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", 1), status: 101, err: handshake.ErrExtension},
		{name: "not HTTP", in: "SSH-2.0-OpenSSH_9.6\r\n\r\n", err: errBadStatusLine},
		{name: "letters in status", in: "HTTP/1.1 1O1 Switching\r\n\r\n", err: errBadStatusLine},
		{name: "endless head", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", handshake.MaxResponseHead), err: errResponseTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			n, status, err := parseResponse(in, &accept)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && status != tc.status {
				t.Fatalf("status = %d, want %d", status, tc.status)
			}
			if err == nil {
				if end := strings.Index(tc.in, "\r\n\r\n") + 4; n != end {
					t.Fatalf("consumed %d, want %d", n, end)
				}
			}
			if tc.err == errResponseTooLong {
				return
			}
			// Every strict prefix of the head asks for more.
			end := strings.Index(tc.in, "\r\n\r\n") + 4
			for i := 0; i < end; i++ {
				if _, _, err := parseResponse(in[:i], &accept); !errors.Is(err, io.ErrShortBuffer) {
					t.Fatalf("prefix of %d bytes: err = %v, want short buffer", i, err)
				}
			}
		})
	}
}
