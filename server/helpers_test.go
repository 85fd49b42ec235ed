package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// ioTimeout bounds every blocking read or write a test does, so that a
// broken server fails the test instead of hanging it. It is a safety net,
// not an expectation about speed.
const ioTimeout = 20 * time.Second

// startServer runs a server with cfg on a free loopback port and stops it
// when the test ends. Without routes it mounts Echo on /echo, which most
// tests talk to. (servertest offers the same to other packages; tests
// inside package server cannot import it without a cycle.)
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Routes == nil {
		cfg.Routes = map[string]Handler{"/echo": Echo{}}
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case <-srv.Ready():
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	case <-time.After(ioTimeout):
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		_ = srv.Close()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(ioTimeout):
			t.Error("Serve did not return after Close")
		}
	})
	return srv
}

// waitFor polls cond until it holds, failing the test if it does not
// within timeout. The timeout only guards against a hang.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// wsURL is the ws:// URL of path on srv.
func wsURL(srv *Server, path string) string {
	return "ws://" + srv.Addr().String() + path
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
// defines it, independently of the server's code.
func acceptFor(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// upgradeRequest is a minimal valid upgrade request for path.
func upgradeRequest(path, key string) string {
	return "GET " + path + " HTTP/1.1\r\n" +
		"Host: example.test\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"\r\n"
}

// rawClient is a hand-driven WebSocket client on a plain TCP connection,
// for sending what well-behaved libraries never send.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	mask [4]byte
}

// dialRaw opens a TCP connection to srv; it is closed when the test ends.
func dialRaw(t *testing.T, srv *Server) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr().String(), ioTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	return &rawClient{t: t, conn: conn, br: bufio.NewReader(conn), mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}
}

// upgradeRaw dials srv and completes an upgrade on path.
func upgradeRaw(t *testing.T, srv *Server, path string) *rawClient {
	t.Helper()
	c := dialRaw(t, srv)
	key := newKey(t)
	c.write([]byte(upgradeRequest(path, key)))
	c.expectSwitching(key)
	return c
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// readResponse reads an HTTP response head (and body) from the server.
func (c *rawClient) readResponse() *http.Response {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp
}

// expectSwitching reads the 101 response and checks its headers.
func (c *rawClient) expectSwitching(key string) {
	c.t.Helper()
	resp := c.readResponse()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("status %d %q, want 101", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Upgrade"); !strings.EqualFold(got, "websocket") {
		c.t.Fatalf("Upgrade: %q", got)
	}
	if got := resp.Header.Get("Connection"); !strings.EqualFold(got, "upgrade") {
		c.t.Fatalf("Connection: %q", got)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptFor(key); got != want {
		c.t.Fatalf("Sec-WebSocket-Accept: %q, want %q", got, want)
	}
}

// expectStatus reads an HTTP error response, checks its status, and checks
// that the server then closes the connection.
func (c *rawClient) expectStatus(status int) *http.Response {
	c.t.Helper()
	resp := c.readResponse()
	if resp.StatusCode != status {
		body, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("status %d %q, want %d", resp.StatusCode, body, status)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	c.expectEOF()
	return resp
}

// frameBytes encodes one masked client frame.
func (c *rawClient) frameBytes(fin bool, op ws.OpCode, payload []byte) []byte {
	return frame.AppendMaskedFrame(nil, fin, op, c.mask, payload)
}

// send writes one masked frame.
func (c *rawClient) send(fin bool, op ws.OpCode, payload []byte) {
	c.t.Helper()
	c.write(c.frameBytes(fin, op, payload))
}

// readFrame reads one server frame, checking that it is a valid frame for
// a server to send.
func (c *rawClient) readFrame() (ws.Header, []byte) {
	c.t.Helper()
	h, p, err := c.tryReadFrame()
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return h, p
}

func (c *rawClient) tryReadFrame() (ws.Header, []byte, error) {
	hdr := make([]byte, 0, frame.MaxHeaderSize)
	for {
		h, n, err := frame.ParseHeader(hdr)
		if err == nil {
			if n != len(hdr) {
				return h, nil, fmt.Errorf("header parsed in %d of %d bytes", n, len(hdr))
			}
			if err := frame.CheckServer(h, 0); err != nil {
				return h, nil, fmt.Errorf("invalid server frame %+v: %w", h, err)
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(c.br, p); err != nil {
				return h, nil, fmt.Errorf("payload: %w", err)
			}
			return h, p, nil
		}
		if err != frame.ErrShortBuffer {
			return h, nil, err
		}
		b, err := c.br.ReadByte()
		if err != nil {
			return h, nil, err
		}
		hdr = append(hdr, b)
	}
}

// expectMessage reads one single-frame message and checks it.
func (c *rawClient) expectMessage(op ws.OpCode, payload []byte) {
	c.t.Helper()
	h, p := c.readFrame()
	if !h.Fin || h.OpCode != op || !bytes.Equal(p, payload) {
		c.t.Fatalf("got frame fin=%v op=%v %d bytes %q, want op=%v %d bytes %q",
			h.Fin, h.OpCode, len(p), truncate(p), op, len(payload), truncate(payload))
	}
}

// expectClose reads frames until a close frame, checks its code, and checks
// that the server then closes the TCP connection.
func (c *rawClient) expectClose(code ws.StatusCode) {
	c.t.Helper()
	for {
		h, p := c.readFrame()
		if h.OpCode != ws.OpClose {
			continue
		}
		got, _, err := frame.ParseClose(p)
		if err != nil {
			c.t.Fatalf("close payload % x: %v", p, err)
		}
		if got != code {
			c.t.Fatalf("close code %d (%q), want %d", got, p[min(2, len(p)):], code)
		}
		c.expectEOF()
		return
	}
}

// expectEOF checks that the server closes the connection with nothing
// more to read.
func (c *rawClient) expectEOF() {
	c.t.Helper()
	b, err := c.br.ReadByte()
	if err == nil {
		c.t.Fatalf("read byte %#x, want EOF", b)
	}
	if !errors.Is(err, io.EOF) {
		c.t.Fatalf("read: %v, want EOF", err)
	}
}

// isConnReset reports whether err is the peer resetting the connection,
// which is how a closed socket answers a client that keeps writing.
func isConnReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func truncate(p []byte) []byte {
	if len(p) > 32 {
		return p[:32]
	}
	return p
}

// echoRoutes mounts Echo on /echo.
func echoRoutes() map[string]Handler { return map[string]Handler{"/echo": Echo{}} }

// expectEOFAfterData reads whatever the server had queued until it closes
// the connection.
func (c *rawClient) expectEOFAfterData() {
	c.t.Helper()
	if _, err := io.Copy(io.Discard, c.br); err != nil && !isConnReset(err) {
		c.t.Fatalf("read until close: %v", err)
	}
}
