package server

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/myriadws/myriad/frame"
)

// fuzzConn stands in for a gnet connection in the frame fuzzer: input is
// what the peer has sent and gnet has buffered, output is what the server
// wrote. It implements only what the frame path uses; anything else hits
// the nil embedded interface and panics, which the fuzzer reports.
type fuzzConn struct {
	gnet.Conn
	in     []byte
	out    []byte
	closed bool
}

func (f *fuzzConn) Peek(n int) ([]byte, error) {
	if n < 0 || n > len(f.in) {
		return f.in, nil
	}
	return f.in[:n], nil
}

func (f *fuzzConn) Discard(n int) (int, error) {
	n = min(n, len(f.in))
	f.in = f.in[n:]
	return n, nil
}

func (f *fuzzConn) Write(b []byte) (int, error) {
	f.out = append(f.out, b...)
	return len(b), nil
}

func (f *fuzzConn) Writev(bs [][]byte) (int, error) {
	n := 0
	for _, b := range bs {
		f.out = append(f.out, b...)
		n += len(b)
	}
	return n, nil
}

func (f *fuzzConn) OutboundBuffered() int { return 0 }

// Fd is -1: the stand-in has no socket, so the loop writes to it with Write.
func (f *fuzzConn) Fd() int              { return -1 }
func (f *fuzzConn) InboundBuffered() int { return len(f.in) }

func (f *fuzzConn) Close() error {
	f.closed = true
	return nil
}

// fuzzMaxMessage is the frame fuzzer's MaxMessage: no echo may be larger.
const fuzzMaxMessage = 4096

// frameRun is what feeding one input produced.
type frameRun struct {
	out    []byte
	killed bool
	state  connState
}

// runFrames feeds input to a fresh upgraded Conn on l, in the given
// pieces, as successive OnTraffic calls would.
func runFrames(l *loop, deflate bool, pieces [][]byte) frameRun {
	fc := &fuzzConn{}
	c := &Conn{gc: fc, loop: l, state: stateOpen, slot: noSlot}
	if deflate {
		c.flags |= flagDeflate
	}
	l.current = c
	defer func() {
		l.current = nil
		l.putInbound(c)
	}()
	for _, p := range pieces {
		// gnet keeps unread input and appends what arrives next.
		fc.in = append(fc.in, p...)
		if act := l.readFrames(c); act != gnet.None || c.flags&flagKill != 0 {
			break
		}
	}
	return frameRun{out: fc.out, killed: c.flags&flagKill != 0, state: c.state}
}

// framedInput turns fuzz bytes into a stream of well-formed masked frames
// with arbitrary flags, opcodes and payloads, so that the fuzzer spends its
// time past the header checks: each frame takes a first header byte, a
// length byte and that many payload bytes (fewer at the end of the input).
// A length byte of 255 stands for a 200-byte payload repeated to 70,000
// bytes, to reach the 64-bit length encoding.
func framedInput(b []byte) []byte {
	var out []byte
	for len(b) >= 2 {
		b0, n := b[0], int(b[1])
		b = b[2:]
		long := n == 255
		if long {
			n = 200
		}
		n = min(n, len(b))
		p := b[:n]
		b = b[n:]
		if long {
			p = bytes.Repeat(p, 70000/max(n, 1))
		}
		h := ws.Header{Fin: b0&0x80 != 0, Rsv: (b0 >> 4) & 7, OpCode: ws.OpCode(b0 & 0xf),
			Masked: true, Mask: [4]byte{0x11, 0x22, 0x33, byte(n)}, Length: int64(len(p))}
		out = frame.AppendHeader(out, h)
		start := len(out)
		out = append(out, p...)
		frame.Unmask(out[start:], h.Mask, 0)
	}
	return out
}

// FuzzReadFrames feeds arbitrary byte streams to the server's frame path
// (readFrames and everything below it, with the echo application), with
// and without permessage-deflate, whole, split at a chosen point, and a
// byte at a time. With framed set the bytes are first shaped into masked
// frames by framedInput. All three must write the same bytes and end in the same
// state; what the server writes must be valid server frames, a close frame
// only as the last one, and never the 1011 of an unexpected error.
func FuzzReadFrames(f *testing.F) {
	srv, err := New(Config{Loops: 1, MaxMessage: fuzzMaxMessage, Compression: true, CompressionMinSize: 16, Routes: map[string]Handler{"/echo": Echo{}}})
	if err != nil {
		f.Fatal(err)
	}
	l := srv.loops[0]

	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestSpeed)
	_, _ = w.Write([]byte(strings.Repeat("compressible text ", 20)))
	_ = w.Flush()
	deflatedText := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})
	seeds := [][]byte{
		mf(true, ws.OpText, []byte("hello")),
		cat(mf(false, ws.OpText, []byte("frag")), mf(true, ws.OpPing, []byte("p")), mf(true, ws.OpContinuation, []byte("ment"))),
		mf(true, ws.OpBinary, make([]byte, 300)),
		cat(mf(true, ws.OpClose, closeBody(1000, "bye")), mf(true, ws.OpText, []byte("late"))),
		mf(true, ws.OpText, []byte("bad \xff utf8")),
		mfz(true, ws.OpText, deflatedText),
		cat(mfz(false, ws.OpText, deflatedText[:5]), mf(true, ws.OpContinuation, deflatedText[5:])),
		mfz(true, ws.OpBinary, zeroBomb(1<<20)),
		mfz(true, ws.OpText, deflated(textPayload(fuzzMaxMessage))),
		mfz(true, ws.OpText, deflated(textPayload(fuzzMaxMessage+1))),
		rawHeader(0x82, true, 1<<63|1),
		frame.AppendFrame(nil, true, ws.OpText, []byte("unmasked")),
	}
	for i, s := range seeds {
		f.Add(s, uint16(i*13), false)
	}
	framedSeeds := [][]byte{
		cat([]byte{0x01, 4}, []byte("frag"), []byte{0x89, 1, 'p'}, []byte{0x80, 4}, []byte("ment")),
		cat([]byte{0xc1, byte(len(deflatedText))}, deflatedText),
		cat([]byte{0x41, 5}, deflatedText[:5], []byte{0x80, byte(len(deflatedText) - 5)}, deflatedText[5:]),
		cat([]byte{0x88, 5, 0x03, 0xe8}, []byte("bye")),
		cat([]byte{0x81, 6}, []byte("okôok")),
		cat([]byte{0x82, 255}, make([]byte, 200)),
	}
	for i, s := range framedSeeds {
		f.Add(s, uint16(i*7), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16, framed bool) {
		if framed {
			in = framedInput(in)
		}
		k := int(split) % (len(in) + 1)
		for _, deflate := range []bool{false, true} {
			whole := runFrames(l, deflate, [][]byte{bytes.Clone(in)})
			checkServerOutput(t, whole, deflate)
			splitRun := runFrames(l, deflate, [][]byte{bytes.Clone(in[:k]), bytes.Clone(in[k:])})
			if !sameRun(whole, splitRun) {
				t.Fatalf("deflate %v, split at %d: %+v; whole: %+v", deflate, k, splitRun, whole)
			}
			if len(in) <= 2048 {
				var bytewise [][]byte
				for i := range in {
					bytewise = append(bytewise, []byte{in[i]})
				}
				if run := runFrames(l, deflate, bytewise); !sameRun(whole, run) {
					t.Fatalf("deflate %v, bytewise: %+v; whole: %+v", deflate, run, whole)
				}
			}
		}
	})
}

func sameRun(a, b frameRun) bool {
	return bytes.Equal(a.out, b.out) && a.killed == b.killed && a.state == b.state
}

// checkServerOutput parses what the server wrote.
func checkServerOutput(t *testing.T, r frameRun, deflate bool) {
	t.Helper()
	var allowed byte
	if deflate {
		allowed = ws.Rsv(true, false, false)
	}
	out := r.out
	closed := false
	for len(out) > 0 {
		if closed {
			t.Fatalf("server wrote % x after its close frame", truncate(out))
		}
		h, n, err := frame.ParseHeader(out)
		if err != nil {
			t.Fatalf("server frame header % x: %v", truncate(out), err)
		}
		if err := frame.CheckServer(h, allowed); err != nil || !h.Fin {
			t.Fatalf("invalid server frame %+v: %v", h, err)
		}
		if int64(len(out)-n) < h.Length {
			t.Fatalf("server frame %+v truncated", h)
		}
		p := out[n : n+int(h.Length)]
		out = out[n+int(h.Length):]
		if h.Rsv1() {
			r := flate.NewReader(io.MultiReader(bytes.NewReader(p), strings.NewReader(deflateTail)))
			var err error
			if p, err = io.ReadAll(r); err != nil {
				t.Fatalf("server's compressed frame does not inflate: %v", err)
			}
		}
		if h.OpCode.IsData() && len(p) > fuzzMaxMessage {
			t.Fatalf("server echoed a %d-byte message; MaxMessage is %d", len(p), fuzzMaxMessage)
		}
		switch h.OpCode {
		case ws.OpText:
			if !frame.ValidUTF8(p) {
				t.Fatalf("server sent invalid UTF-8 text %q", truncate(p))
			}
		case ws.OpClose:
			code, reason, err := frame.ParseClose(p)
			if err != nil {
				t.Fatalf("server close payload % x: %v", p, err)
			}
			// An echoed close carries the peer's code and no reason; 1011
			// with a reason is the server failing on an error that is
			// not a *frame.ProtocolError.
			if code == ws.StatusInternalServerError && len(reason) > 0 {
				t.Fatalf("server failed with an unexpected error: %q", p)
			}
			closed = true
		}
	}
	// Every way the frame path ends a connection sends a close frame, and
	// every close frame it sends ends the connection.
	if r.killed != closed {
		t.Fatalf("connection closed %v, close frame sent %v", r.killed, closed)
	}
}
