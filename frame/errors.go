package frame

import (
	"io"

	"github.com/gobwas/ws"
)

// ErrShortBuffer reports that the input holds a prefix of a valid element
// and more bytes are needed. It is io.ErrShortBuffer so that callers using
// gnet's Peek, which returns the same sentinel, need only one check.
var ErrShortBuffer = io.ErrShortBuffer

// ProtocolError is a violation of the protocol by the peer. It carries the
// close code the connection must be closed with (RFC 6455 §7.4.1), so the
// reactor never has to map errors to codes itself.
type ProtocolError struct {
	Code   ws.StatusCode
	Reason string
}

// Error implements error.
func (e *ProtocolError) Error() string { return e.Reason }

// Sentinel protocol errors. They are pointers to package-level values that
// are never modified, so comparing with == or errors.Is is safe.
var (
	ErrUnmasked           = &ProtocolError{ws.StatusProtocolError, "client frame is not masked"}
	ErrMasked             = &ProtocolError{ws.StatusProtocolError, "server frame is masked"}
	ErrReservedBits       = &ProtocolError{ws.StatusProtocolError, "reserved bits set without a negotiated extension"}
	ErrReservedOpCode     = &ProtocolError{ws.StatusProtocolError, "reserved opcode"}
	ErrControlTooLong     = &ProtocolError{ws.StatusProtocolError, "control frame payload over 125 bytes"}
	ErrControlFragmented  = &ProtocolError{ws.StatusProtocolError, "control frame is fragmented"}
	ErrLengthOverflow     = &ProtocolError{ws.StatusProtocolError, "64-bit payload length has its most significant bit set"}
	ErrLengthNotMinimal   = &ProtocolError{ws.StatusProtocolError, "payload length not in minimal form"}
	ErrUnexpectedContinue = &ProtocolError{ws.StatusProtocolError, "continuation frame with no message in progress"}
	ErrExpectedContinue   = &ProtocolError{ws.StatusProtocolError, "new data frame while a fragmented message is in progress"}
	ErrCompressedContinue = &ProtocolError{ws.StatusProtocolError, "RSV1 set on a continuation frame"}
	ErrCloseLength        = &ProtocolError{ws.StatusProtocolError, "close payload of one byte"}
	ErrCloseCode          = &ProtocolError{ws.StatusProtocolError, "invalid close code"}
	ErrCloseReasonUTF8    = &ProtocolError{ws.StatusInvalidFramePayloadData, "close reason is not valid UTF-8"}
	ErrInvalidUTF8        = &ProtocolError{ws.StatusInvalidFramePayloadData, "text message is not valid UTF-8"}
	ErrMessageTooBig      = &ProtocolError{ws.StatusMessageTooBig, "message exceeds the size limit"}
)
