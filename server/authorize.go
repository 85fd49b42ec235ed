package server

import (
	"net/http"
	"net/url"
	"strings"
)

// Authorizer is an optional interface of a Handler: when the Handler mounted
// on a path implements it, the handshake calls Authorize after the request
// has passed the RFC 6455 checks, the Origin allow-list, the drain and the
// connection limit, and before the 101 is written. A non-nil error refuses
// the upgrade: a *StatusError chooses the HTTP status and body, any other
// error is answered 403. Otherwise the value it returns (nil is fine) is
// handed to the OnOpen that follows in the same callback, where
// Conn.Open returns it: what a verified token grants, say. The value is
// not kept after OnOpen. Authorize runs on c's event loop and must not
// block; c is not yet upgraded, so it may only be used as a key. r is
// valid only until Authorize returns.
type Authorizer interface {
	Authorize(c *Conn, r *UpgradeRequest) (any, error)
}

// StatusError is the HTTP answer an Authorizer refuses an upgrade with.
type StatusError struct {
	// Status is the HTTP status code, 400 to 599.
	Status int
	// Reason is the one-line response body.
	Reason string
	// Challenge, when set on a 401, is sent as the WWW-Authenticate value.
	Challenge string
}

func (e *StatusError) Error() string { return http.StatusText(e.Status) + ": " + e.Reason }

// authorize runs the route's Authorizer and keeps its value for OnOpen.
func (l *loop) authorize(az Authorizer, c *Conn, r *UpgradeRequest) error {
	v, err := az.Authorize(c, r)
	if err != nil {
		l.opening = opening{}
		return err
	}
	l.opening = opening{c: c, v: v}
	return nil
}

// open runs the route's OnOpen, then forgets the Authorizer's value.
func (l *loop) open(c *Conn, h Handler) {
	h.OnOpen(c)
	l.opening = opening{}
}

// errAuthorize answers an Authorizer error that carries no status.
var errAuthorize = &httpError{status: http.StatusForbidden, reason: "upgrade refused"}

// httpErrorFrom turns an Authorizer's error into the handshake's answer.
// The reason and challenge are reduced to one line of printable ASCII so an
// Authorizer cannot break the response framing.
func httpErrorFrom(err error) *httpError {
	se, ok := err.(*StatusError)
	if !ok || se.Status < 400 || se.Status > 599 {
		return errAuthorize
	}
	e := &httpError{status: se.Status, reason: printable(se.Reason)}
	if se.Status == http.StatusUnauthorized && se.Challenge != "" {
		e.header = "WWW-Authenticate: " + printable(se.Challenge) + "\r\n"
	}
	return e
}

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// UpgradeRequest is the upgrade request as an Authorizer sees it. Its
// bytes alias the connection's input buffer: it is valid only during the
// Authorize call, and only on the loop that made it.
type UpgradeRequest struct {
	path   []byte
	query  []byte
	fields []byte
	origin []byte
}

// Path returns the request path without the query.
func (r *UpgradeRequest) Path() string { return string(r.path) }

// RawQuery returns the query string without the '?', undecoded.
func (r *UpgradeRequest) RawQuery() string { return string(r.query) }

// Query parses the query string. A malformed query yields the pairs that
// parsed and an error.
func (r *UpgradeRequest) Query() (url.Values, error) { return url.ParseQuery(string(r.query)) }

// Header returns the value of the first header line called name (compared
// case-insensitively), or "" when there is none.
func (r *UpgradeRequest) Header(name string) string {
	var one [1][]byte
	if v := headerValues(r.fields, name, one[:0]); len(v) > 0 {
		return string(v[0])
	}
	return ""
}

// Origin returns the Origin header, "" when absent.
func (r *UpgradeRequest) Origin() string { return string(r.origin) }
