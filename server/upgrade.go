package server

import (
	"strconv"

	"github.com/myriadws/myriad/handshake"
)

// The upgrade request itself is parsed and answered by package handshake;
// this file adapts its refusals to the reactor, which closes a connection
// after answering one.

// httpError is an HTTP answer to a failed upgrade.
type httpError struct {
	status int
	reason string // body, one line
	header string // extra header lines, each ending in \r\n
}

func (e *httpError) Error() string { return strconv.Itoa(e.status) + " " + e.reason }

// refusal turns one of package handshake's refusals into the reactor's.
func refusal(e *handshake.Error) *httpError {
	return &httpError{status: e.Status, reason: e.Reason, header: e.Header}
}

// The refusals the reactor decides on itself. Never modified.
var (
	errMethod   = refusal(handshake.ErrMethod)
	errNotFound = refusal(handshake.ErrNotFound)
	errOrigin   = refusal(handshake.ErrOrigin)
	errDraining = refusal(handshake.ErrDraining)
	errTimeout  = refusal(handshake.ErrTimeout)
)

// refusalOf answers an error of handshake.ReadRequest or Request.Check,
// which are *handshake.Error apart from handshake.ErrShortBuffer (not a
// refusal, and not passed here). It allocates, which a refused request
// may: the connection is closed after the answer anyway.
func refusalOf(err error) *httpError {
	if e, ok := err.(*handshake.Error); ok {
		return refusal(e)
	}
	return refusal(handshake.ErrBadRequestLine)
}

// appendHTTPError appends a short, complete HTTP error response. The
// connection is closed after it, which the response says.
func appendHTTPError(dst []byte, e *httpError) []byte {
	return handshake.AppendError(dst, &handshake.Error{Status: e.status, Reason: e.reason, Header: e.header})
}
