package servertest

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
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// Client is a hand-driven WebSocket client on a plain TCP connection. It
// writes masked frames of any shape and reads server frames one by one,
// checking that each is a valid frame for a server to send.
type Client struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
	mask [4]byte
}

// DialTCP opens a TCP connection to addr without upgrading it; the test
// drives the handshake with Write and ReadResponse. It is closed when the
// test ends.
func DialTCP(t testing.TB, addr string) *Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, IOTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(IOTimeout))
	return &Client{t: t, conn: conn, br: bufio.NewReader(conn), mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}
}

// Dial opens a TCP connection to addr and completes a WebSocket upgrade on
// path (which may carry a query), checking the 101 and its accept key.
func Dial(t testing.TB, addr, path string) *Client {
	t.Helper()
	c := DialTCP(t, addr)
	key := NewKey(t)
	c.Write([]byte(UpgradeRequest(path, key)))
	c.ExpectSwitching(key)
	return c
}

// ExpectSwitching reads the answer to an upgrade request made with key and
// checks that it is a 101 with the right headers.
func (c *Client) ExpectSwitching(key string) {
	c.t.Helper()
	resp := c.ReadResponse()
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
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), AcceptFor(key); got != want {
		c.t.Fatalf("Sec-WebSocket-Accept: %q, want %q", got, want)
	}
}

// NewKey returns a fresh Sec-WebSocket-Key.
func NewKey(t testing.TB) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// AcceptFor computes Sec-WebSocket-Accept for key as RFC 6455 §4.2.2
// defines it, independently of the server's code.
func AcceptFor(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// UpgradeRequest is a minimal valid upgrade request for path.
func UpgradeRequest(path, key string) string {
	return "GET " + path + " HTTP/1.1\r\n" +
		"Host: example.test\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"\r\n"
}

// Conn returns the underlying TCP connection.
func (c *Client) Conn() net.Conn { return c.conn }

// Write writes raw bytes.
func (c *Client) Write(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// ReadResponse reads an HTTP response head, and the body of a non-101.
func (c *Client) ReadResponse() *http.Response {
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

// Send writes one masked frame.
func (c *Client) Send(fin bool, op ws.OpCode, payload []byte) {
	c.t.Helper()
	c.Write(frame.AppendMaskedFrame(nil, fin, op, c.mask, payload))
}

// ReadFrame reads one server frame, failing the test on any error.
func (c *Client) ReadFrame() (ws.Header, []byte) {
	c.t.Helper()
	h, p, err := c.TryReadFrame()
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return h, p
}

// TryReadFrame reads one server frame and returns what went wrong
// instead of failing the test: io.EOF once the server has closed.
func (c *Client) TryReadFrame() (ws.Header, []byte, error) {
	hdr := make([]byte, 0, frame.MaxHeaderSize)
	for {
		h, n, err := frame.ParseHeader(hdr)
		if err == nil {
			if n != len(hdr) {
				return h, nil, fmt.Errorf("header parsed in %d of %d bytes", n, len(hdr))
			}
			if err := frame.CheckServer(h, ws.Rsv(true, false, false)); err != nil {
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

// ExpectMessage reads one single-frame message and checks it.
func (c *Client) ExpectMessage(op ws.OpCode, payload []byte) {
	c.t.Helper()
	h, p := c.ReadFrame()
	if !h.Fin || h.OpCode != op || !bytes.Equal(p, payload) {
		c.t.Fatalf("got frame fin=%v op=%v %d bytes, want op=%v %d bytes", h.Fin, h.OpCode, len(p), op, len(payload))
	}
}

// ExpectClose reads frames until a close frame, checks its code, and
// checks that the server then closes the TCP connection.
func (c *Client) ExpectClose(code ws.StatusCode) {
	c.t.Helper()
	for {
		h, p := c.ReadFrame()
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
		c.ExpectEOF()
		return
	}
}

// ExpectEOF checks that the server closes the connection with nothing
// more to read.
func (c *Client) ExpectEOF() {
	c.t.Helper()
	b, err := c.br.ReadByte()
	if err == nil {
		c.t.Fatalf("read byte %#x, want EOF", b)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		c.t.Fatalf("read: %v, want EOF", err)
	}
}
