package handshake

import (
	"errors"
	"io"
	"net/http"
	"strconv"
)

// ErrShortBuffer reports that the input holds a prefix of a head and more
// bytes are needed. It is io.ErrShortBuffer, the sentinel gnet's Peek and
// package frame use, so a caller needs one check for all of them.
var ErrShortBuffer = io.ErrShortBuffer

// Error is a refused upgrade: the HTTP status to answer with, a one-line
// reason sent as the body, and any header lines the status calls for.
type Error struct {
	// Status is the HTTP status code, 400 to 599.
	Status int
	// Reason is the response body, one line of printable ASCII.
	Reason string
	// Header holds extra response header lines, each ending in CRLF.
	Header string
}

// Error implements error.
func (e *Error) Error() string { return strconv.Itoa(e.Status) + " " + e.Reason }

// Refusals of an upgrade request. ReadRequest returns the syntax ones,
// Request.Check the RFC 6455 ones; the rest are for a server to answer with
// when its own policy refuses.
var (
	ErrBadRequestLine = &Error{Status: http.StatusBadRequest, Reason: "malformed request line"}
	ErrBadTarget      = &Error{Status: http.StatusBadRequest, Reason: "malformed request target"}
	ErrBadHeader      = &Error{Status: http.StatusBadRequest, Reason: "malformed header line"}
	ErrControlChar    = &Error{Status: http.StatusBadRequest, Reason: "control character in request head"}
	ErrBareLF         = &Error{Status: http.StatusBadRequest, Reason: "request lines must end in CRLF"}
	ErrHTTPVersion    = &Error{Status: http.StatusBadRequest, Reason: "WebSocket needs HTTP/1.1"}
	ErrHTTPVersion2   = &Error{Status: http.StatusHTTPVersionNotSupported, Reason: "only HTTP/1.1 is supported"}
	ErrHeaderTooLarge = &Error{Status: http.StatusRequestHeaderFieldsTooLarge, Reason: "request header too large"}
	ErrBody           = &Error{Status: http.StatusBadRequest, Reason: "an upgrade request has no body: Transfer-Encoding and Content-Length are refused"}
	ErrNoHost         = &Error{Status: http.StatusBadRequest, Reason: "missing or repeated Host header"}
	ErrNotUpgrade     = &Error{Status: http.StatusBadRequest, Reason: "not a WebSocket upgrade: Upgrade: websocket and Connection: upgrade are required"}
	ErrWebSocketVer   = &Error{Status: http.StatusUpgradeRequired, Reason: "unsupported Sec-WebSocket-Version", Header: "Sec-WebSocket-Version: 13\r\n"}
	ErrKey            = &Error{Status: http.StatusBadRequest, Reason: "missing or invalid Sec-WebSocket-Key"}
	ErrMethod         = &Error{Status: http.StatusMethodNotAllowed, Reason: "WebSocket upgrade needs GET", Header: "Allow: GET\r\n"}
	ErrNotFound       = &Error{Status: http.StatusNotFound, Reason: "no WebSocket endpoint at this path"}
	ErrOrigin         = &Error{Status: http.StatusForbidden, Reason: "origin not allowed"}
	ErrTimeout        = &Error{Status: http.StatusRequestTimeout, Reason: "upgrade request not received in time"}
	ErrOverCapacity   = &Error{Status: http.StatusServiceUnavailable, Reason: "connection limit reached", Header: "Retry-After: 1\r\n"}
	ErrDraining       = &Error{Status: http.StatusServiceUnavailable, Reason: "server is shutting down", Header: "Retry-After: 1\r\n"}
)

// Failures of a server's answer, found by ReadResponse. They are plain
// errors: a client has nobody to answer with a status.
var (
	ErrResponseTooLong = errors.New("handshake: HTTP response head too long")
	ErrStatusLine      = errors.New("handshake: malformed HTTP status line")
	ErrResponseHeader  = errors.New("handshake: malformed HTTP response header")
	ErrAccept          = errors.New("handshake: Sec-WebSocket-Accept missing or wrong")
	ErrUpgrade         = errors.New("handshake: 101 response without Upgrade: websocket and Connection: upgrade")
	ErrExtension       = errors.New("handshake: 101 response with an extension the client did not offer")
	ErrProtocol        = errors.New("handshake: 101 response with a subprotocol the client did not offer")
)
