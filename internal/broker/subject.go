package broker

import "strings"

// Topic to subject encoding. NATS subjects split on '.', treat "*" and ">"
// tokens as wildcards and forbid whitespace, while myriad topics may hold
// dots (and, if the topic rules ever widen, anything). EncodeTopic keeps the
// bytes that are safe inside one NATS token and every myriad topic byte
// except '.' as they are, and writes every other byte as '%' and two
// upper-case hex digits, so the result is one token that is never a
// wildcard. The encoding is canonical: DecodeTopic accepts only what
// EncodeTopic produces, so two subjects never name the same topic.

const hexDigits = "0123456789ABCDEF"

// plainByte reports whether b is written as itself in an encoded topic.
func plainByte(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	switch b {
	case '_', '-', ':', '/', '@':
		return true
	}
	return false
}

// EncodeTopic returns the single NATS token that stands for topic. It is
// a pure function; any goroutine may call it.
func EncodeTopic(topic string) string {
	n := 0
	for i := 0; i < len(topic); i++ {
		if !plainByte(topic[i]) {
			n++
		}
	}
	if n == 0 {
		return topic
	}
	var b strings.Builder
	b.Grow(len(topic) + 2*n)
	for i := 0; i < len(topic); i++ {
		c := topic[i]
		if plainByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xF])
	}
	return b.String()
}

// DecodeTopic reverses EncodeTopic. It fails with ErrBadSubject on
// anything EncodeTopic cannot produce: an empty token, a byte that should
// have been escaped, a short or lower-case escape, or an escape of a byte
// that should have been written plain. Any goroutine may call it.
func DecodeTopic(token string) (string, error) {
	if token == "" {
		return "", ErrBadSubject
	}
	if !strings.Contains(token, "%") {
		for i := 0; i < len(token); i++ {
			if !plainByte(token[i]) {
				return "", ErrBadSubject
			}
		}
		return token, nil
	}
	out := make([]byte, 0, len(token))
	for i := 0; i < len(token); i++ {
		c := token[i]
		if plainByte(c) {
			out = append(out, c)
			continue
		}
		if c != '%' || i+2 >= len(token) {
			return "", ErrBadSubject
		}
		hi, lo := unhex(token[i+1]), unhex(token[i+2])
		if hi < 0 || lo < 0 {
			return "", ErrBadSubject
		}
		d := byte(hi<<4 | lo)
		if plainByte(d) {
			return "", ErrBadSubject
		}
		out = append(out, d)
		i += 2
	}
	return string(out), nil
}

// unhex returns the value of an upper-case hex digit, or -1.
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Subject returns the NATS subject of topic under prefix. Any goroutine may
// call it.
func Subject(prefix, topic string) string {
	return prefix + "." + EncodeTopic(topic)
}

// TopicOf returns the topic whose subject under prefix is subject, or
// ErrBadSubject. Any goroutine may call it.
func TopicOf(prefix, subject string) (string, error) {
	rest, ok := strings.CutPrefix(subject, prefix+".")
	if !ok {
		return "", ErrBadSubject
	}
	return DecodeTopic(rest)
}
