package frame_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// FuzzParseHeader parses the input whole and split at a chosen point, as an
// event loop would see it arrive in two reads. The prefix must either ask
// for more input without consuming anything or give the same answer as the
// whole; a header that parses must re-encode to exactly the bytes consumed.
func FuzzParseHeader(f *testing.F) {
	for _, tc := range validHeaderCases() {
		for _, split := range []uint{0, 1, 2, uint(tc.n) - 1, uint(tc.n)} {
			f.Add(tc.in, split)
		}
		f.Add(append(append([]byte(nil), tc.in...), "payload"...), uint(tc.n)+3)
	}
	m := testMask
	for _, in := range [][]byte{
		nil,
		wire(0x82, 0x7e, 0x00, 0x7d),
		wire(0x82, 0xfe, 0x00, 0x7d, m),
		wire(0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff),
		wire(0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0),
		wire(0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, m),
	} {
		f.Add(in, uint(len(in)/2))
	}

	f.Fuzz(func(t *testing.T, data []byte, split uint) {
		h, n, err := frame.ParseHeader(data)
		switch {
		case err == nil:
			if n < 2 || n > frame.MaxHeaderSize || n > len(data) {
				t.Fatalf("consumed %d of %d bytes", n, len(data))
			}
			if h.Length < 0 {
				t.Fatalf("negative length %d", h.Length)
			}
			if got := frame.HeaderSize(h); got != n {
				t.Fatalf("HeaderSize = %d, consumed %d", got, n)
			}
			if enc := frame.AppendHeader(nil, h); !bytes.Equal(enc, data[:n]) {
				t.Fatalf("AppendHeader(%+v) = % x, parsed from % x", h, enc, data[:n])
			}
			// The role checks must accept or refuse without panicking.
			_ = frame.CheckClient(h, ws.Rsv(true, false, false))
			_ = frame.CheckServer(h, 0)
		case err == frame.ErrShortBuffer:
			if n != 0 || h != (ws.Header{}) {
				t.Fatalf("short buffer with n=%d, header %+v", n, h)
			}
			if len(data) >= frame.MaxHeaderSize {
				t.Fatalf("short buffer with %d bytes", len(data))
			}
		default:
			var pe *frame.ProtocolError
			if !errors.As(err, &pe) || n != 0 || h != (ws.Header{}) {
				t.Fatalf("ParseHeader = %+v, %d, %v; want a protocol error consuming nothing", h, n, err)
			}
		}

		k := int(split % uint(len(data)+1))
		h2, n2, err2 := frame.ParseHeader(data[:k])
		if err2 == frame.ErrShortBuffer {
			if n2 != 0 || h2 != (ws.Header{}) {
				t.Fatalf("prefix of %d: short buffer with n=%d, header %+v", k, n2, h2)
			}
			return
		}
		if h2 != h || n2 != n || err2 != err {
			t.Fatalf("prefix of %d: %+v, %d, %v; whole: %+v, %d, %v", k, h2, n2, err2, h, n, err)
		}
	})
}

// FuzzUTF8 validates the input whole and in two Writes split at a chosen
// point. Both must agree with each other and with unicode/utf8, and each
// Write must fail exactly when its piece holds the first invalid byte.
func FuzzUTF8(f *testing.F) {
	for _, tc := range utf8Corpus() {
		f.Add([]byte(tc.in), uint(len(tc.in)/2))
		f.Add([]byte(tc.in), uint(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint) {
		want := utf8.Valid(data)
		if got := frame.ValidUTF8(data); got != want {
			t.Fatalf("ValidUTF8(% x) = %v, utf8.Valid = %v", data, got, want)
		}
		bad := firstInvalid(data)

		var whole frame.UTF8
		okWhole := whole.Write(data)
		if okWhole != (bad == len(data)) {
			t.Fatalf("Write(% x) = %v, first invalid byte at %d", data, okWhole, bad)
		}

		k := int(split % uint(len(data)+1))
		var v frame.UTF8
		ok1 := v.Write(data[:k])
		ok2 := v.Write(data[k:])
		if ok1 != (bad >= k) {
			t.Fatalf("first Write(% x) = %v, first invalid byte at %d", data[:k], ok1, bad)
		}
		if ok1 && ok2 != okWhole {
			t.Fatalf("split at %d: second Write = %v, whole Write = %v", k, ok2, okWhole)
		}
		if !ok1 && ok2 {
			t.Fatal("Write succeeded after a failure")
		}
		if got, gotWhole := ok1 && ok2 && v.Complete(), okWhole && whole.Complete(); got != gotWhole || got != want {
			t.Fatalf("split at %d: %v, whole: %v, utf8.Valid: %v", k, got, gotWhole, want)
		}
	})
}

// FuzzParseClose decodes arbitrary close payloads. A payload that is
// accepted must be one a peer could have produced with AppendClose, and
// AppendClose must reproduce it byte for byte.
func FuzzParseClose(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add(closePayload(1000, ""))
	f.Add(closePayload(1001, "going away"))
	f.Add(closePayload(4999, strings.Repeat("é", 61)))
	f.Add(closePayload(1005, ""))
	f.Add(closePayload(1000, "\xed\xa0\x80"))
	f.Add(closePayload(3000, strings.Repeat("a", 200)))

	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := frame.ParseClose(p)
		switch {
		case len(p) == 0:
			if err != nil || code != ws.StatusNoStatusRcvd || reason != nil {
				t.Fatalf("empty payload: %d, %q, %v", code, reason, err)
			}
			return
		case len(p) == 1:
			if err != frame.ErrCloseLength {
				t.Fatalf("one-byte payload: err = %v", err)
			}
			return
		}
		wire := ws.StatusCode(binary.BigEndian.Uint16(p))
		switch {
		case !frame.ValidCloseCode(wire):
			if err != frame.ErrCloseCode {
				t.Fatalf("code %d: err = %v, want ErrCloseCode", wire, err)
			}
			return
		case !utf8.Valid(p[2:]):
			if err != frame.ErrCloseReasonUTF8 {
				t.Fatalf("reason % x: err = %v, want ErrCloseReasonUTF8", p[2:], err)
			}
			return
		}
		if err != nil || code != wire || !bytes.Equal(reason, p[2:]) {
			t.Fatalf("ParseClose(% x) = %d, %q, %v", p, code, reason, err)
		}
		if len(reason) > 123 {
			return // too long for a control frame; AppendClose would cut it
		}
		want := frame.AppendHeader(nil, ws.Header{Fin: true, OpCode: ws.OpClose, Length: int64(len(p))})
		want = append(want, p...)
		if got := frame.AppendClose(nil, code, string(reason)); !bytes.Equal(got, want) {
			t.Fatalf("AppendClose(%d, %q) = % x, want % x", code, reason, got, want)
		}
	})
}

// FuzzAppendClose checks that any code and reason give a well-formed close
// frame whose reason is the longest prefix of the input that fits and, for
// UTF-8 input, ends on a rune boundary.
func FuzzAppendClose(f *testing.F) {
	f.Add(uint16(0), "")
	f.Add(uint16(1000), "bye")
	f.Add(uint16(4000), strings.Repeat("a", 122)+"é")
	f.Add(uint16(1001), strings.Repeat("€", 50))
	f.Add(uint16(1011), strings.Repeat("😀", 40))
	f.Add(uint16(3000), strings.Repeat("\x80", 130))

	f.Fuzz(func(t *testing.T, code uint16, reason string) {
		out := frame.AppendClose(nil, ws.StatusCode(code), reason)
		h, n, err := frame.ParseHeader(out)
		if err != nil {
			t.Fatalf("ParseHeader(% x): %v", out, err)
		}
		if err := frame.CheckServer(h, 0); err != nil || h.OpCode != ws.OpClose || int(h.Length) != len(out)-n {
			t.Fatalf("bad close header %+v (%v) for %d payload bytes", h, err, len(out)-n)
		}
		payload := out[n:]
		if code == 0 {
			if len(payload) != 0 {
				t.Fatalf("code 0: payload % x, want empty", payload)
			}
			return
		}
		if binary.BigEndian.Uint16(payload) != code {
			t.Fatalf("payload % x does not start with code %d", payload, code)
		}
		got := string(payload[2:])
		if !strings.HasPrefix(reason, got) {
			t.Fatalf("reason %q is not a prefix of %q", got, reason)
		}
		if len(reason) <= 123 {
			if got != reason {
				t.Fatalf("reason %q cut although it fits", reason)
			}
			return
		}
		// Cut at the last byte that does not continue a rune (or at 0 when
		// the first 124 bytes hold none), so no later boundary is lost.
		if len(got) > 123 || len(got) > 0 && reason[len(got)]&0xc0 == 0x80 {
			t.Fatalf("reason cut at %d", len(got))
		}
		for i := len(got) + 1; i <= 123; i++ {
			if reason[i]&0xc0 != 0x80 {
				t.Fatalf("reason cut at %d although %d is a boundary", len(got), i)
			}
		}
		if utf8.ValidString(reason) && !utf8.ValidString(got) {
			t.Fatalf("valid reason %q cut to invalid %q", reason, got)
		}
	})
}
