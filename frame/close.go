package frame

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// ParseClose decodes and validates a close frame's payload (RFC 6455 §5.5.1,
// §7.4). An empty payload is valid and yields ws.StatusNoStatusRcvd. One byte
// is a protocol error, as are codes that may not appear on the wire (below
// 1000, 1004-1006, 1015, unassigned 1016-2999, and 5000 and above); a reason
// that is not UTF-8 is ErrCloseReasonUTF8. The reason aliases p.
func ParseClose(p []byte) (code ws.StatusCode, reason []byte, err error) {
	switch len(p) {
	case 0:
		return ws.StatusNoStatusRcvd, nil, nil
	case 1:
		return 0, nil, ErrCloseLength
	}
	code = ws.StatusCode(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return 0, nil, ErrCloseCode
	}
	reason = p[2:]
	if !ValidUTF8(reason) {
		return 0, nil, ErrCloseReasonUTF8
	}
	return code, reason, nil
}

// ValidCloseCode reports whether code may be sent in a close frame: the
// codes RFC 6455 defines for use on the wire, the registered 1012-1014, and
// the ranges for libraries (3000-3999) and applications (4000-4999).
func ValidCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// AppendClose appends an unmasked close frame carrying code and reason. A
// zero code produces an empty payload. The reason is cut so the payload fits
// the 125-byte control frame limit, at a rune boundary so it stays UTF-8.
func AppendClose(dst []byte, code ws.StatusCode, reason string) []byte {
	if code == 0 {
		return AppendHeader(dst, ws.Header{Fin: true, OpCode: ws.OpClose})
	}
	const maxReason = len7Max - 2
	if len(reason) > maxReason {
		cut := maxReason
		for cut > 0 && reason[cut]&0xc0 == 0x80 {
			cut--
		}
		reason = reason[:cut]
	}
	dst = AppendHeader(dst, ws.Header{Fin: true, OpCode: ws.OpClose, Length: int64(2 + len(reason))})
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}
