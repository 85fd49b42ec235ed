package server

import (
	"github.com/gobwas/ws"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

// head joins request lines into a request head ending in a blank line.
func head(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n\r\n"
}

// TestUpgradeHTTPErrors sends one raw request per connection and checks
// the status of the answer, that it carries the headers the status calls
// for, and that the connection is closed after it.
func TestUpgradeHTTPErrors(t *testing.T) {
	const maxHeader = 1024
	var (
		host    = "Host: example.test"
		upgrade = "Upgrade: websocket"
		conn    = "Connection: Upgrade"
		key     = "Sec-WebSocket-Key: " + sampleKey
		version = "Sec-WebSocket-Version: 13"
		padding = "X-Padding: " + strings.Repeat("p", maxHeader)
	)
	cases := []struct {
		name    string
		request string
		status  int
		header  [2]string // a response header that must be present
	}{
		{"missing Host", head("GET /echo HTTP/1.1", upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"empty Host", head("GET /echo HTTP/1.1", "Host:", upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"two Hosts", head("GET /echo HTTP/1.1", host, host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"missing Upgrade", head("GET /echo HTTP/1.1", host, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"Upgrade to another protocol", head("GET /echo HTTP/1.1", host, "Upgrade: h2c", conn, key, version), http.StatusBadRequest, [2]string{}},
		{"missing Connection", head("GET /echo HTTP/1.1", host, upgrade, key, version), http.StatusBadRequest, [2]string{}},
		{"Connection without upgrade token", head("GET /echo HTTP/1.1", host, upgrade, "Connection: keep-alive", key, version), http.StatusBadRequest, [2]string{}},
		{"Connection token as substring only", head("GET /echo HTTP/1.1", host, upgrade, "Connection: upgraded", key, version), http.StatusBadRequest, [2]string{}},
		{"missing key", head("GET /echo HTTP/1.1", host, upgrade, conn, version), http.StatusBadRequest, [2]string{}},
		{"short key", head("GET /echo HTTP/1.1", host, upgrade, conn, "Sec-WebSocket-Key: dGhl", version), http.StatusBadRequest, [2]string{}},
		{"key not base64", head("GET /echo HTTP/1.1", host, upgrade, conn, "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==", version), http.StatusBadRequest, [2]string{}},
		{"key of 18 bytes", head("GET /echo HTTP/1.1", host, upgrade, conn, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAA", version), http.StatusBadRequest, [2]string{}},
		{"two keys", head("GET /echo HTTP/1.1", host, upgrade, conn, key, key, version), http.StatusBadRequest, [2]string{}},
		{"request line without version", head("GET /echo", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"request line with double space", head("GET  /echo HTTP/1.1", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"request line with extra field", head("GET /echo HTTP/1.1 x", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"bad protocol name", head("GET /echo HTTX/1.1", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"empty request line", head("", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"absolute-form target to an unknown path", head("GET http://example.test/nope HTTP/1.1", host, upgrade, conn, key, version), http.StatusNotFound, [2]string{}},
		{"absolute-form target with userinfo", head("GET http://u:p@example.test/echo HTTP/1.1", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"asterisk-form target", head("GET * HTTP/1.1", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"header without colon", head("GET /echo HTTP/1.1", host, "Bogus", upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"space before colon", head("GET /echo HTTP/1.1", "Host : example.test", upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"obsolete line folding", head("GET /echo HTTP/1.1", host, upgrade, conn, key, " folded", version), http.StatusBadRequest, [2]string{}},
		{"HTTP/1.0", head("GET /echo HTTP/1.0", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"HTTP/0.9", head("GET /echo HTTP/0.9", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"HTTP/2.0 in an HTTP/1 request line", head("GET /echo HTTP/2.0", host, upgrade, conn, key, version), http.StatusHTTPVersionNotSupported, [2]string{}},
		{"HTTP/9.9", head("GET /echo HTTP/9.9", host, upgrade, conn, key, version), http.StatusHTTPVersionNotSupported, [2]string{}},
		{"NUL in a header value", head("GET /echo HTTP/1.1", host, upgrade, conn, key, version, "X-Name: a\x00b"), http.StatusBadRequest, [2]string{}},
		{"NUL in the Host", head("GET /echo HTTP/1.1", "Host: example.test\x00.evil", upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"bare CR in a header value", head("GET /echo HTTP/1.1", host, upgrade, conn, key, version, "X-Name: a\rInjected: 1"), http.StatusBadRequest, [2]string{}},
		{"bare CR in the request line", head("GET /echo\r HTTP/1.1", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"escape character in a header value", head("GET /echo HTTP/1.1", host, upgrade, conn, key, version, "X-Name: \x1b[2J"), http.StatusBadRequest, [2]string{}},
		{"control character in a header name", head("GET /echo HTTP/1.1", host, upgrade, conn, key, version, "X-\x01: a"), http.StatusBadRequest, [2]string{}},
		{"control character in the target", head("GET /ec\x7fho HTTP/1.1", host, upgrade, conn, key, version), http.StatusBadRequest, [2]string{}},
		{"Transfer-Encoding", head("GET /echo HTTP/1.1", host, upgrade, conn, key, version, "Transfer-Encoding: chunked") + "0\r\n\r\n", http.StatusBadRequest, [2]string{}},
		{"Content-Length with a body", head("GET /echo HTTP/1.1", host, upgrade, conn, key, version, "Content-Length: 6") + "\x81\x80\x00\x00\x00\x00", http.StatusBadRequest, [2]string{}},
		{"malformed Content-Length", head("GET /echo HTTP/1.1", host, upgrade, conn, key, version, "Content-Length: six"), http.StatusBadRequest, [2]string{}},
		{"bare LF line endings", strings.ReplaceAll(head("GET /echo HTTP/1.1", host, upgrade, conn, key, version), "\r\n", "\n"), http.StatusBadRequest, [2]string{}},
		{"unknown path", head("GET /nope HTTP/1.1", host, upgrade, conn, key, version), http.StatusNotFound, [2]string{}},
		{"path with trailing slash", head("GET /echo/ HTTP/1.1", host, upgrade, conn, key, version), http.StatusNotFound, [2]string{}},
		{"path in another case", head("GET /ECHO HTTP/1.1", host, upgrade, conn, key, version), http.StatusNotFound, [2]string{}},
		{"POST", head("POST /echo HTTP/1.1", host, upgrade, conn, key, version, "Content-Length: 0"), http.StatusMethodNotAllowed, [2]string{"Allow", "GET"}},
		{"PUT to unknown path", head("PUT /nope HTTP/1.1", host, upgrade, conn, key, version), http.StatusMethodNotAllowed, [2]string{"Allow", "GET"}},
		{"version 8", head("GET /echo HTTP/1.1", host, upgrade, conn, key, "Sec-WebSocket-Version: 8"), http.StatusUpgradeRequired, [2]string{"Sec-WebSocket-Version", "13"}},
		{"missing version", head("GET /echo HTTP/1.1", host, upgrade, conn, key), http.StatusUpgradeRequired, [2]string{"Sec-WebSocket-Version", "13"}},
		{"complete head over limit", head("GET /echo HTTP/1.1", host, upgrade, conn, key, version, padding), http.StatusRequestHeaderFieldsTooLarge, [2]string{}},
		{"unfinished head over limit", "GET /echo HTTP/1.1\r\n" + host + "\r\n" + padding + "\r\n", http.StatusRequestHeaderFieldsTooLarge, [2]string{}},
	}
	srv := startServer(t, Config{MaxHeaderBytes: maxHeader})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, srv)
			c.write([]byte(tc.request))
			resp := c.expectStatus(tc.status)
			if name := tc.header[0]; name != "" {
				if got := resp.Header.Get(name); got != tc.header[1] {
					t.Fatalf("%s: %q, want %q", name, got, tc.header[1])
				}
			}
			if !resp.Close {
				t.Fatal("response does not say Connection: close")
			}
		})
	}
	waitFor(t, "all connections to close", ioTimeout, func() bool { return srv.Stats().Open == 0 })
	if st := srv.Stats(); st.Rejected != uint64(len(cases)) || st.Upgrades != 0 {
		t.Fatalf("Rejected = %d, Upgrades = %d; want %d, 0", st.Rejected, st.Upgrades, len(cases))
	}
}

// TestUpgradeAccepts checks requests that are unusual but valid.
func TestUpgradeAccepts(t *testing.T) {
	cases := []struct {
		name    string
		request string
	}{
		{"canonical", upgradeRequest("/echo", sampleKey)},
		{"lower-case names and mixed-case tokens", head("GET /echo HTTP/1.1", "host: example.test", "upgrade: WebSocket",
			"connection: keep-alive, Upgrade", "sec-websocket-key: "+sampleKey, "sec-websocket-version: 13")},
		{"upper-case names and tokens", head("GET /echo HTTP/1.1", "HOST: example.test", "UPGRADE: WEBSOCKET",
			"CONNECTION: UPGRADE", "SEC-WEBSOCKET-KEY: "+sampleKey, "SEC-WEBSOCKET-VERSION: 13")},
		{"token lists with spaces and tabs", head("GET /echo HTTP/1.1", "Host: example.test", "Upgrade: foo ,\twebsocket ",
			"Connection: keep-alive ,upgrade", "Sec-WebSocket-Key:"+sampleKey, "Sec-WebSocket-Version:\t13\t")},
		{"query string", upgradeRequest("/echo?room=1&x=%20", sampleKey)},
		{"empty query string", upgradeRequest("/echo?", sampleKey)},
		{"HTTP/1.2", strings.Replace(upgradeRequest("/echo", sampleKey), "HTTP/1.1", "HTTP/1.2", 1)},
		{"absolute-form target", strings.Replace(upgradeRequest("/echo", sampleKey), "/echo", "http://example.test/echo", 1)},
		{"absolute-form target with a query", strings.Replace(upgradeRequest("/echo", sampleKey), "/echo", "http://example.test:8080/echo?room=1", 1)},
		{"absolute-form target with the ws scheme", strings.Replace(upgradeRequest("/echo", sampleKey), "/echo", "ws://example.test/echo", 1)},
		{"Content-Length 0", head("GET /echo HTTP/1.1", "Host: example.test", "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Key: "+sampleKey, "Sec-WebSocket-Version: 13", "Content-Length: 0")},
		{"obs-text in a header value", head("GET /echo HTTP/1.1", "Host: example.test", "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Key: "+sampleKey, "Sec-WebSocket-Version: 13", "X-Name: caf\xc3\xa9")},
		{"extra headers", head("GET /echo HTTP/1.1", "Host: example.test", "Origin: http://example.test", "User-Agent: test",
			"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: "+sampleKey, "Sec-WebSocket-Version: 13",
			"Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Extensions: permessage-deflate")},
	}
	srv := startServer(t, Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, srv)
			c.write([]byte(tc.request))
			c.expectSwitching(sampleKey)
			c.send(true, 0x1, []byte("hi"))
			c.expectMessage(0x1, []byte("hi"))
		})
	}
}

// TestUpgradeOverMaxConns holds MaxConns connections; one more is answered
// 503 and closed at once, before it sends a byte (so idle TCP connections
// cannot pile up past the cap), and once a connection leaves there is
// room again.
func TestUpgradeOverMaxConns(t *testing.T) {
	const maxConns = 3
	srv := startServer(t, Config{MaxConns: maxConns})
	var held []*rawClient
	for range maxConns {
		held = append(held, upgradeRaw(t, srv, "/echo"))
	}
	c := dialRaw(t, srv)
	resp := c.expectStatus(http.StatusServiceUnavailable)
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	c.expectEOF()
	if st := srv.Stats(); st.Shed != 1 || st.MaxConns != maxConns {
		t.Fatalf("Shed = %d, MaxConns = %d; want 1 and %d", st.Shed, st.MaxConns, maxConns)
	}

	_ = held[0].conn.Close()
	waitFor(t, "a free slot", ioTimeout, func() bool { return srv.Stats().Open < maxConns })
	upgradeRaw(t, srv, "/echo")
	// The counter moves just after the 101 is written.
	waitFor(t, "the upgrade count", ioTimeout, func() bool { return srv.Stats().Upgrades == maxConns+1 })
	held[1].send(true, ws.OpText, []byte("still served"))
	held[1].expectMessage(ws.OpText, []byte("still served"))
}

// TestDefaultMaxConns checks that the zero Config caps connections below
// the descriptor limit, leaving the reserve and the accept slack.
func TestDefaultMaxConns(t *testing.T) {
	cases := []struct {
		name   string
		nofile uint64
		want   int
	}{
		{"kernel default", 1024, 1024 - 256 - 64},
		{"this host's limit", 20000, 20000 - 256 - 64},
		{"tuned host", 1 << 20, 1<<20 - 256 - 64},
		{"small limit", 512, 512 - 128 - 64},
		{"tiny limit", 16, 16 - 4 - 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := budgetFor(tc.nofile); got != tc.want {
				t.Fatalf("budgetFor(%d) = %d, want %d", tc.nofile, got, tc.want)
			}
		})
	}
	srv := startServer(t, Config{})
	if got := srv.Stats().MaxConns; got != DefaultMaxConns() || got <= 0 {
		t.Fatalf("MaxConns in force = %d, want DefaultMaxConns() = %d", got, DefaultMaxConns())
	}
}

// TestUpgradeHandshakeTimeout checks that a request not complete within
// HandshakeTimeout is answered 408, whether part of it arrived or none.
func TestUpgradeHandshakeTimeout(t *testing.T) {
	cases := []struct {
		name    string
		partial string
	}{
		{"nothing sent", ""},
		{"request line only", "GET /echo HTTP/1.1\r\n"},
		{"all but the blank line", strings.TrimSuffix(upgradeRequest("/echo", sampleKey), "\r\n")},
	}
	srv := startServer(t, Config{HandshakeTimeout: 200 * time.Millisecond})
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, srv)
			if tc.partial != "" {
				c.write([]byte(tc.partial))
			}
			c.expectStatus(http.StatusRequestTimeout)
			if got := srv.Stats().HandshakeTimeouts; got != uint64(i+1) {
				t.Fatalf("HandshakeTimeouts = %d, want %d", got, i+1)
			}
		})
	}
}

// TestUpgradeBareLFAnsweredAtOnce sends only a request line ending in a
// bare LF to a server whose handshake timeout is far longer than the
// client's patience: the answer must be 400 straight away, not the 408 of
// the timeout.
func TestUpgradeBareLFAnsweredAtOnce(t *testing.T) {
	cases := []struct {
		name    string
		partial string
	}{
		{"request line", "GET /echo HTTP/1.1\n"},
		{"header line", "GET /echo HTTP/1.1\r\nHost: example.test\n"},
		{"LF alone", "\n"},
	}
	srv := startServer(t, Config{HandshakeTimeout: time.Hour})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, srv)
			c.write([]byte(tc.partial))
			c.expectStatus(http.StatusBadRequest)
		})
	}
	if got := srv.Stats().HandshakeTimeouts; got != 0 {
		t.Fatalf("HandshakeTimeouts = %d, want 0", got)
	}
}

// TestUpgradeBodyNotReadAsFrames sends an upgrade request announcing a body
// that holds a valid masked text frame: the request is refused, and the
// body never reaches a handler as a message.
func TestUpgradeBodyNotReadAsFrames(t *testing.T) {
	srv := startServer(t, Config{})
	c := dialRaw(t, srv)
	body := c.frameBytes(true, 0x1, []byte("smuggled"))
	req := strings.TrimSuffix(upgradeRequest("/echo", sampleKey), "\r\n") +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	c.write(append([]byte(req), body...))
	c.expectStatus(http.StatusBadRequest)
	if st := srv.Stats(); st.Upgrades != 0 {
		t.Fatalf("Upgrades = %d, want 0", st.Upgrades)
	}
}
