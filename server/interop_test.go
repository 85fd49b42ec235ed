package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
)

// These tests dial the server with two independent client libraries, so a
// mistake shared by our server and our own test code cannot hide.

// interopSizes are payload sizes around the frame length encodings: empty,
// the largest 7-bit length, the smallest 16-bit one, a 64-bit one, and the
// default MaxMessage.
var interopSizes = []int{0, 125, 126, 64 << 10, 1 << 20}

// textPayload returns n bytes of valid UTF-8 mixing 1- to 4-byte runes, so
// that frame and read boundaries fall inside runes.
func textPayload(n int) []byte {
	const runes = "aé€😀"
	b := make([]byte, 0, n)
	for len(b) < n {
		for _, r := range runes {
			s := string(r)
			if len(b)+len(s) > n {
				s = strings.Repeat("z", n-len(b))
			}
			b = append(b, s...)
			if len(b) == n {
				break
			}
		}
	}
	return b
}

func binaryPayload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

type payloadCase struct {
	name   string
	text   bool
	length int
}

func payloadCases() []payloadCase {
	var cases []payloadCase
	for _, n := range interopSizes {
		cases = append(cases,
			payloadCase{fmt.Sprintf("text %d", n), true, n},
			payloadCase{fmt.Sprintf("binary %d", n), false, n})
	}
	return cases
}

func (pc payloadCase) payload() []byte {
	if pc.text {
		return textPayload(pc.length)
	}
	return binaryPayload(pc.length, uint64(pc.length))
}

func dialGorilla(t *testing.T, srv *Server, d *gorilla.Dialer) *gorilla.Conn {
	t.Helper()
	if d == nil {
		d = &gorilla.Dialer{}
	}
	d.HandshakeTimeout = ioTimeout
	c, resp, err := d.Dial(wsURL(srv, "/echo"), nil)
	if err != nil {
		t.Fatalf("gorilla dial: %v", err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
	return c
}

func dialCoder(t *testing.T, srv *Server) (*coder.Conn, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	t.Cleanup(cancel)
	c, resp, err := coder.Dial(ctx, wsURL(srv, "/echo"), nil)
	if err != nil {
		t.Fatalf("coder dial: %v", err)
	}
	if resp.Body != nil {
		_ = resp.Body.Close()
	}
	c.SetReadLimit(2 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c, ctx
}

func TestGorillaEcho(t *testing.T) {
	srv := startServer(t, Config{})
	c := dialGorilla(t, srv, nil)
	for _, tc := range payloadCases() {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.payload()
			typ := gorilla.BinaryMessage
			if tc.text {
				typ = gorilla.TextMessage
			}
			if err := c.WriteMessage(typ, want); err != nil {
				t.Fatalf("write: %v", err)
			}
			gotType, got, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if gotType != typ || !bytes.Equal(got, want) {
				t.Fatalf("echo: type %d, %d bytes; want type %d, %d bytes", gotType, len(got), typ, len(want))
			}
		})
	}
}

func TestCoderEcho(t *testing.T) {
	srv := startServer(t, Config{})
	c, ctx := dialCoder(t, srv)
	for _, tc := range payloadCases() {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.payload()
			typ := coder.MessageBinary
			if tc.text {
				typ = coder.MessageText
			}
			if err := c.Write(ctx, typ, want); err != nil {
				t.Fatalf("write: %v", err)
			}
			gotType, got, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if gotType != typ || !bytes.Equal(got, want) {
				t.Fatalf("echo: type %v, %d bytes; want type %v, %d bytes", gotType, len(got), typ, len(want))
			}
		})
	}
}

// TestGorillaFragmented sends 64 KiB messages through a writer with a
// 1 KiB buffer, which gorilla flushes as one frame per buffer, written in
// odd-sized pieces; text runes straddle the frame boundaries.
func TestGorillaFragmented(t *testing.T) {
	srv := startServer(t, Config{})
	c := dialGorilla(t, srv, &gorilla.Dialer{WriteBufferSize: 1024})
	cases := []struct {
		name string
		typ  int
		data []byte
	}{
		{"text", gorilla.TextMessage, textPayload(64 << 10)},
		{"binary", gorilla.BinaryMessage, binaryPayload(64<<10, 7)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			echoFragmented(t, c, tc.typ, tc.data)
		})
	}
}

// TestCoderFragmented sends messages with coder's Writer, which writes
// one frame per Write and an empty final frame on Close.
func TestCoderFragmented(t *testing.T) {
	srv := startServer(t, Config{})
	c, ctx := dialCoder(t, srv)
	cases := []struct {
		name string
		typ  coder.MessageType
		data []byte
	}{
		{"text", coder.MessageText, textPayload(64 << 10)},
		{"binary", coder.MessageBinary, binaryPayload(64<<10, 8)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := c.Writer(ctx, tc.typ)
			if err != nil {
				t.Fatalf("Writer: %v", err)
			}
			for rest := tc.data; len(rest) > 0; {
				n := min(len(rest), 1001)
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatalf("write: %v", err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatalf("close writer: %v", err)
			}
			typ, got, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if typ != tc.typ || !bytes.Equal(got, tc.data) {
				t.Fatalf("echo: type %v, %d bytes; want type %v, %d bytes", typ, len(got), tc.typ, len(tc.data))
			}
		})
	}
}

func TestGorillaPing(t *testing.T) {
	srv := startServer(t, Config{})
	c := dialGorilla(t, srv, nil)
	pongs := make(chan string, 4)
	c.SetPongHandler(func(appData string) error {
		pongs <- appData
		return nil
	})
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	cases := []struct {
		name    string
		payload string
	}{
		{"empty", ""},
		{"short", "hello ping"},
		{"125 bytes", strings.Repeat("p", 125)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.WriteControl(gorilla.PingMessage, []byte(tc.payload), time.Now().Add(ioTimeout)); err != nil {
				t.Fatalf("ping: %v", err)
			}
			select {
			case got := <-pongs:
				if got != tc.payload {
					t.Fatalf("pong payload %q, want %q", got, tc.payload)
				}
			case err := <-readErr:
				t.Fatalf("read: %v", err)
			case <-time.After(ioTimeout):
				t.Fatal("no pong")
			}
		})
	}
}

// TestCoderPing uses coder's Ping, which sends a random payload and waits
// for the pong that carries the same one.
func TestCoderPing(t *testing.T) {
	srv := startServer(t, Config{})
	c, ctx := dialCoder(t, srv)
	ctx = c.CloseRead(ctx)
	for i := range 3 {
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
	}
}

func TestGorillaCloseCodeEchoed(t *testing.T) {
	cases := []struct {
		name string
		code int
	}{
		{"normal", gorilla.CloseNormalClosure},
		{"going away", gorilla.CloseGoingAway},
		{"application 4001", 4001},
	}
	srv := startServer(t, Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialGorilla(t, srv, nil)
			msg := gorilla.FormatCloseMessage(tc.code, "bye")
			if err := c.WriteControl(gorilla.CloseMessage, msg, time.Now().Add(ioTimeout)); err != nil {
				t.Fatalf("close: %v", err)
			}
			_, _, err := c.ReadMessage()
			var ce *gorilla.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("read after close: %v, want a close error", err)
			}
			if ce.Code != tc.code {
				t.Fatalf("server closed with %d, want %d", ce.Code, tc.code)
			}
			// The server closes the TCP connection after its close frame.
			if _, err := c.NetConn().Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("read after close frame: %v, want EOF", err)
			}
		})
	}
}

// TestCoderCloseCodeEchoed relies on coder's Close, which returns nil only
// when the peer's close frame carries the code it sent.
func TestCoderCloseCodeEchoed(t *testing.T) {
	srv := startServer(t, Config{})
	c, _ := dialCoder(t, srv)
	if err := c.Close(4001, "bye"); err != nil {
		t.Fatalf("Close(4001): %v", err)
	}
	waitFor(t, "the server to drop the connection", ioTimeout, func() bool { return srv.Stats().Open == 0 })
}

// echoFragmented sends data as one message through gorilla's NextWriter in
// 777-byte writes, so a small write buffer flushes it as several frames with
// runes straddling their boundaries, and checks that it comes back whole.
func echoFragmented(t *testing.T, c *gorilla.Conn, typ int, data []byte) {
	t.Helper()
	w, err := c.NextWriter(typ)
	if err != nil {
		t.Fatalf("NextWriter: %v", err)
	}
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 777)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatalf("write: %v", err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close writer: %v", err)
	}
	gotTyp, got, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if gotTyp != typ || !bytes.Equal(got, data) {
		t.Fatalf("echo: type %d, %d bytes; want type %d, %d bytes", gotTyp, len(got), typ, len(data))
	}
}
