package server

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
)

// websocketGUID is the fixed string of RFC 6455 §1.3 that the accept key is
// derived from.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// request is an upgrade request head parsed in place: every slice aliases
// the input and is valid only until the caller discards those bytes.
type request struct {
	method     []byte
	path       []byte
	query      []byte
	host       []byte
	key        []byte
	version    []byte
	protocol   []byte // first Sec-WebSocket-Protocol; headerValues finds them all
	origin     []byte
	extensions []byte // first Sec-WebSocket-Extensions; headerValues finds them all
	fields     []byte // the header lines, for headers that may repeat
	upgrade    bool   // Upgrade lists the websocket token
	connUpg    bool   // Connection lists the upgrade token
	hasUpgrade bool   // an Upgrade header was present at all
	keys       int    // number of Sec-WebSocket-Key headers
	hosts      int
	origins    int
}

// httpError is an HTTP answer to a failed upgrade.
type httpError struct {
	status int
	reason string // body, one line
	header string // extra header lines, each ending in \r\n
}

func (e *httpError) Error() string { return strconv.Itoa(e.status) + " " + e.reason }

var (
	errBadRequestLine = &httpError{status: http.StatusBadRequest, reason: "malformed request line"}
	errBadHeader      = &httpError{status: http.StatusBadRequest, reason: "malformed header line"}
	errHTTPVersion    = &httpError{status: http.StatusBadRequest, reason: "WebSocket needs HTTP/1.1 or later"}
	errMethod         = &httpError{status: http.StatusMethodNotAllowed, reason: "WebSocket upgrade needs GET", header: "Allow: GET\r\n"}
	errNoHost         = &httpError{status: http.StatusBadRequest, reason: "missing or repeated Host header"}
	errNotUpgrade     = &httpError{status: http.StatusBadRequest, reason: "not a WebSocket upgrade: Upgrade: websocket and Connection: upgrade are required"}
	errVersion        = &httpError{status: http.StatusUpgradeRequired, reason: "unsupported Sec-WebSocket-Version", header: "Sec-WebSocket-Version: 13\r\n"}
	errKey            = &httpError{status: http.StatusBadRequest, reason: "missing or invalid Sec-WebSocket-Key"}
	errHeaderTooLarge = &httpError{status: http.StatusRequestHeaderFieldsTooLarge, reason: "request header too large"}
	errNotFound       = &httpError{status: http.StatusNotFound, reason: "no WebSocket endpoint at this path"}
	errOverCapacity   = &httpError{status: http.StatusServiceUnavailable, reason: "connection limit reached", header: "Retry-After: 1\r\n"}
	errDraining       = &httpError{status: http.StatusServiceUnavailable, reason: "server is shutting down", header: "Retry-After: 1\r\n"}
	errTimeout        = &httpError{status: http.StatusRequestTimeout, reason: "upgrade request not received in time"}
	errOrigin         = &httpError{status: http.StatusForbidden, reason: "origin not allowed"}
)

// headEnd looks for the blank line that ends a request head in b, resuming
// the search at from (a previous call's next) so that a head arriving a
// byte at a time costs linear, not quadratic, work. It returns the length
// of the head including the blank line, or -1 and where to resume.
func headEnd(b []byte, from int) (end, next int) {
	if from < 0 {
		from = 0
	}
	if from > len(b) {
		from = len(b)
	}
	if i := bytes.Index(b[from:], []byte("\r\n\r\n")); i >= 0 {
		return from + i + 4, from + i
	}
	next = len(b) - 3
	if next < from {
		next = from
	}
	return -1, next
}

// readHead finds and parses a request head at the start of b. It returns the
// number of bytes the head occupies, io.ErrShortBuffer when more input is
// needed, or an *httpError. limit bounds the head's size; scan is the
// resumable search position kept between calls (start at 0).
func readHead(b []byte, limit int, scan *int) (req request, n int, err error) {
	end, next := headEnd(b, *scan)
	*scan = next
	if end < 0 {
		if len(b) > limit {
			return req, 0, errHeaderTooLarge
		}
		return req, 0, io.ErrShortBuffer
	}
	if end > limit {
		return req, 0, errHeaderTooLarge
	}
	req, herr := parseHead(b[:end])
	if herr != nil {
		return req, 0, herr
	}
	return req, end, nil
}

// parseHead parses a complete request head ending in CRLF CRLF. It checks
// syntax and records the fields an upgrade needs; checkUpgrade judges them.
func parseHead(b []byte) (req request, err *httpError) {
	line, rest, ok := cutLine(b)
	if !ok {
		return req, errBadRequestLine
	}
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return req, errBadRequestLine
	}
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp2 <= sp1+1 {
		return req, errBadRequestLine
	}
	req.method = line[:sp1]
	target := line[sp1+1 : sp2]
	proto := line[sp2+1:]
	if !isToken(req.method) || bytes.IndexByte(target, ' ') >= 0 {
		return req, errBadRequestLine
	}
	major, minor, ok := parseHTTPVersion(proto)
	if !ok {
		return req, errBadRequestLine
	}
	if major < 1 || (major == 1 && minor < 1) {
		return req, errHTTPVersion
	}
	if len(target) == 0 || target[0] != '/' {
		// Absolute-form and asterisk-form targets have no use here.
		return req, errBadRequestLine
	}
	req.path = target
	if q := bytes.IndexByte(target, '?'); q >= 0 {
		req.path, req.query = target[:q], target[q+1:]
	}
	req.fields = rest

	for {
		line, rest, ok = cutLine(rest)
		if !ok {
			return req, errBadHeader
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return req, errBadHeader
		}
		name := line[:colon]
		if !isToken(name) {
			// Also refuses whitespace before the colon (RFC 9112 §5.1) and
			// obsolete line folding, which starts a line with a space.
			return req, errBadHeader
		}
		value := trimOWS(line[colon+1:])
		switch {
		case equalFold(name, "Host"):
			req.host = value
			req.hosts++
		case equalFold(name, "Upgrade"):
			req.hasUpgrade = true
			req.upgrade = req.upgrade || hasToken(value, "websocket")
		case equalFold(name, "Connection"):
			req.connUpg = req.connUpg || hasToken(value, "upgrade")
		case equalFold(name, "Sec-WebSocket-Key"):
			req.key = value
			req.keys++
		case equalFold(name, "Sec-WebSocket-Version"):
			req.version = value
		case equalFold(name, "Sec-WebSocket-Protocol"):
			if req.protocol == nil {
				req.protocol = value
			}
		case equalFold(name, "Origin"):
			req.origin = value
			req.origins++
		case equalFold(name, "Sec-WebSocket-Extensions"):
			if req.extensions == nil {
				req.extensions = value
			}
		}
	}
	return req, nil
}

// checkUpgrade applies RFC 6455 §4.2.1 to the headers of a parsed GET
// request. The handshake checks the method (405) and the path (404) before
// it, so a plain POST or a wrong path gets that answer rather than a
// lecture on headers.
func checkUpgrade(req *request) *httpError {
	if req.hosts != 1 || len(req.host) == 0 {
		return errNoHost
	}
	if !req.upgrade || !req.connUpg {
		return errNotUpgrade
	}
	if string(req.version) != "13" {
		return errVersion
	}
	if req.keys != 1 || !validKey(req.key) {
		return errKey
	}
	return nil
}

// validKey reports whether k is base64 of exactly 16 bytes.
func validKey(k []byte) bool {
	if len(k) != 24 || k[22] != '=' || k[23] != '=' {
		return false
	}
	var dst [18]byte
	n, err := base64.StdEncoding.Decode(dst[:], k)
	return err == nil && n == 16
}

// appendAccept appends the Sec-WebSocket-Accept value for key without
// allocating.
func appendAccept(dst, key []byte) []byte {
	var in [24 + len(websocketGUID)]byte
	copy(in[:], key)
	copy(in[24:], websocketGUID)
	sum := sha1.Sum(in[:])
	var out [28]byte
	base64.StdEncoding.Encode(out[:], sum[:])
	return append(dst, out[:]...)
}

// appendSwitching appends the 101 response completing an upgrade.
func appendSwitching(dst, key []byte, protocol string, extensions []byte) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = appendAccept(dst, key)
	dst = append(dst, "\r\n"...)
	if protocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, protocol...)
		dst = append(dst, "\r\n"...)
	}
	if len(extensions) > 0 {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = append(dst, extensions...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// appendHTTPError appends a short, complete HTTP error response. The
// connection is closed after it, which the response says.
func appendHTTPError(dst []byte, e *httpError) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(e.status), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(e.status)...)
	dst = append(dst, "\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(e.reason)+1), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, e.header...)
	dst = append(dst, "\r\n"...)
	dst = append(dst, e.reason...)
	return append(dst, '\n')
}

func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return nil, b, false
	}
	return b[:i], b[i+2:], true
}

func parseHTTPVersion(p []byte) (major, minor int, ok bool) {
	if len(p) != 8 || string(p[:5]) != "HTTP/" || p[6] != '.' {
		return 0, 0, false
	}
	if p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9' {
		return 0, 0, false
	}
	return int(p[5] - '0'), int(p[7] - '0'), true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// isToken reports whether b is a non-empty RFC 9110 token.
func isToken(b []byte) bool {
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

// equalFold compares ASCII case-insensitively without allocating.
func equalFold(b []byte, s string) bool {
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

// hasToken reports whether the comma-separated list v contains token,
// compared case-insensitively.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var item []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			item, v = v, nil
		}
		if equalFold(trimOWS(item), token) {
			return true
		}
	}
	return false
}
