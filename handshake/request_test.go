package handshake

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
	if got := string(AppendAccept(nil, []byte(key))); got != want {
		t.Fatalf("accept for %q = %q, want %q", key, got, want)
	}
	resp := string(AppendSwitching(nil, []byte(key), "", nil))
	if !strings.Contains(resp, "\r\nSec-WebSocket-Accept: "+want+"\r\n") || !strings.HasSuffix(resp, "\r\n\r\n") {
		t.Fatalf("101 response %q lacks the accept header", resp)
	}
}

func TestAcceptKeyMatchesReference(t *testing.T) {
	for i := range 100 {
		key := newKey(t)
		if got, want := string(AppendAccept([]byte("x"), []byte(key))), "x"+acceptFor(key); got != want {
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
			if got := ValidKey([]byte(tc.key)); got != tc.ok {
				t.Fatalf("ValidKey(%q) = %v, want %v", tc.key, got, tc.ok)
			}
		})
	}
}

// headResult is everything ReadRequest returns, for comparing runs.
type headResult struct {
	req Request
	n   int
	err error
}

func readHeadWhole(b []byte, limit int) headResult {
	scan := 0
	req, n, err := ReadRequest(b, limit, &scan)
	return headResult{req, n, err}
}

// readHeadSplit feeds b[:k] first and, if that needs more input, all of b
// with the same scan state, as the server does when a request arrives in
// two reads.
func readHeadSplit(b []byte, limit, k int) headResult {
	scan := 0
	req, n, err := ReadRequest(b[:k], limit, &scan)
	if err == io.ErrShortBuffer {
		req, n, err = ReadRequest(b, limit, &scan)
	}
	return headResult{req, n, err}
}

// readHeadBytewise feeds b one more byte at a time.
func readHeadBytewise(b []byte, limit int) headResult {
	scan := 0
	for k := 0; k < len(b); k++ {
		if req, n, err := ReadRequest(b[:k], limit, &scan); err != io.ErrShortBuffer {
			return headResult{req, n, err}
		}
		if scan < 0 || scan > k {
			return headResult{err: errors.New("scan state out of range")}
		}
	}
	req, n, err := ReadRequest(b, limit, &scan)
	return headResult{req, n, err}
}

func sameHead(a, b headResult) bool {
	return a.n == b.n && a.err == b.err && reflect.DeepEqual(a.req, b.req)
}

// checkStrictHead checks that an accepted head has CRLF line endings only
// and no control characters but tab.
func checkStrictHead(t *testing.T, h []byte) {
	t.Helper()
	for i, c := range h {
		switch {
		case c == '\n' && (i == 0 || h[i-1] != '\r'):
			t.Fatalf("head %q with a bare LF at %d accepted", h, i)
		case c == '\r' && (i+1 == len(h) || h[i+1] != '\n'):
			t.Fatalf("head %q with a bare CR at %d accepted", h, i)
		case c != '\r' && c != '\n' && c != '\t' && (c < ' ' || c == 0x7f):
			t.Fatalf("head %q with control character %#x at %d accepted", h, c, i)
		}
	}
}

// checkHeadResult checks what must hold for any ReadRequest result.
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
		if len(r.req.Method) == 0 || len(r.req.Path) == 0 || r.req.Path[0] != '/' {
			t.Fatalf("parsed request %+v has no method or path", r.req)
		}
		checkStrictHead(t, b[:r.n])
		_ = r.req.Check()
	case *Error:
		if r.n != 0 {
			t.Fatalf("error %v with n = %d", err, r.n)
		}
		if err.Status < 400 || err.Status > 599 {
			t.Fatalf("error status %d", err.Status)
		}
	default:
		if r.err != io.ErrShortBuffer {
			t.Fatalf("unexpected error %v", r.err)
		}
		if len(b) > limit || bytes.Contains(b, []byte("\r\n\r\n")) || bytes.Contains(b, []byte("\n\n")) {
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
		"GET /echo HTTP/1.1\r\nHost: x\nUpgrade: websocket\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\rUpgrade: websocket\r\n\r\n",
		"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n",
		"GET http://x/echo?a=1 HTTP/1.1\r\nHost: y\r\n\r\n",
		"GET ws://x HTTP/1.1\r\nHost: y\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		"GET /e\x01cho HTTP/1.1\r\nHost: x\r\n\r\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint16(i*7), uint16(1024))
		f.Add([]byte(s), uint16(len(s)/2), uint16(len(s)-1))
	}
	f.Fuzz(func(t *testing.T, b []byte, split, limit16 uint16) {
		limit := int(limit16)%(64<<10) + 1
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

// TestReadRequest checks what ReadRequest and Check answer for whole
// requests, and what they record for good ones.
func TestReadRequest(t *testing.T) {
	var (
		host    = "Host: example.test"
		upgrade = "Upgrade: websocket"
		conn    = "Connection: Upgrade"
		key     = "Sec-WebSocket-Key: " + sampleKey
		version = "Sec-WebSocket-Version: 13"
	)
	valid := func(first string, more ...string) string {
		return head(append([]string{first, host, upgrade, conn, key, version}, more...)...)
	}
	cases := []struct {
		name    string
		request string
		err     *Error // from ReadRequest or, if it succeeds, Check
		path    string
		query   string
		host    string
	}{
		{"origin-form", valid("GET /ws?a=1 HTTP/1.1"), nil, "/ws", "a=1", "example.test"},
		{"HTTP/1.2 is handled as 1.1", valid("GET /ws HTTP/1.2"), nil, "/ws", "", "example.test"},
		{"absolute-form", valid("GET http://proxy.test:8080/ws?x HTTP/1.1"), nil, "/ws", "x", "proxy.test:8080"},
		{"absolute-form with ws scheme", valid("GET wss://proxy.test/ws HTTP/1.1"), nil, "/ws", "", "proxy.test"},
		{"absolute-form in capitals", valid("GET HTTP://proxy.test/ws HTTP/1.1"), nil, "/ws", "", "proxy.test"},
		{"absolute-form without a path", valid("GET http://proxy.test HTTP/1.1"), nil, "/", "", "proxy.test"},
		{"absolute-form with only a query", valid("GET http://proxy.test?x=1 HTTP/1.1"), nil, "/", "x=1", "proxy.test"},
		{"Content-Length 0", valid("GET /ws HTTP/1.1", "Content-Length: 0"), nil, "/ws", "", "example.test"},
		{"obs-text in a value", valid("GET /ws HTTP/1.1", "X-Name: caf\xc3\xa9"), nil, "/ws", "", "example.test"},
		{"tab in a value", valid("GET /ws HTTP/1.1", "X-Name: a\tb"), nil, "/ws", "", "example.test"},

		{"HTTP/1.0", valid("GET /ws HTTP/1.0"), ErrHTTPVersion, "", "", ""},
		{"HTTP/0.9", valid("GET /ws HTTP/0.9"), ErrHTTPVersion, "", "", ""},
		{"HTTP/2.0", valid("GET /ws HTTP/2.0"), ErrHTTPVersion2, "", "", ""},
		{"HTTP/9.9", valid("GET /ws HTTP/9.9"), ErrHTTPVersion2, "", "", ""},
		{"HTTP/2 without minor", valid("GET /ws HTTP/2"), ErrBadRequestLine, "", "", ""},
		{"NUL in a value", valid("GET /ws HTTP/1.1", "X-Name: a\x00b"), ErrControlChar, "", "", ""},
		{"bare CR in a value", valid("GET /ws HTTP/1.1", "X-Name: a\rb"), ErrControlChar, "", "", ""},
		{"CR before CRLF", valid("GET /ws HTTP/1.1", "X-Name: a\r"), ErrControlChar, "", "", ""},
		{"escape in a value", valid("GET /ws HTTP/1.1", "X-Name: \x1b[2J"), ErrControlChar, "", "", ""},
		{"DEL in a value", valid("GET /ws HTTP/1.1", "X-Name: \x7f"), ErrControlChar, "", "", ""},
		{"NUL in a name", valid("GET /ws HTTP/1.1", "X-\x00Name: a"), ErrControlChar, "", "", ""},
		{"NUL in the Host", head("GET /ws HTTP/1.1", "Host: exa\x00mple.test", upgrade, conn, key, version), ErrControlChar, "", "", ""},
		{"control character in the target", valid("GET /w\x01s HTTP/1.1"), ErrControlChar, "", "", ""},
		{"bare CR in the request line", valid("GET /ws\r HTTP/1.1"), ErrControlChar, "", "", ""},
		{"bare LF line endings", strings.ReplaceAll(valid("GET /ws HTTP/1.1"), "\r\n", "\n"), ErrBareLF, "", "", ""},
		{"one bare LF", strings.Replace(valid("GET /ws HTTP/1.1"), "\r\nUpgrade", "\nUpgrade", 1), ErrBareLF, "", "", ""},
		{"LF first", "\n" + valid("GET /ws HTTP/1.1"), ErrBareLF, "", "", ""},
		{"Transfer-Encoding", valid("GET /ws HTTP/1.1", "Transfer-Encoding: chunked"), ErrBody, "", "", ""},
		{"Transfer-Encoding identity", valid("GET /ws HTTP/1.1", "Transfer-Encoding: identity"), ErrBody, "", "", ""},
		{"Content-Length 5", valid("GET /ws HTTP/1.1", "Content-Length: 5"), ErrBody, "", "", ""},
		{"Content-Length 00", valid("GET /ws HTTP/1.1", "Content-Length: 00"), nil, "/ws", "", "example.test"},
		{"Content-Length 0 and 1", valid("GET /ws HTTP/1.1", "Content-Length: 0", "Content-Length: 1"), ErrBody, "", "", ""},
		{"Content-Length not a number", valid("GET /ws HTTP/1.1", "Content-Length: -1"), ErrBadHeader, "", "", ""},
		{"Content-Length empty", valid("GET /ws HTTP/1.1", "Content-Length:"), ErrBadHeader, "", "", ""},
		{"absolute-form with userinfo", valid("GET http://u@proxy.test/ws HTTP/1.1"), ErrBadTarget, "", "", ""},
		{"absolute-form without authority", valid("GET http:///ws HTTP/1.1"), ErrBadTarget, "", "", ""},
		{"absolute-form of another scheme", valid("GET ftp://proxy.test/ws HTTP/1.1"), ErrBadTarget, "", "", ""},
		{"asterisk-form", valid("GET * HTTP/1.1"), ErrBadTarget, "", "", ""},
		{"authority-form", valid("GET proxy.test:80 HTTP/1.1"), ErrBadTarget, "", "", ""},
		{"fragment", valid("GET /ws#top HTTP/1.1"), ErrBadTarget, "", "", ""},
		{"absolute-form still needs a Host header", head("GET http://proxy.test/ws HTTP/1.1", upgrade, conn, key, version), ErrNoHost, "", "", ""},
		{"two Hosts", valid("GET /ws HTTP/1.1", host), ErrNoHost, "", "", ""},
		{"no Upgrade", head("GET /ws HTTP/1.1", host, conn, key, version), ErrNotUpgrade, "", "", ""},
		{"version 8", head("GET /ws HTTP/1.1", host, upgrade, conn, key, "Sec-WebSocket-Version: 8"), ErrWebSocketVer, "", "", ""},
		{"bad key", head("GET /ws HTTP/1.1", host, upgrade, conn, "Sec-WebSocket-Key: x", version), ErrKey, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.request + "\x81\x80frame")
			scan := 0
			req, n, err := ReadRequest(b, 4096, &scan)
			if err == nil {
				if n != len(tc.request) {
					t.Fatalf("head of %d bytes, want %d", n, len(tc.request))
				}
				if herr := req.Check(); herr != nil {
					err = herr
				}
			}
			if tc.err != nil {
				if err != tc.err {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if string(req.Path) != tc.path || string(req.Query) != tc.query || string(req.Host) != tc.host {
				t.Fatalf("path %q query %q host %q; want %q %q %q", req.Path, req.Query, req.Host, tc.path, tc.query, tc.host)
			}
		})
	}
}

// TestBareLFAnsweredAtOnce checks that a head with a bare LF is refused as
// soon as the LF arrives, not when the head would be complete.
func TestBareLFAnsweredAtOnce(t *testing.T) {
	scan := 0
	b := []byte("GET /ws HTTP/1.1\n")
	if _, _, err := ReadRequest(b[:len(b)-1], 1024, &scan); err != ErrShortBuffer {
		t.Fatalf("before the LF: %v, want ErrShortBuffer", err)
	}
	if _, _, err := ReadRequest(b, 1024, &scan); err != ErrBareLF {
		t.Fatalf("at the LF: %v, want ErrBareLF", err)
	}
}

func TestAppendError(t *testing.T) {
	got := string(AppendError(nil, ErrWebSocketVer))
	want := "HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: 34\r\nSec-WebSocket-Version: 13\r\n\r\nunsupported Sec-WebSocket-Version\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
