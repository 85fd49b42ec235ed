package server

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
)

// The permessage-deflate interop tests: gorilla/websocket and
// coder/websocket compress what they send and inflate what they receive,
// so an echo that comes back intact proves both directions. The server's
// counters prove that compression was really used.

// compressedConfig is a server with permessage-deflate on. The small
// threshold makes the server compress even short messages.
func compressedConfig() Config {
	return Config{Compression: true, CompressionMinSize: 16}
}

// compressibleCases are messages that deflate shrinks (text, repeated
// binary) and one it cannot (random binary, which the server sends back
// uncompressed), around the frame length encodings and up to MaxMessage.
func compressibleCases() []struct {
	name string
	text bool
	data []byte
} {
	return []struct {
		name string
		text bool
		data []byte
	}{
		{"text 20", true, textPayload(20)},
		{"text 126", true, textPayload(126)},
		{"text 64KiB", true, textPayload(64 << 10)},
		{"text 1MiB", true, textPayload(1 << 20)},
		{"binary repeated 100KiB", false, bytes.Repeat([]byte{0, 1, 2, 3, 250}, 20<<10)},
		{"binary random 1MiB", false, binaryPayload(1<<20, 11)},
		{"empty text", true, nil},
	}
}

// waitCompressed waits until the server has counted at least in and out
// compressed messages (the counters move just after the frames do).
func waitCompressed(t *testing.T, srv *Server, in, out uint64) {
	t.Helper()
	waitFor(t, "the compression counters", ioTimeout, func() bool {
		st := srv.Stats()
		return st.CompressedIn >= in && st.CompressedOut >= out
	})
}

func TestGorillaCompressedEcho(t *testing.T) {
	srv := startServer(t, compressedConfig())
	d := &gorilla.Dialer{EnableCompression: true, HandshakeTimeout: ioTimeout}
	c, resp, err := d.Dial(wsURL(srv, "/echo"), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if got := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(got, "permessage-deflate") {
		t.Fatalf("Sec-WebSocket-Extensions: %q, want permessage-deflate", got)
	}
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
	c.SetCompressionLevel(6)
	for _, tc := range compressibleCases() {
		t.Run(tc.name, func(t *testing.T) {
			typ := gorilla.BinaryMessage
			if tc.text {
				typ = gorilla.TextMessage
			}
			if err := c.WriteMessage(typ, tc.data); err != nil {
				t.Fatalf("write: %v", err)
			}
			gotType, got, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if gotType != typ || !bytes.Equal(got, tc.data) {
				t.Fatalf("echo: type %d, %d bytes; want type %d, %d bytes", gotType, len(got), typ, len(tc.data))
			}
		})
	}
	// Every message gorilla sent was compressed; the server compressed
	// the compressible ones of at least CompressionMinSize bytes back.
	waitCompressed(t, srv, uint64(len(compressibleCases())), 4)
}

// TestGorillaCompressedFragmented writes compressed messages through a
// 1 KiB write buffer: gorilla sends each as RSV1 on the first frame and
// continuation frames after it.
func TestGorillaCompressedFragmented(t *testing.T) {
	srv := startServer(t, compressedConfig())
	d := &gorilla.Dialer{EnableCompression: true, WriteBufferSize: 1024, HandshakeTimeout: ioTimeout}
	c, _, err := d.Dial(wsURL(srv, "/echo"), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
	cases := []struct {
		name string
		typ  int
		data []byte
	}{
		{"text", gorilla.TextMessage, textPayload(256 << 10)},
		{"binary", gorilla.BinaryMessage, binaryPayload(64<<10, 12)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			echoFragmented(t, c, tc.typ, tc.data)
		})
	}
	waitCompressed(t, srv, 2, 1)
}

func TestGorillaCompressedClose(t *testing.T) {
	srv := startServer(t, compressedConfig())
	d := &gorilla.Dialer{EnableCompression: true, HandshakeTimeout: ioTimeout}
	c, _, err := d.Dial(wsURL(srv, "/echo"), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	if err := c.WriteMessage(gorilla.TextMessage, textPayload(1000)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if _, _, err := c.ReadMessage(); err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(4002, "done"), time.Now().Add(ioTimeout)); err != nil {
		t.Fatalf("close: %v", err)
	}
	_, _, err = c.ReadMessage()
	var ce *gorilla.CloseError
	if !errors.As(err, &ce) || ce.Code != 4002 {
		t.Fatalf("read after close: %v, want close 4002", err)
	}
	waitFor(t, "the server to drop the connection", ioTimeout, func() bool { return srv.Stats().Open == 0 })
}

// TestGorillaCompressionOff checks that a server without Compression
// declines gorilla's offer and still talks to it.
func TestGorillaCompressionOff(t *testing.T) {
	srv := startServer(t, Config{})
	d := &gorilla.Dialer{EnableCompression: true, HandshakeTimeout: ioTimeout}
	c, resp, err := d.Dial(wsURL(srv, "/echo"), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != "" {
		t.Fatalf("Sec-WebSocket-Extensions: %q, want none", got)
	}
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	want := textPayload(4096)
	if err := c.WriteMessage(gorilla.TextMessage, want); err != nil {
		t.Fatalf("write: %v", err)
	}
	if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("echo: %d bytes, %v", len(got), err)
	}
	if st := srv.Stats(); st.CompressedIn != 0 || st.CompressedOut != 0 {
		t.Fatalf("compressed messages in %d, out %d; want none", st.CompressedIn, st.CompressedOut)
	}
}

// TestCoderCompressed runs coder/websocket in both of its compression
// modes. In context-takeover mode coder offers plain permessage-deflate;
// the server's client_no_context_takeover makes it compress each message
// on its own, which the echo of several similar messages exercises.
func TestCoderCompressed(t *testing.T) {
	modes := []struct {
		name string
		mode coder.CompressionMode
	}{
		{"no context takeover", coder.CompressionNoContextTakeover},
		{"context takeover offered", coder.CompressionContextTakeover},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := startServer(t, compressedConfig())
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			defer cancel()
			c, resp, err := coder.Dial(ctx, wsURL(srv, "/echo"), &coder.DialOptions{
				CompressionMode:      m.mode,
				CompressionThreshold: 1,
			})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.CloseNow()
			got := resp.Header.Get("Sec-WebSocket-Extensions")
			if got != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
				t.Fatalf("Sec-WebSocket-Extensions: %q", got)
			}
			c.SetReadLimit(2 << 20)

			for _, tc := range compressibleCases() {
				typ := coder.MessageBinary
				if tc.text {
					typ = coder.MessageText
				}
				if err := c.Write(ctx, typ, tc.data); err != nil {
					t.Fatalf("%s: write: %v", tc.name, err)
				}
				gotType, got, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("%s: read: %v", tc.name, err)
				}
				if gotType != typ || !bytes.Equal(got, tc.data) {
					t.Fatalf("%s: echo: type %v, %d bytes; want %v, %d bytes", tc.name, gotType, len(got), typ, len(tc.data))
				}
			}

			// A fragmented compressed message: one frame per Write.
			want := textPayload(100 << 10)
			w, err := c.Writer(ctx, coder.MessageText)
			if err != nil {
				t.Fatalf("Writer: %v", err)
			}
			for rest := want; len(rest) > 0; {
				n := min(len(rest), 1001)
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatalf("write: %v", err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatalf("close writer: %v", err)
			}
			if _, got, err := c.Read(ctx); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("fragmented echo: %d bytes, %v", len(got), err)
			}

			waitCompressed(t, srv, 4, 4)
			// coder's Close returns nil only if the server echoes 4003.
			if err := c.Close(4003, "bye"); err != nil {
				t.Fatalf("Close(4003): %v", err)
			}
			waitFor(t, "the server to drop the connection", ioTimeout, func() bool { return srv.Stats().Open == 0 })
		})
	}
}
