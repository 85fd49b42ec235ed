package frame_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/myriadws/myriad/frame"
)

// firstInvalid returns the index of the first byte of b at which b stops
// being a prefix of some valid UTF-8 text, or len(b) when all of b is such
// a prefix. It is built on the standard library only: utf8.FullRune reports
// false exactly for a valid but unfinished encoding.
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			i += size
			continue
		}
		// Either an invalid encoding or one cut short by the end of b.
		k := 0
		for k < utf8.UTFMax-1 && i+k < len(b) && !utf8.FullRune(b[i:i+k+1]) {
			k++
		}
		if i+k == len(b) {
			return len(b) // unfinished, not yet wrong
		}
		return i + k
	}
	return len(b)
}

type utf8Case struct {
	name string
	in   string
}

func utf8Corpus() []utf8Case {
	cases := []utf8Case{
		{"empty", ""},
		{"ascii", "Hello, world"},
		{"ascii 7", "abcdefg"},
		{"ascii 8", "abcdefgh"},
		{"ascii 9", "abcdefghi"},
		{"ascii 16", strings.Repeat("x", 16)},
		{"ascii 17", strings.Repeat("x", 17)},
		{"nul bytes", "\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
		{"del", "\x7f"},
		{"kosme", "κόσμε"},
		{"mixed widths", "a\u00e9\u20ac\U0001F600z"},
		{"U+0080", "\xc2\x80"},
		{"U+07FF", "\xdf\xbf"},
		{"U+0800", "\xe0\xa0\x80"},
		{"U+D7FF", "\xed\x9f\xbf"},
		{"U+E000", "\xee\x80\x80"},
		{"U+FFFD", "\xef\xbf\xbd"},
		{"U+FFFF", "\xef\xbf\xbf"},
		{"U+10000", "\xf0\x90\x80\x80"},
		{"U+FFFFF", "\xf3\xbf\xbf\xbf"},
		{"U+100000", "\xf4\x80\x80\x80"},
		{"U+10FFFF", "\xf4\x8f\xbf\xbf"},
		{"ascii then multibyte after 8", "abcdefghijκόσμε"},
		{"multibyte then long ascii", "κόσμε" + strings.Repeat("a", 20)},

		{"overlong C0 80", "\xc0\x80"},
		{"overlong C1 BF", "\xc1\xbf"},
		{"overlong E0 80 80", "\xe0\x80\x80"},
		{"overlong E0 9F BF", "\xe0\x9f\xbf"},
		{"overlong F0 80 80 80", "\xf0\x80\x80\x80"},
		{"overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf"},
		{"surrogate ED A0 80", "\xed\xa0\x80"},
		{"surrogate ED BF BF", "\xed\xbf\xbf"},
		{"surrogate pair", "\xed\xa0\x80\xed\xb0\x80"},
		{"above max F4 90 80 80", "\xf4\x90\x80\x80"},
		{"above max F4 BF BF BF", "\xf4\xbf\xbf\xbf"},
		{"lone continuation 80", "\x80"},
		{"lone continuation BF", "\xbf"},
		{"continuation after ascii", "abc\x80"},
		{"two-byte lead then ascii", "\xc2A"},
		{"three-byte lead then ascii", "\xe1\x80A"},
		{"four-byte lead then ascii", "\xf1\x80\x80A"},
		{"extra continuation", "\xc2\x80\x80"},
		{"truncated C2", "\xc2"},
		{"truncated E0 A0", "\xe0\xa0"},
		{"truncated E1", "\xe1"},
		{"truncated F0 90 80", "\xf0\x90\x80"},
		{"truncated F4 8F", "\xf4\x8f"},
		{"truncated after ascii", "abc\xe2\x82"},
		{"truncated then ascii", "\xe2\x82abc"},
		{"invalid after 16 ascii", strings.Repeat("a", 16) + "\x80" + strings.Repeat("a", 8)},
		{"invalid at 7 of 8", "abcdefg\xff"},
		{"invalid inside ascii block", "abc\xffdefghijk"},
		{"kosme then above max", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64"},
	}
	for c := 0xf5; c <= 0xff; c++ {
		cases = append(cases,
			utf8Case{fmt.Sprintf("byte %X", c), string([]byte{byte(c)})},
			utf8Case{fmt.Sprintf("byte %X with continuations", c), string([]byte{byte(c), 0x80, 0x80, 0x80})},
		)
	}
	return cases
}

func TestUTF8MatchesStdlib(t *testing.T) {
	for _, tc := range utf8Corpus() {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			want := utf8.Valid(in)
			if got := frame.ValidUTF8(in); got != want {
				t.Fatalf("ValidUTF8(% x) = %v, utf8.Valid = %v", in, got, want)
			}
			var v frame.UTF8
			ok := v.Write(in)
			if wantOK := firstInvalid(in) == len(in); ok != wantOK {
				t.Fatalf("Write(% x) = %v, want %v", in, ok, wantOK)
			}
			if ok && v.Complete() != want {
				t.Fatalf("Complete after Write(% x) = %v, want %v", in, v.Complete(), want)
			}
		})
	}
}

// TestUTF8SplitEverywhere feeds each corpus entry in two Writes, split at
// every offset, and in single bytes: the verdict must not depend on where
// the text was cut, and each Write must fail exactly when its piece holds
// the first invalid byte.
func TestUTF8SplitEverywhere(t *testing.T) {
	for _, tc := range utf8Corpus() {
		in := []byte(tc.in)
		want := utf8.Valid(in)
		bad := firstInvalid(in)
		for k := 0; k <= len(in); k++ {
			t.Run(fmt.Sprintf("%s/split%d", tc.name, k), func(t *testing.T) {
				var v frame.UTF8
				ok1 := v.Write(in[:k])
				ok2 := v.Write(in[k:])
				if ok1 != (bad >= k) {
					t.Fatalf("first Write(% x) = %v, first invalid byte at %d", in[:k], ok1, bad)
				}
				if ok2 != (bad == len(in)) {
					t.Fatalf("second Write(% x) = %v, first invalid byte at %d", in[k:], ok2, bad)
				}
				if got := ok1 && ok2 && v.Complete(); got != want {
					t.Fatalf("split at %d: valid = %v, utf8.Valid = %v", k, got, want)
				}
			})
		}
		t.Run(tc.name+"/bytewise", func(t *testing.T) {
			var v frame.UTF8
			for i := range in {
				if ok := v.Write(in[i : i+1]); ok != (i < bad) {
					t.Fatalf("Write of byte %d (%02x) = %v, first invalid byte at %d", i, in[i], ok, bad)
				}
			}
			if got := bad == len(in) && v.Complete(); got != want {
				t.Fatalf("bytewise: valid = %v, utf8.Valid = %v", got, want)
			}
		})
	}
}

// TestUTF8FailFast checks that a Write fails as soon as its piece holds a
// byte no valid text can continue with, even though the message is not
// finished: "κόσμε" followed by F4 90, which would encode a code point past
// U+10FFFF.
func TestUTF8FailFast(t *testing.T) {
	in := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64")
	const bad = 12 // index of 0x90
	cases := []struct {
		name   string
		pieces []int // piece lengths; the rest of the input is the last piece
	}{
		{"one piece", nil},
		{"F4 90 together", []int{5, 10}},
		{"F4 90 starting a piece", []int{11}},
		{"F4 90 ending a piece", []int{13}},
		{"F4 alone then 90", []int{11, 1}},
		{"F4 ending a piece", []int{12}},
		{"90 alone", []int{12, 1}},
		{"bytewise", []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"unfinished message", []int{14}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v frame.UTF8
			off := 0
			pieces := append(append([]int(nil), tc.pieces...), len(in)-sum(tc.pieces))
			for _, n := range pieces {
				ok := v.Write(in[off : off+n])
				if want := off+n <= bad; ok != want {
					t.Fatalf("Write(in[%d:%d]) = %v, want %v", off, off+n, ok, want)
				}
				off += n
			}
			if v.Complete() {
				t.Fatal("Complete after invalid text")
			}
		})
	}
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// TestUTF8StaysInvalid checks that after a failed Write every later Write
// fails, including an empty one, until Reset.
func TestUTF8StaysInvalid(t *testing.T) {
	cases := []struct {
		name string
		next []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"ascii", []byte("a")},
		{"long ascii", []byte(strings.Repeat("a", 32))},
		{"continuation", []byte{0x80}},
		{"valid rune", []byte("κ")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v frame.UTF8
			if v.Write([]byte("ok\xff")) {
				t.Fatal("Write of an invalid byte succeeded")
			}
			if v.Write(tc.next) {
				t.Fatalf("Write(% x) after a failure = true", tc.next)
			}
			if v.Complete() {
				t.Fatal("Complete after a failure")
			}
			v.Reset()
			if !v.Write([]byte("κόσμε")) || !v.Complete() {
				t.Fatal("validator not usable after Reset")
			}
		})
	}
}

func TestUTF8Complete(t *testing.T) {
	cases := []struct {
		name     string
		pieces   []string
		complete bool
	}{
		{"zero value", nil, true},
		{"ascii", []string{"abc"}, true},
		{"mid two-byte", []string{"\xce"}, false},
		{"mid three-byte", []string{"\xe1\xbd"}, false},
		{"mid four-byte", []string{"\xf0\x90\x80"}, false},
		{"finished across pieces", []string{"\xf0", "\x90", "\x80", "\x80"}, true},
		{"empty pieces", []string{"", "\xce", "", "\xba", ""}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v frame.UTF8
			for _, p := range tc.pieces {
				if !v.Write([]byte(p)) {
					t.Fatalf("Write(% x) = false", p)
				}
			}
			if v.Complete() != tc.complete {
				t.Fatalf("Complete = %v, want %v", v.Complete(), tc.complete)
			}
		})
	}
}

// TestZeroValueSizes pins the sizes the per-connection state is documented
// to have.
func TestZeroValueSizes(t *testing.T) {
	cases := []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"UTF8", unsafe.Sizeof(frame.UTF8{}), 1},
		{"Message", unsafe.Sizeof(frame.Message{}), 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("size = %d bytes, want %d", tc.got, tc.want)
			}
		})
	}
}

// TestUTF8InASCIIRuns puts a character, an invalid byte or a cut
// character at every offset of ASCII runs long enough to be skipped a
// word and four words at a time, so that each lands before, inside and
// after the words the fast path reads, and checks the verdicts against
// the standard library.
func TestUTF8InASCIIRuns(t *testing.T) {
	inserts := []struct {
		name string
		b    string
	}{
		{"2-byte", "é"},
		{"4-byte", "😀"},
		{"continuation alone", "\x80"},
		{"surrogate", "\xed\xa0\x80"},
		{"cut 3-byte", "\xe2\x82"},
		{"DEL", "\x7f"},
	}
	for _, n := range []int{7, 8, 31, 32, 33, 40, 71} {
		for _, ins := range inserts {
			for at := 0; at <= n; at++ {
				in := []byte(strings.Repeat("a", at) + ins.b + strings.Repeat("b", n-at))
				t.Run(fmt.Sprintf("%d/%s/at%d", n, ins.name, at), func(t *testing.T) {
					if got, want := frame.ValidUTF8(in), utf8.Valid(in); got != want {
						t.Fatalf("ValidUTF8(%q) = %v, utf8.Valid = %v", in, got, want)
					}
					var v frame.UTF8
					if got, want := v.Write(in), firstInvalid(in) == len(in); got != want {
						t.Fatalf("Write(%q) = %v, want %v", in, got, want)
					}
				})
			}
		}
	}
}
