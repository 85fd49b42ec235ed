package handshake

import "bytes"

// The small lexical pieces of RFC 9110 that both sides use. None of them
// allocates.

// NextItem splits the comma-separated list v (RFC 9110 §5.6.1) at its first
// comma: item is the first element with optional whitespace trimmed (it may
// be empty: empty elements are allowed and ignored by callers), rest is what
// follows the comma. Walking a list is
//
//	for len(v) > 0 { item, v = NextItem(v); ... }
//
// Quoted strings are not special: the lists walked here (tokens,
// subprotocol names) cannot contain them; extension offers, which can, are
// parsed by the Negotiator instead.
func NextItem(v []byte) (item, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return TrimOWS(v[:i]), v[i+1:]
	}
	return TrimOWS(v), nil
}

// HasToken reports whether the comma-separated list v contains token,
// compared ASCII case-insensitively, as Connection and Upgrade values are.
func HasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var item []byte
		item, v = NextItem(v)
		if EqualFold(item, token) {
			return true
		}
	}
	return false
}

// HeaderValues appends to dst the value of every header line called name
// (compared case-insensitively) in fields, a head's header lines as
// Request.Fields or Response.Fields holds them, already validated by the
// parser. Several lines of one name mean the same as one line with their
// values joined by commas (RFC 9110 §5.3). The values alias fields.
func HeaderValues(fields []byte, name string, dst [][]byte) [][]byte {
	for {
		line, rest, ok := cutLine(fields)
		if !ok || len(line) == 0 {
			return dst
		}
		fields = rest
		colon := bytes.IndexByte(line, ':')
		if colon > 0 && EqualFold(line[:colon], name) {
			dst = append(dst, TrimOWS(line[colon+1:]))
		}
	}
}

// IsToken reports whether b is a non-empty RFC 9110 §5.6.2 token.
func IsToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// validValue reports whether b may be a field value: RFC 9110 §5.5 allows
// visible ASCII, obs-text (bytes from 0x80), space and tab, so NUL, CR,
// LF, DEL and the other control characters are refused.
func validValue(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// EqualFold compares b with s ASCII case-insensitively without allocating.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// TrimOWS removes the optional whitespace (spaces and tabs) around b.
func TrimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// cutLine splits b at its first CRLF. The head scanner has already refused
// bare LF, so CRLF is the only line ending left.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return nil, b, false
	}
	return b[:i], b[i+2:], true
}

// headEnd looks for the blank line that ends a head in b[:limit], resuming
// at from (a previous call's next) so that a head arriving a byte at a time
// costs linear, not quadratic, work. It returns the length of the head
// including the blank line, or -1 and where to resume. Every LF is examined
// once, when it arrives: one not preceded by CR is ErrBareLF at once, so a
// client using bare LF line endings is answered without waiting for a
// timeout (RFC 9112 §2.2 lets a server refuse them). Bytes past limit are
// never looked at, so the answer does not depend on how the input was
// split.
func headEnd(b []byte, from, limit int) (end, next int, err error) {
	window := b[:min(len(b), limit)]
	from = min(max(from, 0), len(window))
	for i := from; i < len(window); {
		j := bytes.IndexByte(window[i:], '\n')
		if j < 0 {
			break
		}
		lf := i + j
		if lf == 0 || window[lf-1] != '\r' {
			return -1, lf, ErrBareLF
		}
		if lf >= 3 && window[lf-2] == '\n' && window[lf-3] == '\r' {
			return lf + 1, lf, nil
		}
		i = lf + 1
	}
	return -1, len(window), nil
}
