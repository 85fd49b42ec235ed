package frame

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// MaxHeaderSize is the largest frame header: 2 fixed bytes, 8 bytes of
// extended length and a 4-byte mask key.
const MaxHeaderSize = 14

// Length encodings of RFC 6455 §5.2.
const (
	len7Max  = 125
	len16Tag = 126
	len64Tag = 127
)

// ParseHeader decodes the frame header at the start of b.
//
// It returns the header and the number of bytes it occupies, or
// ErrShortBuffer when b holds only a prefix of a header, in which case
// nothing is consumed. Structural violations that make the stream
// unreadable are reported as *ProtocolError: a 64-bit length with the most
// significant bit set, and a length not in its minimal form (RFC 6455 §5.2
// requires senders to use the minimal number of bytes). Rules that depend on
// the endpoint's role or negotiated extensions are checked by CheckClient.
func ParseHeader(b []byte) (h ws.Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, ErrShortBuffer
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.Rsv = (b0 >> 4) & 0x07
	h.OpCode = ws.OpCode(b0 & 0x0f)
	h.Masked = b1&0x80 != 0

	n = 2
	switch l := b1 & 0x7f; l {
	case len16Tag:
		if len(b) < 4 {
			return ws.Header{}, 0, ErrShortBuffer
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
		if h.Length <= len7Max {
			return ws.Header{}, 0, ErrLengthNotMinimal
		}
	case len64Tag:
		if len(b) < 10 {
			return ws.Header{}, 0, ErrShortBuffer
		}
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return ws.Header{}, 0, ErrLengthOverflow
		}
		h.Length = int64(u)
		n = 10
		if h.Length <= 0xffff {
			return ws.Header{}, 0, ErrLengthNotMinimal
		}
	default:
		h.Length = int64(l)
	}

	if h.Masked {
		if len(b) < n+4 {
			return ws.Header{}, 0, ErrShortBuffer
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// CheckClient applies the rules a server enforces on every frame it
// receives, independent of message state: frames must be masked, reserved
// bits may only be set when an extension negotiated them (allowedRsv holds
// the permitted bits in ws.Header.Rsv form, for example ws.Rsv(true, false,
// false) with permessage-deflate), reserved opcodes are refused, and control
// frames are short and unfragmented.
func CheckClient(h ws.Header, allowedRsv byte) error {
	if !h.Masked {
		return ErrUnmasked
	}
	return checkCommon(h, allowedRsv)
}

// CheckServer is CheckClient for the client side: frames from a server must
// not be masked.
func CheckServer(h ws.Header, allowedRsv byte) error {
	if h.Masked {
		return ErrMasked
	}
	return checkCommon(h, allowedRsv)
}

func checkCommon(h ws.Header, allowedRsv byte) error {
	if h.Rsv&^allowedRsv != 0 {
		return ErrReservedBits
	}
	switch h.OpCode {
	case ws.OpContinuation, ws.OpText, ws.OpBinary:
		return nil
	case ws.OpClose, ws.OpPing, ws.OpPong:
		if h.Length > len7Max {
			return ErrControlTooLong
		}
		if !h.Fin {
			return ErrControlFragmented
		}
		if h.Rsv != 0 {
			// No extension defines reserved bits on control frames.
			return ErrReservedBits
		}
		return nil
	default:
		return ErrReservedOpCode
	}
}

// HeaderSize returns the encoded size of h.
func HeaderSize(h ws.Header) int {
	n := 2
	switch {
	case h.Length > 0xffff:
		n += 8
	case h.Length > len7Max:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the wire form of h to dst, using the minimal length
// encoding, and returns the extended slice. It allocates only when dst lacks
// capacity.
func AppendHeader(dst []byte, h ws.Header) []byte {
	b0 := h.Rsv<<4 | byte(h.OpCode)&0x0f
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch {
	case h.Length > 0xffff:
		dst = append(dst, b0, b1|len64Tag)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.Length))
	case h.Length > len7Max:
		dst = append(dst, b0, b1|len16Tag)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, b1|byte(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// AppendFrame appends a whole unmasked frame (as a server sends it) with the
// given fin flag, opcode and payload.
func AppendFrame(dst []byte, fin bool, op ws.OpCode, payload []byte) []byte {
	dst = AppendHeader(dst, ws.Header{Fin: fin, OpCode: op, Length: int64(len(payload))})
	return append(dst, payload...)
}

// AppendMaskedFrame appends a whole masked frame (as a client sends it). The
// payload is copied and masked in dst; the caller's slice is not modified.
func AppendMaskedFrame(dst []byte, fin bool, op ws.OpCode, mask [4]byte, payload []byte) []byte {
	dst = AppendHeader(dst, ws.Header{Fin: fin, OpCode: op, Masked: true, Mask: mask, Length: int64(len(payload))})
	start := len(dst)
	dst = append(dst, payload...)
	ws.Cipher(dst[start:], mask, 0)
	return dst
}

// Unmask applies the masking key to p in place. offset is the position of
// p[0] within the frame's payload, so a payload may be unmasked in pieces as
// it arrives.
func Unmask(p []byte, mask [4]byte, offset int) {
	ws.Cipher(p, mask, offset)
}
