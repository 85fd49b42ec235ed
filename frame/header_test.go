package frame_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"testing"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

var testMask = [4]byte{0xa1, 0xb2, 0xc3, 0xd4}

// wire concatenates byte slices and single bytes into one slice, so table
// cases can spell out a header field by field.
func wire(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case byte:
			b = append(b, v)
		case int:
			b = append(b, byte(v))
		case []byte:
			b = append(b, v...)
		case [4]byte:
			b = append(b, v[:]...)
		case string:
			b = append(b, v...)
		default:
			panic(fmt.Sprintf("wire: unsupported part %T", p))
		}
	}
	return b
}

// checkProtocolError fails the test unless err is want and, being a
// *frame.ProtocolError, carries a close code.
func checkProtocolError(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if want == nil || want == frame.ErrShortBuffer {
		return
	}
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %T %v, want a *frame.ProtocolError", err, err)
	}
	if pe.Code == 0 {
		t.Fatalf("protocol error %q has no close code", pe.Reason)
	}
}

type headerCase struct {
	name string
	in   []byte
	want ws.Header
	n    int
	err  error
}

// validHeaderCases are complete, well-formed headers, each encoded in the
// form AppendHeader produces.
func validHeaderCases() []headerCase {
	m := testMask
	return []headerCase{
		{"len0", wire(0x81, 0x00), ws.Header{Fin: true, OpCode: ws.OpText}, 2, nil},
		{"len0 masked", wire(0x81, 0x80, m), ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: m}, 6, nil},
		{"len1", wire(0x82, 0x01), ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1}, 2, nil},
		{"len125", wire(0x82, 0x7d), ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 125}, 2, nil},
		{"len125 masked", wire(0x82, 0xfd, m), ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: m, Length: 125}, 6, nil},
		{"len126", wire(0x82, 0x7e, 0x00, 0x7e), ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 126}, 4, nil},
		{"len126 masked", wire(0x82, 0xfe, 0x00, 0x7e, m), ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: m, Length: 126}, 8, nil},
		{"len65535", wire(0x82, 0x7e, 0xff, 0xff), ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 65535}, 4, nil},
		{"len65535 masked", wire(0x82, 0xfe, 0xff, 0xff, m), ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: m, Length: 65535}, 8, nil},
		{"len65536", wire(0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0), ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 65536}, 10, nil},
		{"len65536 masked", wire(0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, m), ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: m, Length: 65536}, 14, nil},
		{"len 1<<40", wire(0x82, 0x7f, 0, 0, 1, 0, 0, 0, 0, 0), ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 40}, 10, nil},
		{"len 1<<40 masked", wire(0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, m), ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: m, Length: 1 << 40}, 14, nil},
		{"len MaxInt64", wire(0x02, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), ws.Header{OpCode: ws.OpBinary, Length: math.MaxInt64}, 10, nil},
		{"continuation not fin", wire(0x00, 0x05), ws.Header{OpCode: ws.OpContinuation, Length: 5}, 2, nil},
		{"close", wire(0x88, 0x02), ws.Header{Fin: true, OpCode: ws.OpClose, Length: 2}, 2, nil},
		{"ping masked", wire(0x89, 0x84, m), ws.Header{Fin: true, OpCode: ws.OpPing, Masked: true, Mask: m, Length: 4}, 6, nil},
		{"pong", wire(0x8a, 0x00), ws.Header{Fin: true, OpCode: ws.OpPong}, 2, nil},
		{"rsv1", wire(0xc1, 0x03), ws.Header{Fin: true, Rsv: ws.Rsv(true, false, false), OpCode: ws.OpText, Length: 3}, 2, nil},
		{"rsv2", wire(0xa1, 0x03), ws.Header{Fin: true, Rsv: ws.Rsv(false, true, false), OpCode: ws.OpText, Length: 3}, 2, nil},
		{"rsv3", wire(0x91, 0x03), ws.Header{Fin: true, Rsv: ws.Rsv(false, false, true), OpCode: ws.OpText, Length: 3}, 2, nil},
		{"all rsv no fin", wire(0x71, 0x03), ws.Header{Rsv: 7, OpCode: ws.OpText, Length: 3}, 2, nil},
		// Opcode and bit rules belong to CheckClient; the parser decodes them.
		{"reserved opcode 0x3", wire(0x83, 0x00), ws.Header{Fin: true, OpCode: 0x3}, 2, nil},
		{"reserved opcode 0xF", wire(0x8f, 0x00), ws.Header{Fin: true, OpCode: 0xf}, 2, nil},
		{"control over 125", wire(0x89, 0x7e, 0x01, 0x00), ws.Header{Fin: true, OpCode: ws.OpPing, Length: 256}, 4, nil},
	}
}

func TestParseHeader(t *testing.T) {
	m := testMask
	cases := validHeaderCases()
	cases = append(cases, []headerCase{
		{"payload follows", wire(0x81, 0x03, "abcdef"), ws.Header{Fin: true, OpCode: ws.OpText, Length: 3}, 2, nil},
		{"next header follows masked", wire(0x81, 0x83, m, 0x81, 0x00), ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: m, Length: 3}, 6, nil},
		{"payload follows 64-bit", wire(0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, "xyz"), ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 65536}, 10, nil},

		{"empty", nil, ws.Header{}, 0, frame.ErrShortBuffer},
		{"one byte", wire(0x81), ws.Header{}, 0, frame.ErrShortBuffer},

		{"16-bit length 0", wire(0x82, 0x7e, 0x00, 0x00), ws.Header{}, 0, frame.ErrLengthNotMinimal},
		{"16-bit length 1", wire(0x82, 0x7e, 0x00, 0x01), ws.Header{}, 0, frame.ErrLengthNotMinimal},
		{"16-bit length 125", wire(0x82, 0x7e, 0x00, 0x7d), ws.Header{}, 0, frame.ErrLengthNotMinimal},
		{"16-bit length 125 masked before key", wire(0x82, 0xfe, 0x00, 0x7d), ws.Header{}, 0, frame.ErrLengthNotMinimal},
		{"16-bit length 125 masked", wire(0x82, 0xfe, 0x00, 0x7d, m), ws.Header{}, 0, frame.ErrLengthNotMinimal},
		{"64-bit length 0", wire(0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0), ws.Header{}, 0, frame.ErrLengthNotMinimal},
		{"64-bit length 125", wire(0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x7d), ws.Header{}, 0, frame.ErrLengthNotMinimal},
		{"64-bit length 126", wire(0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x7e), ws.Header{}, 0, frame.ErrLengthNotMinimal},
		{"64-bit length 65535", wire(0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff), ws.Header{}, 0, frame.ErrLengthNotMinimal},
		{"64-bit length 65535 masked", wire(0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, m), ws.Header{}, 0, frame.ErrLengthNotMinimal},
		{"64-bit MSB set", wire(0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0), ws.Header{}, 0, frame.ErrLengthOverflow},
		{"64-bit all ones", wire(0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), ws.Header{}, 0, frame.ErrLengthOverflow},
		{"64-bit MSB set masked before key", wire(0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1), ws.Header{}, 0, frame.ErrLengthOverflow},
		{"64-bit MSB set masked", wire(0x82, 0xff, 0x80, 0, 0, 0, 0, 1, 0, 0, m), ws.Header{}, 0, frame.ErrLengthOverflow},
	}...)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := frame.ParseHeader(tc.in)
			checkProtocolError(t, err, tc.err)
			if h != tc.want || n != tc.n {
				t.Fatalf("ParseHeader(% x) = %+v, %d; want %+v, %d", tc.in, h, n, tc.want, tc.n)
			}
		})
	}
}

// TestParseHeaderShortPrefix checks that every proper prefix of a complete
// header asks for more input and consumes nothing.
func TestParseHeaderShortPrefix(t *testing.T) {
	for _, tc := range validHeaderCases() {
		for k := range tc.n {
			t.Run(fmt.Sprintf("%s/%d of %d bytes", tc.name, k, tc.n), func(t *testing.T) {
				h, n, err := frame.ParseHeader(tc.in[:k])
				if err != frame.ErrShortBuffer || n != 0 || h != (ws.Header{}) {
					t.Fatalf("ParseHeader(% x) = %+v, %d, %v; want zero header, 0, ErrShortBuffer", tc.in[:k], h, n, err)
				}
			})
		}
	}
}

func TestShortBufferIsIOSentinel(t *testing.T) {
	if frame.ErrShortBuffer != io.ErrShortBuffer {
		t.Fatal("frame.ErrShortBuffer is not io.ErrShortBuffer")
	}
}

func TestAppendHeaderRoundTrip(t *testing.T) {
	lengths := []struct {
		name   string
		length int64
		size   int // encoded size without mask key
	}{
		{"len0", 0, 2},
		{"len1", 1, 2},
		{"len125", 125, 2},
		{"len126", 126, 4},
		{"len127", 127, 4},
		{"len65535", 65535, 4},
		{"len65536", 65536, 10},
		{"len 1<<32", 1 << 32, 10},
		{"len 1<<40", 1 << 40, 10},
		{"len MaxInt64", math.MaxInt64, 10},
	}
	shapes := []struct {
		name string
		h    ws.Header
	}{
		{"text fin", ws.Header{Fin: true, OpCode: ws.OpText}},
		{"binary not fin", ws.Header{OpCode: ws.OpBinary}},
		{"continuation", ws.Header{OpCode: ws.OpContinuation}},
		{"close", ws.Header{Fin: true, OpCode: ws.OpClose}},
		{"rsv1 text", ws.Header{Fin: true, Rsv: ws.Rsv(true, false, false), OpCode: ws.OpText}},
		{"all rsv reserved opcode", ws.Header{Rsv: 7, OpCode: 0xf}},
		{"masked text", ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: testMask}},
		{"masked zero key", ws.Header{OpCode: ws.OpBinary, Masked: true}},
	}
	prefix := []byte("prefix")
	for _, s := range shapes {
		for _, l := range lengths {
			t.Run(s.name+"/"+l.name, func(t *testing.T) {
				h := s.h
				h.Length = l.length
				want := l.size
				if h.Masked {
					want += 4
				}
				if got := frame.HeaderSize(h); got != want {
					t.Fatalf("HeaderSize = %d, want %d", got, want)
				}
				dst := append([]byte(nil), prefix...)
				dst = frame.AppendHeader(dst, h)
				if !bytes.Equal(dst[:len(prefix)], prefix) {
					t.Fatalf("AppendHeader overwrote the existing bytes: % x", dst)
				}
				enc := dst[len(prefix):]
				if len(enc) != want {
					t.Fatalf("AppendHeader wrote %d bytes (% x), want %d", len(enc), enc, want)
				}
				got, n, err := frame.ParseHeader(enc)
				if err != nil || n != len(enc) || got != h {
					t.Fatalf("ParseHeader(% x) = %+v, %d, %v; want %+v, %d, nil", enc, got, n, err, h, len(enc))
				}
			})
		}
	}
}

// TestAppendHeaderMatchesCases checks the exact bytes AppendHeader writes
// against the hand-written encodings.
func TestAppendHeaderMatchesCases(t *testing.T) {
	for _, tc := range validHeaderCases() {
		t.Run(tc.name, func(t *testing.T) {
			if got := frame.AppendHeader(nil, tc.want); !bytes.Equal(got, tc.in[:tc.n]) {
				t.Fatalf("AppendHeader(%+v) = % x, want % x", tc.want, got, tc.in[:tc.n])
			}
		})
	}
}

func TestCheckClient(t *testing.T) {
	rsv1 := ws.Rsv(true, false, false)
	rsv2 := ws.Rsv(false, true, false)
	rsv3 := ws.Rsv(false, false, true)
	masked := func(fin bool, rsv byte, op ws.OpCode, length int64) ws.Header {
		return ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Mask: testMask, Length: length}
	}
	cases := []struct {
		name    string
		h       ws.Header
		allowed byte
		err     error
	}{
		{"masked text", masked(true, 0, ws.OpText, 5), 0, nil},
		{"masked binary large", masked(true, 0, ws.OpBinary, 1<<40), 0, nil},
		{"masked continuation", masked(false, 0, ws.OpContinuation, 0), 0, nil},
		{"masked close empty", masked(true, 0, ws.OpClose, 0), 0, nil},
		{"masked ping 125", masked(true, 0, ws.OpPing, 125), 0, nil},
		{"masked pong 125", masked(true, 0, ws.OpPong, 125), 0, nil},
		{"unmasked text", ws.Header{Fin: true, OpCode: ws.OpText, Length: 5}, 0, frame.ErrUnmasked},
		{"unmasked ping", ws.Header{Fin: true, OpCode: ws.OpPing}, 0, frame.ErrUnmasked},

		{"rsv1 not negotiated", masked(true, rsv1, ws.OpText, 5), 0, frame.ErrReservedBits},
		{"rsv2 not negotiated", masked(true, rsv2, ws.OpText, 5), 0, frame.ErrReservedBits},
		{"rsv3 not negotiated", masked(true, rsv3, ws.OpBinary, 5), 0, frame.ErrReservedBits},
		{"rsv1 negotiated", masked(true, rsv1, ws.OpText, 5), rsv1, nil},
		{"rsv1 negotiated on binary", masked(false, rsv1, ws.OpBinary, 5), rsv1, nil},
		{"rsv2 with rsv1 negotiated", masked(true, rsv2, ws.OpText, 5), rsv1, frame.ErrReservedBits},
		{"rsv3 with rsv1 negotiated", masked(true, rsv3, ws.OpText, 5), rsv1, frame.ErrReservedBits},
		{"rsv1 and rsv2 with rsv1 negotiated", masked(true, rsv1|rsv2, ws.OpText, 5), rsv1, frame.ErrReservedBits},

		{"close 126", masked(true, 0, ws.OpClose, 126), 0, frame.ErrControlTooLong},
		{"ping 126", masked(true, 0, ws.OpPing, 126), 0, frame.ErrControlTooLong},
		{"pong 65536", masked(true, 0, ws.OpPong, 65536), 0, frame.ErrControlTooLong},
		{"ping 1<<40", masked(true, 0, ws.OpPing, 1<<40), 0, frame.ErrControlTooLong},
		{"fragmented close", masked(false, 0, ws.OpClose, 2), 0, frame.ErrControlFragmented},
		{"fragmented ping", masked(false, 0, ws.OpPing, 0), 0, frame.ErrControlFragmented},
		{"fragmented pong", masked(false, 0, ws.OpPong, 0), 0, frame.ErrControlFragmented},
		{"rsv1 on ping not negotiated", masked(true, rsv1, ws.OpPing, 0), 0, frame.ErrReservedBits},
		{"rsv1 on ping negotiated", masked(true, rsv1, ws.OpPing, 0), rsv1, frame.ErrReservedBits},
		{"rsv1 on close negotiated", masked(true, rsv1, ws.OpClose, 2), rsv1, frame.ErrReservedBits},
		{"rsv1 on pong negotiated", masked(true, rsv1, ws.OpPong, 0), rsv1, frame.ErrReservedBits},
	}
	for op := ws.OpCode(0x3); op <= 0x7; op++ {
		cases = append(cases, struct {
			name    string
			h       ws.Header
			allowed byte
			err     error
		}{fmt.Sprintf("reserved data opcode %#x", byte(op)), masked(true, 0, op, 0), 0, frame.ErrReservedOpCode})
	}
	for op := ws.OpCode(0xb); op <= 0xf; op++ {
		cases = append(cases, struct {
			name    string
			h       ws.Header
			allowed byte
			err     error
		}{fmt.Sprintf("reserved control opcode %#x", byte(op)), masked(true, 0, op, 0), 0, frame.ErrReservedOpCode})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkProtocolError(t, frame.CheckClient(tc.h, tc.allowed), tc.err)
			// The server side applies the same rules to unmasked frames.
			if tc.err == frame.ErrUnmasked {
				return
			}
			h := tc.h
			h.Masked, h.Mask = false, [4]byte{}
			checkProtocolError(t, frame.CheckServer(h, tc.allowed), tc.err)
		})
	}
}

func TestCheckServer(t *testing.T) {
	cases := []struct {
		name string
		h    ws.Header
		err  error
	}{
		{"unmasked text", ws.Header{Fin: true, OpCode: ws.OpText, Length: 5}, nil},
		{"unmasked close", ws.Header{Fin: true, OpCode: ws.OpClose, Length: 2}, nil},
		{"masked text", ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: testMask, Length: 5}, frame.ErrMasked},
		{"masked ping", ws.Header{Fin: true, OpCode: ws.OpPing, Masked: true}, frame.ErrMasked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkProtocolError(t, frame.CheckServer(tc.h, 0), tc.err)
		})
	}
}

// TestProtocolErrorCodes pins the close code each sentinel carries
// (RFC 6455 §7.4.1).
func TestProtocolErrorCodes(t *testing.T) {
	cases := []struct {
		name string
		err  *frame.ProtocolError
		code ws.StatusCode
	}{
		{"unmasked", frame.ErrUnmasked, ws.StatusProtocolError},
		{"masked", frame.ErrMasked, ws.StatusProtocolError},
		{"reserved bits", frame.ErrReservedBits, ws.StatusProtocolError},
		{"reserved opcode", frame.ErrReservedOpCode, ws.StatusProtocolError},
		{"control too long", frame.ErrControlTooLong, ws.StatusProtocolError},
		{"control fragmented", frame.ErrControlFragmented, ws.StatusProtocolError},
		{"length overflow", frame.ErrLengthOverflow, ws.StatusProtocolError},
		{"length not minimal", frame.ErrLengthNotMinimal, ws.StatusProtocolError},
		{"unexpected continuation", frame.ErrUnexpectedContinue, ws.StatusProtocolError},
		{"expected continuation", frame.ErrExpectedContinue, ws.StatusProtocolError},
		{"compressed continuation", frame.ErrCompressedContinue, ws.StatusProtocolError},
		{"close length", frame.ErrCloseLength, ws.StatusProtocolError},
		{"close code", frame.ErrCloseCode, ws.StatusProtocolError},
		{"close reason utf8", frame.ErrCloseReasonUTF8, ws.StatusInvalidFramePayloadData},
		{"invalid utf8", frame.ErrInvalidUTF8, ws.StatusInvalidFramePayloadData},
		{"message too big", frame.ErrMessageTooBig, ws.StatusMessageTooBig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err.Code != tc.code {
				t.Fatalf("Code = %d, want %d", tc.err.Code, tc.code)
			}
			if tc.err.Error() == "" || tc.err.Error() != tc.err.Reason {
				t.Fatalf("Error() = %q, Reason = %q", tc.err.Error(), tc.err.Reason)
			}
			if !frame.ValidCloseCode(tc.code) {
				t.Fatalf("code %d cannot be sent in a close frame", tc.code)
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	cases := []struct {
		name string
		fin  bool
		op   ws.OpCode
		size int
		hdr  int
	}{
		{"empty text", true, ws.OpText, 0, 2},
		{"125 binary", true, ws.OpBinary, 125, 2},
		{"126 binary", true, ws.OpBinary, 126, 4},
		{"65535 continuation", false, ws.OpContinuation, 65535, 4},
		{"65536 binary", true, ws.OpBinary, 65536, 10},
		{"ping", true, ws.OpPing, 4, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := pattern(tc.size)
			orig := append([]byte(nil), payload...)
			prefix := []byte{0xee}

			out := frame.AppendFrame(append([]byte(nil), prefix...), tc.fin, tc.op, payload)
			checkFrame(t, out[1:], ws.Header{Fin: tc.fin, OpCode: tc.op, Length: int64(tc.size)}, tc.hdr, orig)
			if out[0] != 0xee {
				t.Fatal("AppendFrame overwrote the existing bytes")
			}

			out = frame.AppendMaskedFrame(append([]byte(nil), prefix...), tc.fin, tc.op, testMask, payload)
			if !bytes.Equal(payload, orig) {
				t.Fatal("AppendMaskedFrame modified the caller's payload")
			}
			h := ws.Header{Fin: tc.fin, OpCode: tc.op, Masked: true, Mask: testMask, Length: int64(tc.size)}
			body := out[1+tc.hdr+4:]
			if tc.size >= 4 && bytes.Equal(body, orig) {
				t.Fatal("AppendMaskedFrame did not mask the payload")
			}
			frame.Unmask(body, testMask, 0)
			checkFrame(t, out[1:], h, tc.hdr+4, orig)
		})
	}
}

// checkFrame parses one frame from b and compares it with the expectation.
func checkFrame(t *testing.T, b []byte, want ws.Header, hdrSize int, payload []byte) {
	t.Helper()
	h, n, err := frame.ParseHeader(b)
	if err != nil || h != want || n != hdrSize {
		t.Fatalf("ParseHeader = %+v, %d, %v; want %+v, %d, nil", h, n, err, want, hdrSize)
	}
	if !bytes.Equal(b[n:], payload) {
		t.Fatalf("payload differs: got %d bytes, want %d", len(b[n:]), len(payload))
	}
}

// pattern returns n bytes that do not repeat with period 4, so a wrong mask
// offset shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func naiveMask(p []byte, mask [4]byte, offset int) {
	for i := range p {
		p[i] ^= mask[(offset+i)%4]
	}
}

func TestUnmask(t *testing.T) {
	lengths := []int{0, 1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 125, 4096, 4099}
	for _, n := range lengths {
		for offset := range 8 {
			t.Run(fmt.Sprintf("len%d/offset%d", n, offset), func(t *testing.T) {
				got := pattern(n)
				want := pattern(n)
				frame.Unmask(got, testMask, offset)
				naiveMask(want, testMask, offset)
				if !bytes.Equal(got, want) {
					t.Fatalf("Unmask differs from byte-wise XOR")
				}
				// Masking twice restores the input.
				frame.Unmask(got, testMask, offset)
				if !bytes.Equal(got, pattern(n)) {
					t.Fatal("Unmask is not its own inverse")
				}
			})
		}
	}
}

// TestUnmaskInPieces unmasks a payload piece by piece, as it arrives, and
// compares with unmasking it whole.
func TestUnmaskInPieces(t *testing.T) {
	const n = 200
	whole := pattern(n)
	frame.Unmask(whole, testMask, 0)
	for _, step := range []int{1, 2, 3, 5, 7, 16, 17, 33, 64, 199} {
		t.Run(fmt.Sprintf("step%d", step), func(t *testing.T) {
			got := pattern(n)
			for off := 0; off < n; off += step {
				end := min(off+step, n)
				frame.Unmask(got[off:end], testMask, off)
			}
			if !bytes.Equal(got, whole) {
				t.Fatal("unmasking in pieces differs from unmasking whole")
			}
		})
	}
}
