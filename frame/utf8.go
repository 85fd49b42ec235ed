package frame

import "encoding/binary"

// UTF8 validates text incrementally, across frames and reads. A sequence may
// be split anywhere; Write fails at the first byte that cannot belong to a
// valid encoding (overlong forms, surrogates and code points above U+10FFFF
// included), so a peer sending bad text is stopped without waiting for the
// end of its message. The zero value is ready to use and is 1 byte, cheap to
// keep in a per-connection struct.
type UTF8 struct {
	state uint8
}

// Validator states. utf8Accept is between characters; the others say what
// the next byte must be. The tight ranges after E0, ED, F0 and F4 are what
// exclude overlong encodings, surrogates and values past U+10FFFF.
const (
	utf8Accept  uint8 = iota
	utf8Need1         // one more 80-BF
	utf8Need2         // two more 80-BF
	utf8Need3         // three more 80-BF
	utf8AfterE0       // A0-BF, then one more
	utf8AfterED       // 80-9F, then one more
	utf8AfterF0       // 90-BF, then two more
	utf8AfterF4       // 80-8F, then two more
	utf8Invalid
)

// Write feeds p to the validator and reports whether everything seen so far
// is a valid prefix of UTF-8 text. After a false result the validator stays
// invalid until Reset.
func (v *UTF8) Write(p []byte) bool {
	s := v.state
	if s == utf8Invalid {
		// Checked here because an empty p never reaches utf8Step.
		return false
	}
	i := 0
	for i < len(p) {
		if s == utf8Accept {
			// One word is checked here, inline, so that text dense in
			// multi-byte characters costs what it did before the
			// longer skip, which is not inlined.
			if i+8 <= len(p) && binary.LittleEndian.Uint64(p[i:])&asciiMask == 0 {
				i = skipASCII(p, i+8)
			}
			if i == len(p) {
				break
			}
		}
		s = utf8Step(s, p[i])
		if s == utf8Invalid {
			v.state = s
			return false
		}
		i++
	}
	v.state = s
	return true
}

// asciiMask has the high bit of every byte of a word set: a word of
// ASCII has none of them.
const asciiMask = 0x8080808080808080

// skipASCII returns the index of the first byte at or after i that may be
// non-ASCII. Text is mostly ASCII (JSON, identifiers), so it is skipped
// 32 bytes at a time, four words OR'd together so that the loop has one
// branch per 32 bytes, then a word at a time; the word that holds a
// non-ASCII byte is left to the byte-wise state machine.
func skipASCII(p []byte, i int) int {
	for ; i+32 <= len(p); i += 32 {
		q := p[i : i+32 : i+32]
		w := binary.LittleEndian.Uint64(q) | binary.LittleEndian.Uint64(q[8:]) |
			binary.LittleEndian.Uint64(q[16:]) | binary.LittleEndian.Uint64(q[24:])
		if w&asciiMask != 0 {
			break
		}
	}
	for ; i+8 <= len(p); i += 8 {
		if binary.LittleEndian.Uint64(p[i:])&asciiMask != 0 {
			break
		}
	}
	return i
}

// Complete reports whether the text ended on a character boundary. A text
// message is valid only when every Write returned true and Complete does.
func (v *UTF8) Complete() bool { return v.state == utf8Accept }

// Reset makes the validator ready for a new message.
func (v *UTF8) Reset() { v.state = utf8Accept }

func utf8Step(s uint8, c byte) uint8 {
	switch s {
	case utf8Accept:
		switch {
		case c < 0x80:
			return utf8Accept
		case c < 0xc2: // continuation byte or overlong two-byte lead
			return utf8Invalid
		case c < 0xe0:
			return utf8Need1
		case c == 0xe0:
			return utf8AfterE0
		case c == 0xed:
			return utf8AfterED
		case c < 0xf0:
			return utf8Need2
		case c == 0xf0:
			return utf8AfterF0
		case c < 0xf4:
			return utf8Need3
		case c == 0xf4:
			return utf8AfterF4
		default:
			return utf8Invalid
		}
	case utf8Need1, utf8Need2, utf8Need3:
		if c&0xc0 != 0x80 {
			return utf8Invalid
		}
		return s - 1
	case utf8AfterE0:
		if c < 0xa0 || c > 0xbf {
			return utf8Invalid
		}
		return utf8Need1
	case utf8AfterED:
		if c < 0x80 || c > 0x9f {
			return utf8Invalid
		}
		return utf8Need1
	case utf8AfterF0:
		if c < 0x90 || c > 0xbf {
			return utf8Invalid
		}
		return utf8Need2
	case utf8AfterF4:
		if c < 0x80 || c > 0x8f {
			return utf8Invalid
		}
		return utf8Need2
	}
	return utf8Invalid
}

// ValidUTF8 reports whether p is complete, valid UTF-8.
func ValidUTF8(p []byte) bool {
	var v UTF8
	return v.Write(p) && v.Complete()
}
