package frame_test

import (
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// Package-level sinks keep the compiler from discarding benchmarked calls.
var (
	sinkHeader ws.Header
	sinkInt    int
	sinkBool   bool
	sinkErr    error
)

func benchHeaders() []struct {
	name string
	in   []byte
} {
	return []struct {
		name string
		in   []byte
	}{
		{"small", frame.AppendHeader(nil, ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: testMask, Length: 125})},
		{"16-bit", frame.AppendHeader(nil, ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: testMask, Length: 4096})},
		{"64-bit", frame.AppendHeader(nil, ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: testMask, Length: 1 << 20})},
	}
}

func BenchmarkParseHeader(b *testing.B) {
	for _, bc := range benchHeaders() {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				sinkHeader, sinkInt, sinkErr = frame.ParseHeader(bc.in)
			}
		})
	}
}

var payloadSizes = []struct {
	name string
	size int
}{
	{"125B", 125},
	{"4KiB", 4 << 10},
	{"64KiB", 64 << 10},
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, ps := range payloadSizes {
		b.Run(ps.name, func(b *testing.B) {
			payload := pattern(ps.size)
			buf := make([]byte, 0, frame.MaxHeaderSize+ps.size)
			b.ReportAllocs()
			b.SetBytes(int64(ps.size))
			for b.Loop() {
				buf = frame.AppendFrame(buf[:0], true, ws.OpBinary, payload)
			}
			sinkInt = len(buf)
		})
	}
}

func BenchmarkUnmask(b *testing.B) {
	for _, ps := range payloadSizes {
		b.Run(ps.name, func(b *testing.B) {
			p := pattern(ps.size)
			b.ReportAllocs()
			b.SetBytes(int64(ps.size))
			for b.Loop() {
				frame.Unmask(p, testMask, 0)
			}
		})
	}
}

// utf8Inputs returns 4 KiB of ASCII text and 4 KiB of text mixing 2-, 3-
// and 4-byte characters.
func utf8Inputs() []struct {
	name string
	in   []byte
} {
	const size = 4 << 10
	ascii := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", size/45+1)[:size])
	multi := []byte(strings.Repeat("κόσμε€😀ü", size/20+1))
	for len(multi) > size || !frame.ValidUTF8(multi) {
		multi = multi[:len(multi)-1]
	}
	return []struct {
		name string
		in   []byte
	}{
		{"ascii", ascii},
		{"multibyte", multi},
	}
}

func BenchmarkUTF8(b *testing.B) {
	for _, in := range utf8Inputs() {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.in)))
			for b.Loop() {
				var v frame.UTF8
				sinkBool = v.Write(in.in) && v.Complete()
			}
		})
	}
}

// TestHotPathDoesNotAllocate asserts the package's documented property that
// parsing, encoding into a buffer with room, unmasking and validation never
// allocate.
func TestHotPathDoesNotAllocate(t *testing.T) {
	hdr := benchHeaders()[2].in
	payload := pattern(4 << 10)
	buf := make([]byte, 0, frame.MaxHeaderSize+len(payload))
	text := utf8Inputs()[1].in
	closePayload := closePayload(1000, "κόσμε")
	h := ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: testMask, Length: 1 << 20}
	var msg frame.Message

	cases := []struct {
		name string
		fn   func()
	}{
		{"ParseHeader", func() { sinkHeader, sinkInt, sinkErr = frame.ParseHeader(hdr) }},
		{"ParseHeader short", func() { sinkHeader, sinkInt, sinkErr = frame.ParseHeader(hdr[:3]) }},
		{"ParseHeader error", func() { sinkHeader, sinkInt, sinkErr = frame.ParseHeader([]byte{0x82, 0x7e, 0, 1}) }},
		{"CheckClient", func() { sinkErr = frame.CheckClient(h, 0) }},
		{"AppendHeader", func() { buf = frame.AppendHeader(buf[:0], h) }},
		{"AppendFrame", func() { buf = frame.AppendFrame(buf[:0], true, ws.OpBinary, payload) }},
		{"AppendMaskedFrame", func() { buf = frame.AppendMaskedFrame(buf[:0], true, ws.OpBinary, testMask, payload) }},
		{"AppendClose", func() { buf = frame.AppendClose(buf[:0], 1001, "going away") }},
		{"Unmask", func() { frame.Unmask(payload, testMask, 1) }},
		{"UTF8.Write", func() {
			var v frame.UTF8
			sinkBool = v.Write(text)
		}},
		{"ValidUTF8", func() { sinkBool = frame.ValidUTF8(text) }},
		{"ParseClose", func() { _, _, sinkErr = frame.ParseClose(closePayload) }},
		{"Message", func() {
			_, sinkErr = msg.Frame(ws.Header{OpCode: ws.OpText, Length: int64(len(text))}, 1<<20)
			sinkErr = msg.Text(text, true)
			msg.End()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tc.fn); n != 0 {
				t.Fatalf("%s allocates %v times per call", tc.name, n)
			}
		})
	}
}
