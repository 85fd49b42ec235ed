package server

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// TestAcceptKeyRFCExample checks the worked example of RFC 6455 §1.3.
func TestAcceptKeyRFCExample(t *testing.T) {
	const key, want = "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	if got := string(appendAccept(nil, []byte(key))); got != want {
		t.Fatalf("accept for %q = %q, want %q", key, got, want)
	}
	resp := string(appendSwitching(nil, []byte(key), "", nil))
	if !strings.Contains(resp, "\r\nSec-WebSocket-Accept: "+want+"\r\n") || !strings.HasSuffix(resp, "\r\n\r\n") {
		t.Fatalf("101 response %q lacks the accept header", resp)
	}
}

func TestAcceptKeyMatchesReference(t *testing.T) {
	for i := range 100 {
		key := newKey(t)
		if got, want := string(appendAccept([]byte("x"), []byte(key))), "x"+acceptFor(key); got != want {
			t.Fatalf("key %d %q: accept %q, want %q", i, key, got, want)
		}
	}
}

func TestValidKey(t *testing.T) {
	cases := []struct {
		name string
		key  string
		ok   bool
	}{
		{"rfc example", sampleKey, true},
		{"all zero bytes", "AAAAAAAAAAAAAAAAAAAAAA==", true},
		{"empty", "", false},
		{"short", "dGhl", false},
		{"no padding", "AAAAAAAAAAAAAAAAAAAAAAAA", false},
		{"one padding", "AAAAAAAAAAAAAAAAAAAAAAA=", false},
		{"too long", "AAAAAAAAAAAAAAAAAAAAAAAAAA==", false},
		{"not base64", "!!!!!!!!!!!!!!!!!!!!!!==", false},
		{"url alphabet", "-_AAAAAAAAAAAAAAAAAAAA==", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := validKey([]byte(tc.key)); got != tc.ok {
				t.Fatalf("validKey(%q) = %v, want %v", tc.key, got, tc.ok)
			}
		})
	}
}

// headResult is everything readHead returns, for comparing runs.
type headResult struct {
	req request
	n   int
	err error
}

func readHeadWhole(b []byte, limit int) headResult {
	scan := 0
	req, n, err := readHead(b, limit, &scan)
	return headResult{req, n, err}
}

// readHeadSplit feeds b[:k] first and, if that needs more input, all of b
// with the same scan state, as the server does when a request arrives in
// two reads.
func readHeadSplit(b []byte, limit, k int) headResult {
	scan := 0
	req, n, err := readHead(b[:k], limit, &scan)
	if err == io.ErrShortBuffer {
		req, n, err = readHead(b, limit, &scan)
	}
	return headResult{req, n, err}
}

// readHeadBytewise feeds b one more byte at a time.
func readHeadBytewise(b []byte, limit int) headResult {
	scan := 0
	for k := 0; k < len(b); k++ {
		if req, n, err := readHead(b[:k], limit, &scan); err != io.ErrShortBuffer {
			return headResult{req, n, err}
		}
		if scan < 0 || scan > k {
			return headResult{err: errors.New("scan state out of range")}
		}
	}
	req, n, err := readHead(b, limit, &scan)
	return headResult{req, n, err}
}

func sameHead(a, b headResult) bool {
	return a.n == b.n && a.err == b.err && reflect.DeepEqual(a.req, b.req)
}

// checkHeadResult checks what must hold for any readHead result.
func checkHeadResult(t *testing.T, b []byte, limit int, r headResult) {
	t.Helper()
	switch err := r.err.(type) {
	case nil:
		if r.n <= 0 || r.n > len(b) || r.n > limit || !bytes.HasSuffix(b[:r.n], []byte("\r\n\r\n")) {
			t.Fatalf("head of %d bytes (limit %d) in %d bytes of input", r.n, limit, len(b))
		}
		if bytes.Contains(b[:r.n-2], []byte("\r\n\r\n")) {
			t.Fatal("head extends past the first blank line")
		}
		if len(r.req.method) == 0 || len(r.req.path) == 0 || r.req.path[0] != '/' {
			t.Fatalf("parsed request %+v has no method or path", r.req)
		}
		_ = checkUpgrade(&r.req)
	case *httpError:
		if r.n != 0 {
			t.Fatalf("error %v with n = %d", err, r.n)
		}
		if err.status < 400 || err.status > 599 {
			t.Fatalf("error status %d", err.status)
		}
	default:
		if r.err != io.ErrShortBuffer {
			t.Fatalf("unexpected error %v", r.err)
		}
		if len(b) > limit || bytes.Contains(b, []byte("\r\n\r\n")) {
			t.Fatalf("need more input for %d bytes (limit %d)", len(b), limit)
		}
	}
}

// FuzzReadHead feeds each input whole, split at a chosen point, and one
// byte at a time: all must give the same answer, and none may panic.
func FuzzReadHead(f *testing.F) {
	valid := upgradeRequest("/echo", sampleKey)
	seeds := []string{
		valid,
		valid + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", // a frame pipelined behind the head
		upgradeRequest("/echo?room=1", sampleKey),
		head("GET /echo HTTP/1.1", "host: x", "upgrade: WebSocket", "connection: keep-alive, Upgrade",
			"sec-websocket-key: "+sampleKey, "sec-websocket-version: 13"),
		head("GET /echo HTTP/1.1", "Host: x", "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Key: "+sampleKey, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: chat, superchat",
			"Sec-WebSocket-Extensions: permessage-deflate", "Origin: http://x"),
		head("GET /echo HTTP/1.0", "Host: x"),
		head("POST /echo HTTP/1.1", "Host: x"),
		head("GET /echo", "Host: x"),
		head("GET  /echo HTTP/1.1", "Host: x"),
		head("GET http://x/echo HTTP/1.1", "Host: x"),
		head("GET /echo HTTP/1.1", "Host : x"),
		head("GET /echo HTTP/1.1", "Host: x", " folded"),
		head("GET /echo HTTP/1.1", "NoColon"),
		head("GET /echo HTTP/1.1", ": empty name"),
		head("", "Host: x"),
		"\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\n\r",
		"GET /echo HTTP/1.1\nHost: x\n\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n\r\n",
		"GET /echo HTTP/1.1\r\nX: " + strings.Repeat("a", 1100) + "\r\n\r\n",
		"GET /echo HTTP/9.9\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: \x00\xff\r\n\r\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint16(i*7), uint16(1024))
		f.Add([]byte(s), uint16(len(s)/2), uint16(len(s)-1))
	}
	f.Fuzz(func(t *testing.T, b []byte, split, limit16 uint16) {
		limit := int(limit16)%maxHeaderBytesLimit + 1
		k := int(split) % (len(b) + 1)

		whole := readHeadWhole(b, limit)
		checkHeadResult(t, b, limit, whole)
		if split := readHeadSplit(b, limit, k); !sameHead(whole, split) {
			t.Fatalf("split at %d: %+v; whole: %+v", k, split, whole)
		}
		if bytewise := readHeadBytewise(b, limit); !sameHead(whole, bytewise) {
			t.Fatalf("bytewise: %+v; whole: %+v", bytewise, whole)
		}
	})
}
