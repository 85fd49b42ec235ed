package frame_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// closePayload builds a close frame payload from a code and a reason.
func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

func TestParseClose(t *testing.T) {
	type closeCase struct {
		name   string
		in     []byte
		code   ws.StatusCode
		reason string
		err    error
	}
	cases := []closeCase{
		{"empty", nil, ws.StatusNoStatusRcvd, "", nil},
		{"empty non-nil", []byte{}, ws.StatusNoStatusRcvd, "", nil},
		{"one byte", []byte{0x03}, 0, "", frame.ErrCloseLength},
		{"normal with reason", closePayload(1000, "bye"), 1000, "bye", nil},
		{"multibyte reason", closePayload(1001, "κόσμε"), 1001, "κόσμε", nil},
		{"reason 123 bytes", closePayload(4000, strings.Repeat("r", 123)), 4000, strings.Repeat("r", 123), nil},
		{"invalid reason byte", closePayload(1000, "\xff"), 0, "", frame.ErrCloseReasonUTF8},
		{"truncated reason", closePayload(1000, "ok\xce"), 0, "", frame.ErrCloseReasonUTF8},
		{"overlong reason", closePayload(1000, "\xc0\x80"), 0, "", frame.ErrCloseReasonUTF8},
		{"surrogate reason", closePayload(1000, "\xed\xa0\x80"), 0, "", frame.ErrCloseReasonUTF8},
		{"reason past U+10FFFF", closePayload(1000, "\xf4\x90\x80\x80"), 0, "", frame.ErrCloseReasonUTF8},
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases,
			closeCase{fmt.Sprintf("invalid code %d", code), closePayload(code, ""), 0, "", frame.ErrCloseCode},
			closeCase{fmt.Sprintf("invalid code %d with reason", code), closePayload(code, "why"), 0, "", frame.ErrCloseCode},
		)
	}
	for _, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		cases = append(cases,
			closeCase{fmt.Sprintf("valid code %d", code), closePayload(code, ""), ws.StatusCode(code), "", nil},
			closeCase{fmt.Sprintf("valid code %d with reason", code), closePayload(code, "why"), ws.StatusCode(code), "why", nil},
		)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := frame.ParseClose(tc.in)
			checkProtocolError(t, err, tc.err)
			if code != tc.code || string(reason) != tc.reason {
				t.Fatalf("ParseClose(% x) = %d, %q; want %d, %q", tc.in, code, reason, tc.code, tc.reason)
			}
			if len(reason) > 0 && &reason[0] != &tc.in[2] {
				t.Fatal("reason does not alias the payload")
			}
		})
	}
}

// TestValidCloseCodeAgreesWithParseClose checks every 16-bit code: the
// parser accepts exactly the codes ValidCloseCode accepts, and those lie in
// the ranges RFC 6455 §7.4 and the IANA registry allow on the wire.
func TestValidCloseCodeAgreesWithParseClose(t *testing.T) {
	ranges := []struct {
		name     string
		lo, hi   int
		wireable bool
	}{
		{"below 1000", 0, 999, false},
		{"1000-1003", 1000, 1003, true},
		{"1004-1006", 1004, 1006, false},
		{"1007-1014", 1007, 1014, true},
		{"1015-2999", 1015, 2999, false},
		{"3000-4999", 3000, 4999, true},
		{"5000 and above", 5000, 65535, false},
	}
	for _, r := range ranges {
		t.Run(r.name, func(t *testing.T) {
			for c := r.lo; c <= r.hi; c++ {
				code := ws.StatusCode(c)
				if got := frame.ValidCloseCode(code); got != r.wireable {
					t.Fatalf("ValidCloseCode(%d) = %v, want %v", c, got, r.wireable)
				}
				_, _, err := frame.ParseClose(closePayload(uint16(c), ""))
				if (err == nil) != r.wireable {
					t.Fatalf("ParseClose with code %d: err = %v", c, err)
				}
			}
		})
	}
}

func TestAppendClose(t *testing.T) {
	a := strings.Repeat
	cases := []struct {
		name   string
		code   ws.StatusCode
		reason string
		want   string // reason as sent
	}{
		{"no code", 0, "", ""},
		{"no code drops reason", 0, "ignored", ""},
		{"code only", 1000, "", ""},
		{"short reason", 1001, "going away", "going away"},
		{"123 ASCII fits", 4000, a("a", 123), a("a", 123)},
		{"124 ASCII cut to 123", 4000, a("a", 124), a("a", 123)},
		{"1000 ASCII cut to 123", 4000, a("a", 1000), a("a", 123)},
		{"2-byte rune ends at 123", 1000, a("a", 121) + "é", a("a", 121) + "é"},
		{"2-byte rune straddles 123", 1000, a("a", 122) + "é", a("a", 122)},
		{"2-byte rune starts at 123", 1000, a("a", 123) + "é", a("a", 123)},
		{"3-byte rune ends at 123", 1000, a("a", 120) + "€", a("a", 120) + "€"},
		{"3-byte rune straddles 123 by one", 1000, a("a", 121) + "€", a("a", 121)},
		{"3-byte rune straddles 123 by two", 1000, a("a", 122) + "€", a("a", 122)},
		{"4-byte rune ends at 123", 1000, a("a", 119) + "😀", a("a", 119) + "😀"},
		{"4-byte rune straddles 123 by one", 1000, a("a", 120) + "😀", a("a", 120)},
		{"4-byte rune straddles 123 by two", 1000, a("a", 121) + "😀", a("a", 121)},
		{"4-byte rune straddles 123 by three", 1000, a("a", 122) + "😀", a("a", 122)},
		{"all 2-byte runes", 1000, a("é", 100), a("é", 61)},
		{"all 3-byte runes", 1000, a("€", 100), a("€", 41)},
		{"all 4-byte runes", 1000, a("😀", 100), a("😀", 30)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("xy")
			out := frame.AppendClose(append([]byte(nil), prefix...), tc.code, tc.reason)
			if !bytes.Equal(out[:2], prefix) {
				t.Fatal("AppendClose overwrote the existing bytes")
			}
			out = out[2:]
			h, n, err := frame.ParseHeader(out)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if err := frame.CheckServer(h, 0); err != nil {
				t.Fatalf("CheckServer(%+v): %v", h, err)
			}
			if h.OpCode != ws.OpClose || !h.Fin || int(h.Length) != len(out)-n {
				t.Fatalf("header %+v does not describe a %d-byte close payload", h, len(out)-n)
			}
			payload := out[n:]
			if len(payload) > 125 {
				t.Fatalf("payload is %d bytes, over the control frame limit", len(payload))
			}
			if tc.code == 0 {
				if len(payload) != 0 {
					t.Fatalf("payload = % x, want empty", payload)
				}
				return
			}
			code, reason, err := frame.ParseClose(payload)
			if err != nil || code != tc.code || string(reason) != tc.want {
				t.Fatalf("ParseClose = %d, %q, %v; want %d, %q, nil", code, reason, err, tc.code, tc.want)
			}
			if !utf8.Valid(reason) || !strings.HasPrefix(tc.reason, string(reason)) {
				t.Fatalf("reason %q is not a valid UTF-8 prefix of the input", reason)
			}
		})
	}
}
