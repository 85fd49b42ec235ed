package frame

import "github.com/gobwas/ws"

// Message tracks one direction's data message across its frames: which
// message is in progress, how big it has become, and whether its text is
// still valid UTF-8. It holds no payload; buffering is the caller's choice,
// so a connection that forwards frames as they come never copies them.
//
// The zero value means "no message in progress". It is 16 bytes.
type Message struct {
	size       int64
	op         ws.OpCode // opcode of the first frame, 0 when idle
	compressed bool      // RSV1 was set on the first frame
	active     bool
	text       UTF8
}

// Frame accounts for the header of a data frame (text, binary or
// continuation) before its payload is read. It enforces the fragmentation
// rules of RFC 6455 §5.4 and the size limit (limit <= 0 means none) and
// reports whether this frame starts a new message. A frame's declared
// length is counted here, so an oversized message is refused before any of
// its payload is buffered. Control frames, which RFC 6455 §5.4 allows in the
// middle of a fragmented message, are ignored: they neither start a message
// nor count towards its size.
func (m *Message) Frame(h ws.Header, limit int64) (first bool, err error) {
	if h.OpCode.IsControl() {
		return false, nil
	}
	if h.OpCode == ws.OpContinuation {
		if !m.active {
			return false, ErrUnexpectedContinue
		}
		if h.Rsv&ws.Rsv(true, false, false) != 0 {
			return false, ErrCompressedContinue
		}
	} else {
		if m.active {
			return false, ErrExpectedContinue
		}
		m.active = true
		m.op = h.OpCode
		m.compressed = h.Rsv1()
		m.size = 0
		m.text.Reset()
		first = true
	}
	if limit > 0 && h.Length > limit-m.size {
		return first, ErrMessageTooBig
	}
	m.size += h.Length
	return first, nil
}

// Text validates a piece of the message's (uncompressed) payload when the
// message is text. Pieces must be given in order; final says no more
// payload follows. Binary messages pass unchecked.
func (m *Message) Text(p []byte, final bool) error {
	if m.op != ws.OpText {
		return nil
	}
	if !m.text.Write(p) {
		return ErrInvalidUTF8
	}
	if final && !m.text.Complete() {
		return ErrInvalidUTF8
	}
	return nil
}

// End marks the message complete after its final frame.
func (m *Message) End() { *m = Message{} }

// Active reports whether a message is in progress.
func (m *Message) Active() bool { return m.active }

// OpCode returns the opcode of the message in progress (ws.OpText or
// ws.OpBinary), or ws.OpContinuation when none is.
func (m *Message) OpCode() ws.OpCode { return m.op }

// Compressed reports whether the message in progress set RSV1 on its first
// frame (permessage-deflate).
func (m *Message) Compressed() bool { return m.compressed }

// Size returns the payload bytes declared so far for the message.
func (m *Message) Size() int64 { return m.size }
