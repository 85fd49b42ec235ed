package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
)

// Failure and drop causes. A failed connection attempt is counted under
// exactly one of them; so is an upgraded connection the server or the
// network closed (a drop).
const (
	CauseRefused  = "refused"  // ECONNREFUSED: nothing listening, or the accept queue overflowed
	CauseTimeout  = "timeout"  // no 101 within Plan.HandshakeTimeout (TCP connect included)
	CauseReset    = "reset"    // the peer reset or closed the connection before the upgrade completed
	CausePorts    = "ports"    // EADDRNOTAVAIL: no ephemeral port left for this (source, target) pair
	CauseFDs      = "fds"      // EMFILE/ENFILE: out of file descriptors
	CauseProtocol = "protocol" // malformed response, bad accept value, or a frame that breaks RFC 6455
	CauseOther    = "other"
	// Drops only.
	CauseEOF = "eof" // the server closed the TCP connection without a close frame
)

// Internal cause codes kept in Conn.cause, where a string would not fit.
const (
	codeNone uint8 = iota
	codeTimeout
	codeHTTP // Conn.status holds the HTTP status
	codeProtocol
	codeClose // the server sent a close frame; Conn.status holds its code
)

// HTTPCause is the cause for an upgrade refused with an HTTP status, such
// as "http_503".
func HTTPCause(status int) string { return "http_" + strconv.Itoa(status) }

// CloseCause is the drop cause for a server close frame with code, such as
// "close_1001".
func CloseCause(code int) string { return "close_" + strconv.Itoa(code) }

// classify maps a socket error to a cause.
func classify(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return CauseReset
	case errors.Is(err, syscall.ECONNREFUSED):
		return CauseRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF):
		return CauseReset
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return CausePorts
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return CauseFDs
	case errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, context.DeadlineExceeded):
		return CauseTimeout
	case errors.As(err, &ne) && ne.Timeout():
		return CauseTimeout
	}
	return CauseOther
}

// classifyDrop maps the error gnet reports when an upgraded connection ends
// to a drop cause.
func classifyDrop(err error) string {
	switch {
	case err == nil:
		return CauseOther
	case errors.Is(err, io.EOF):
		return CauseEOF
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return CauseReset
	case errors.Is(err, syscall.ETIMEDOUT):
		return CauseTimeout
	}
	return CauseOther
}
