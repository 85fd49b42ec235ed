package server

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// TestRawByteAtATime sends the upgrade request and then frames one byte
// per write: every parser on the way must resume where it stopped.
func TestRawByteAtATime(t *testing.T) {
	srv := startServer(t, Config{})
	c := dialRaw(t, srv)
	key := newKey(t)
	for _, b := range []byte(upgradeRequest("/echo", key)) {
		c.write([]byte{b})
	}
	c.expectSwitching(key)
	cases := []struct {
		name    string
		op      ws.OpCode
		payload []byte
	}{
		{"short text", ws.OpText, []byte("hello, κόσμε")},
		{"16-bit length binary", ws.OpBinary, binaryPayload(300, 1)},
		{"64-bit length text", ws.OpText, textPayload(70 << 10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wire := c.frameBytes(true, tc.op, tc.payload)
			step := 1
			if len(wire) > 4096 {
				// Bytewise through the header and the start of the
				// payload, then in larger pieces to keep the test short.
				step = 0
			}
			for i := 0; i < len(wire); {
				n := step
				if n == 0 {
					n = 1
					if i >= 64 {
						n = 997
					}
				}
				n = min(n, len(wire)-i)
				c.write(wire[i : i+n])
				i += n
			}
			c.expectMessage(tc.op, tc.payload)
		})
	}
}

// TestRawPipelined sends the request and three frames in one write: the
// frames behind the request head must not be lost.
func TestRawPipelined(t *testing.T) {
	srv := startServer(t, Config{})
	c := dialRaw(t, srv)
	key := newKey(t)
	msgs := []struct {
		op      ws.OpCode
		payload []byte
	}{
		{ws.OpText, []byte("one")},
		{ws.OpBinary, binaryPayload(126, 2)},
		{ws.OpText, []byte("three")},
	}
	wire := []byte(upgradeRequest("/echo", key))
	for _, m := range msgs {
		wire = append(wire, c.frameBytes(true, m.op, m.payload)...)
	}
	c.write(wire)
	c.expectSwitching(key)
	for _, m := range msgs {
		c.expectMessage(m.op, m.payload)
	}
}

// TestRawManyFragments sends a message as 1,000 fragments of one byte,
// with a ping between two of them, in a single write.
func TestRawManyFragments(t *testing.T) {
	srv := startServer(t, Config{})
	c := upgradeRaw(t, srv, "/echo")
	const n = 1000
	var wire, want []byte
	for i := range n {
		op := ws.OpContinuation
		if i == 0 {
			op = ws.OpText
		}
		b := []byte{'a' + byte(i%26)}
		want = append(want, b...)
		wire = append(wire, c.frameBytes(i == n-1, op, b)...)
		if i == n/2 {
			wire = append(wire, c.frameBytes(true, ws.OpPing, []byte("mid"))...)
		}
	}
	c.write(wire)
	c.expectMessage(ws.OpPong, []byte("mid"))
	c.expectMessage(ws.OpText, want)
	waitFor(t, "the message count", ioTimeout, func() bool { return srv.Stats().MessagesIn == 1 })
}

func TestRawPing(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"text", []byte("are you there?")},
		{"binary 125", binaryPayload(125, 3)},
	}
	srv := startServer(t, Config{})
	c := upgradeRaw(t, srv, "/echo")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.send(true, ws.OpPing, tc.payload)
			c.expectMessage(ws.OpPong, tc.payload)
		})
	}
}

// TestRawCloseEcho checks that a valid close is answered with the same
// code and the TCP connection is then closed.
func TestRawCloseEcho(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		want    []byte // close payload the server sends back
	}{
		{"no payload", nil, nil},
		{"normal", closeBody(1000, "done"), closeBody(1000, "")},
		{"application code", closeBody(4001, "bye"), closeBody(4001, "")},
	}
	srv := startServer(t, Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := upgradeRaw(t, srv, "/echo")
			c.send(true, ws.OpClose, tc.payload)
			c.expectMessage(ws.OpClose, tc.want)
			c.expectEOF()
		})
	}
}

func closeBody(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// rawHeader builds a frame header by hand, for lengths and flags that
// frame.AppendHeader would not produce.
func rawHeader(b0 byte, masked bool, length uint64) []byte {
	var b1 byte
	if masked {
		b1 = 0x80
	}
	h := []byte{b0}
	switch {
	case length > 0xffff:
		h = append(h, b1|127)
		h = binary.BigEndian.AppendUint64(h, length)
	case length > 125:
		h = append(h, b1|126)
		h = binary.BigEndian.AppendUint16(h, uint16(length))
	default:
		h = append(h, b1|byte(length))
	}
	if masked {
		h = append(h, 1, 2, 3, 4)
	}
	return h
}

// TestRawProtocolErrors sends one violation per connection and checks the
// close code the server fails the connection with (RFC 6455 §7.4.1), and
// that it then closes the TCP connection.
func TestRawProtocolErrors(t *testing.T) {
	const maxMessage = 1024
	mf := func(fin bool, op ws.OpCode, p []byte) []byte {
		return frame.AppendMaskedFrame(nil, fin, op, [4]byte{9, 8, 7, 6}, p)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		name  string
		wire  []byte
		code  ws.StatusCode
		stats func(before, after Stats) bool
	}{
		// Size limit: a declared length over MaxMessage is refused from
		// the header alone, without waiting for the payload.
		{"declared length over max", rawHeader(0x82, true, 1<<20), ws.StatusMessageTooBig, tooBig},
		{"declared 16-bit length over max", rawHeader(0x81, true, maxMessage+1), ws.StatusMessageTooBig, tooBig},
		{"whole frame over max", mf(true, ws.OpBinary, make([]byte, maxMessage+1)), ws.StatusMessageTooBig, tooBig},
		{"fragments over max", cat(mf(false, ws.OpBinary, make([]byte, 600)), rawHeader(0x80, true, 600)), ws.StatusMessageTooBig, tooBig},
		{"exactly max then one more fragment", cat(mf(false, ws.OpText, make([]byte, maxMessage)), mf(true, ws.OpContinuation, []byte("x"))), ws.StatusMessageTooBig, tooBig},

		{"unmasked text", frame.AppendFrame(nil, true, ws.OpText, []byte("hello")), ws.StatusProtocolError, protocolError},
		{"unmasked empty ping", frame.AppendFrame(nil, true, ws.OpPing, nil), ws.StatusProtocolError, protocolError},
		{"rsv1 without extension", cat(rawHeader(0xc1, true, 1), []byte{'a'}), ws.StatusProtocolError, protocolError},
		{"reserved data opcode 3", cat(rawHeader(0x83, true, 0)), ws.StatusProtocolError, protocolError},
		{"reserved control opcode 11", cat(rawHeader(0x8b, true, 0)), ws.StatusProtocolError, protocolError},
		{"continuation without message", mf(true, ws.OpContinuation, []byte("a")), ws.StatusProtocolError, protocolError},
		{"new message inside fragmented one", cat(mf(false, ws.OpText, []byte("a")), mf(true, ws.OpText, []byte("b"))), ws.StatusProtocolError, protocolError},
		{"ping over 125 bytes", cat(rawHeader(0x89, true, 126), make([]byte, 126)), ws.StatusProtocolError, protocolError},
		{"fragmented ping", mf(false, ws.OpPing, []byte("a")), ws.StatusProtocolError, protocolError},
		{"16-bit length not minimal", []byte{0x82, 0x80 | 126, 0, 5, 1, 2, 3, 4, 0, 0, 0, 0, 0}, ws.StatusProtocolError, protocolError},

		{"close code 1005", mf(true, ws.OpClose, closeBody(1005, "")), ws.StatusProtocolError, protocolError},
		{"close code 999", mf(true, ws.OpClose, closeBody(999, "")), ws.StatusProtocolError, protocolError},
		{"close code 2000", mf(true, ws.OpClose, closeBody(2000, "x")), ws.StatusProtocolError, protocolError},
		{"close code 5000", mf(true, ws.OpClose, closeBody(5000, "")), ws.StatusProtocolError, protocolError},
		{"close payload of one byte", mf(true, ws.OpClose, []byte{3}), ws.StatusProtocolError, protocolError},
		{"close reason not UTF-8", mf(true, ws.OpClose, closeBody(1000, "\xff")), ws.StatusInvalidFramePayloadData, protocolError},

		{"text not UTF-8", mf(true, ws.OpText, []byte("abc\xffdef")), ws.StatusInvalidFramePayloadData, protocolError},
		{"text surrogate", mf(true, ws.OpText, []byte("\xed\xa0\x80")), ws.StatusInvalidFramePayloadData, protocolError},
		{"text cut mid-rune", mf(true, ws.OpText, []byte("ok\xce")), ws.StatusInvalidFramePayloadData, protocolError},
		{"bad byte in a later fragment", cat(mf(false, ws.OpText, []byte("good")), mf(true, ws.OpContinuation, []byte("\xc0\x80"))), ws.StatusInvalidFramePayloadData, protocolError},
		{"fragmented text ends mid-rune", cat(mf(false, ws.OpText, []byte("\xe2\x82")), mf(true, ws.OpContinuation, nil)), ws.StatusInvalidFramePayloadData, protocolError},
		// The first invalid byte fails the message before its frame ends.
		{"bad byte before the payload is complete", cat(rawHeader(0x81, true, 1000), []byte{'a' ^ 1, 0xff ^ 2}), ws.StatusInvalidFramePayloadData, protocolError},
	}
	srv := startServer(t, Config{MaxMessage: maxMessage})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.Stats()
			c := upgradeRaw(t, srv, "/echo")
			c.write(tc.wire)
			c.expectClose(tc.code)
			waitFor(t, "the counters", ioTimeout, func() bool { return tc.stats(before, srv.Stats()) })
			if st := srv.Stats(); st.MessagesIn != before.MessagesIn {
				t.Fatalf("MessagesIn went from %d to %d", before.MessagesIn, st.MessagesIn)
			}
		})
	}
}

// tooBig and protocolError report whether exactly one connection failed
// for that reason between two snapshots, and all have closed since.
func tooBig(before, after Stats) bool {
	return after.TooBig == before.TooBig+1 && after.ProtocolErrors == before.ProtocolErrors && after.Open == 0
}

func protocolError(before, after Stats) bool {
	return after.ProtocolErrors == before.ProtocolErrors+1 && after.TooBig == before.TooBig && after.Open == 0
}

// TestRawTextSplitInsideRune checks that a valid rune cut between two
// fragments, and between two reads of one frame, is accepted.
func TestRawTextSplitInsideRune(t *testing.T) {
	srv := startServer(t, Config{})
	c := upgradeRaw(t, srv, "/echo")
	text := []byte(strings.Repeat("€", 10))
	c.write(append(c.frameBytes(false, ws.OpText, text[:4]), c.frameBytes(true, ws.OpContinuation, text[4:])...))
	c.expectMessage(ws.OpText, text)

	wire := c.frameBytes(true, ws.OpText, text)
	c.write(wire[:len(wire)-5])
	c.write(wire[len(wire)-5:])
	c.expectMessage(ws.OpText, text)
}
