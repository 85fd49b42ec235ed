package server

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// The per-message path (parse, unmask, validate, deliver, encode, write)
// and the publish path (encode once, then one loop's fan-out of N) are
// measured on the reactor's own callbacks with the in-memory stand-in for
// gnet's connection (memConn, see upgrade_alloc_test.go): over real
// sockets the system calls, which are most of a message's cost on
// loopback, would hide what myriad's code costs and whether it allocates.

// benchMask is the masking key of the benchmarks' client frames.
var benchMask = [4]byte{0x1f, 0x2e, 0x3d, 0x4c}

// benchPayload returns n bytes of ASCII, valid as text.
func benchPayload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	return p
}

// echoConn is an upgraded /echo connection on a fresh one-loop server:
// h drives it and m holds what it wrote.
func echoConn(tb testing.TB) (*handler, *memConn) {
	tb.Helper()
	srv, err := New(Config{Loops: 1, Routes: map[string]Handler{"/echo": Echo{}}})
	if err != nil {
		tb.Fatal(err)
	}
	h := &handler{srv: srv}
	m := &memConn{el: &memLoop{}, in: []byte(memRequest)}
	h.OnOpen(m)
	h.OnTraffic(m)
	if c, ok := m.ctx.(*Conn); !ok || c.state != stateOpen {
		tb.Fatalf("not upgraded; wrote %q", m.out.String())
	}
	m.out.Reset()
	return h, m
}

// feed hands wire (masked client frames, copied to scratch because the
// reactor unmasks in place, as it does in gnet's buffer) to the
// connection as one read, and empties what it wrote.
func feed(h *handler, m *memConn, wire, scratch []byte) {
	copy(scratch, wire)
	m.in = scratch
	m.out.Reset()
	h.OnTraffic(m)
}

// messageCases are the per-message shapes measured and checked: sizes on
// both sides of the 125-byte and 1 KiB boundaries (a longer length field;
// the write of header and payload in one buffer or as a vector), text and
// binary, several frames in one read, and a message in fragments.
func messageCases() []struct {
	name  string
	wire  []byte // client frames fed as one read
	msgs  int    // messages in wire
	bytes int    // payload bytes in wire
} {
	type tc = struct {
		name  string
		wire  []byte
		msgs  int
		bytes int
	}
	var cases []tc
	for _, n := range []int{16, 125, 1024, 16 << 10} {
		p := benchPayload(n)
		cases = append(cases,
			tc{name: "text/" + strconv.Itoa(n), wire: frame.AppendMaskedFrame(nil, true, ws.OpText, benchMask, p), msgs: 1, bytes: n},
			tc{name: "binary/" + strconv.Itoa(n), wire: frame.AppendMaskedFrame(nil, true, ws.OpBinary, benchMask, p), msgs: 1, bytes: n})
	}
	var batch []byte
	for range 16 {
		batch = frame.AppendMaskedFrame(batch, true, ws.OpText, benchMask, benchPayload(64))
	}
	cases = append(cases, tc{name: "text/64x16-per-read", wire: batch, msgs: 16, bytes: 16 * 64})
	p := benchPayload(4 << 10)
	frag := frame.AppendMaskedFrame(nil, false, ws.OpText, benchMask, p[:1<<10])
	frag = frame.AppendMaskedFrame(frag, false, ws.OpContinuation, benchMask, p[1<<10:3<<10])
	frag = frame.AppendMaskedFrame(frag, true, ws.OpContinuation, benchMask, p[3<<10:])
	cases = append(cases, tc{name: "text/4096-in-3-fragments", wire: frag, msgs: 1, bytes: len(p)})
	return cases
}

// BenchmarkMessage is the reactor's per-message path for /echo: one
// read's worth of client frames parsed in place, unmasked, validated
// (text), delivered to Echo, which encodes and writes each back. ns/op
// is per read; a message of the 16-per-read case costs a sixteenth.
func BenchmarkMessage(b *testing.B) {
	for _, tc := range messageCases() {
		b.Run(tc.name, func(b *testing.B) {
			h, m := echoConn(b)
			scratch := make([]byte, len(tc.wire))
			feed(h, m, tc.wire, scratch) // warm: the loop's scratch buffers grow once
			b.ReportAllocs()
			b.SetBytes(int64(tc.bytes))
			for b.Loop() {
				feed(h, m, tc.wire, scratch)
			}
			if got := m.ctx.(*Conn).loop.stats.messagesOut.Load(); got < uint64(tc.msgs) {
				b.Fatalf("%d messages echoed", got)
			}
		})
	}
}

// TestMessageAllocations checks that the per-message path allocates
// nothing once warm, for every case the benchmark measures, and that
// each message is echoed whole.
func TestMessageAllocations(t *testing.T) {
	for _, tc := range messageCases() {
		t.Run(tc.name, func(t *testing.T) {
			h, m := echoConn(t)
			scratch := make([]byte, len(tc.wire))
			feed(h, m, tc.wire, scratch)
			want := tc.bytes + tc.msgs*2 // a server frame of up to 125 bytes has a 2-byte header
			if tc.bytes/tc.msgs > 125 {
				want = -1 // checked by parsing below
			}
			if n := testing.AllocsPerRun(100, func() { feed(h, m, tc.wire, scratch) }); n != 0 {
				t.Errorf("%v allocations per read, want 0", n)
			}
			var got []byte
			out := m.out.Bytes()
			for len(out) > 0 {
				hd, hn, err := frame.ParseHeader(out)
				if err != nil {
					t.Fatalf("echo: %v", err)
				}
				if hd.Masked || !hd.Fin {
					t.Fatalf("echo frame %+v", hd)
				}
				got = append(got, out[hn:hn+int(hd.Length)]...)
				out = out[hn+int(hd.Length):]
			}
			if want >= 0 && m.out.Len() != want {
				t.Errorf("wrote %d bytes, want %d", m.out.Len(), want)
			}
			if len(got) != tc.bytes || !bytes.Equal(got[:len(got)/tc.msgs], benchPayload(tc.bytes/tc.msgs)) {
				t.Errorf("echoed %d payload bytes, want %d of the payload", len(got), tc.bytes)
			}
		})
	}
}
