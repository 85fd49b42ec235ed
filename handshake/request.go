package handshake

import "bytes"

// Request is an upgrade request head parsed in place: every slice aliases
// the input given to ReadRequest and is valid only until the caller
// discards those bytes. ReadRequest judges syntax only; Check applies the
// rules of RFC 6455, so that a server can first answer a wrong method or
// path with 405 or 404 rather than a lecture on headers.
type Request struct {
	Method []byte
	// Path is the target's path without the query; for an absolute-form
	// target (RFC 9112 §3.2.2) it is the path of the URI, "/" when empty.
	Path []byte
	// Query is the query without the '?', undecoded; nil when there is none.
	Query []byte
	// Host is the Host header, or the authority of an absolute-form target,
	// which RFC 9112 §3.2.2 says takes its place.
	Host []byte
	// Key is the Sec-WebSocket-Key value.
	Key []byte
	// Version is the Sec-WebSocket-Version value.
	Version []byte
	// Protocol and Extensions are the first Sec-WebSocket-Protocol and
	// Sec-WebSocket-Extensions values; HeaderValues finds them all.
	Protocol   []byte
	Extensions []byte
	// Origin is the last Origin value; Origins counts them.
	Origin []byte
	// Fields is the header lines, each ending in CRLF, then the blank line.
	Fields []byte

	Hosts   int // Host header lines
	Keys    int // Sec-WebSocket-Key header lines
	Origins int // Origin header lines

	Upgrade     bool // an Upgrade header lists the websocket token
	ConnUpgrade bool // a Connection header lists the upgrade token
	Body        bool // Transfer-Encoding, or a Content-Length other than 0
}

// ReadRequest finds and parses a request head at the start of b. It returns
// the number of bytes the head occupies (bytes after it, such as frames
// pipelined behind the request, are not looked at), ErrShortBuffer when
// more input is needed, or an *Error. limit bounds the head's size in
// bytes; scan is the resumable search position kept between calls on one
// connection (start at 0; it never exceeds limit).
func ReadRequest(b []byte, limit int, scan *int) (req Request, n int, err error) {
	end, next, err := headEnd(b, *scan, limit)
	*scan = next
	if err != nil {
		return req, 0, err
	}
	if end < 0 {
		if len(b) > limit {
			return req, 0, ErrHeaderTooLarge
		}
		return req, 0, ErrShortBuffer
	}
	if herr := req.parse(b[:end]); herr != nil {
		return Request{}, 0, herr
	}
	return req, end, nil
}

// parse parses a complete head ending in CRLF CRLF, in which every line
// ends in CRLF.
func (req *Request) parse(b []byte) *Error {
	line, rest, _ := cutLine(b)
	if err := req.parseRequestLine(line); err != nil {
		return err
	}
	req.Fields = rest
	absHost := req.Host
	for {
		line, rest, _ = cutLine(rest)
		if len(line) == 0 {
			break
		}
		if err := req.parseField(line); err != nil {
			return err
		}
	}
	if absHost != nil && req.Hosts > 0 {
		req.Host = absHost
	}
	return nil
}

// parseRequestLine parses "method SP request-target SP HTTP-version".
func (req *Request) parseRequestLine(line []byte) *Error {
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1+1 {
		return ErrBadRequestLine
	}
	method, target, proto := line[:sp1], line[sp1+1:sp2], line[sp2+1:]
	if !IsToken(method) {
		return ErrBadRequestLine
	}
	for _, c := range target {
		if c <= ' ' || c == 0x7f {
			// A space means a field too many; anything else is a control
			// character, which no request target may hold.
			if c == ' ' {
				return ErrBadRequestLine
			}
			return ErrControlChar
		}
	}
	major, minor, ok := parseHTTPVersion(proto)
	switch {
	case !ok:
		return ErrBadRequestLine
	case major >= 2:
		// HTTP/2 and later are not spoken in an HTTP/1 request line at all.
		return ErrHTTPVersion2
	case major == 0 || minor == 0:
		// HTTP/1.0 has no Upgrade mechanism; RFC 6455 §4.1 needs 1.1.
		// A later 1.x minor is handled as 1.1 (RFC 9110 §6.2).
		return ErrHTTPVersion
	}
	req.Method = method
	return req.parseTarget(target)
}

// parseField records one header line "name: value".
func (req *Request) parseField(line []byte) *Error {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return ErrBadHeader
	}
	name := line[:colon]
	if !IsToken(name) {
		// Also refuses whitespace before the colon (RFC 9112 §5.1) and
		// obsolete line folding, which starts a line with a space.
		if !validValue(name) {
			return ErrControlChar
		}
		return ErrBadHeader
	}
	value := TrimOWS(line[colon+1:])
	if !validValue(value) {
		return ErrControlChar
	}
	switch {
	case EqualFold(name, "Host"):
		req.Host = value
		req.Hosts++
	case EqualFold(name, "Upgrade"):
		req.Upgrade = req.Upgrade || HasToken(value, "websocket")
	case EqualFold(name, "Connection"):
		req.ConnUpgrade = req.ConnUpgrade || HasToken(value, "upgrade")
	case EqualFold(name, "Sec-WebSocket-Key"):
		req.Key = value
		req.Keys++
	case EqualFold(name, "Sec-WebSocket-Version"):
		req.Version = value
	case EqualFold(name, "Sec-WebSocket-Protocol"):
		if req.Protocol == nil {
			req.Protocol = value
		}
	case EqualFold(name, "Sec-WebSocket-Extensions"):
		if req.Extensions == nil {
			req.Extensions = value
		}
	case EqualFold(name, "Origin"):
		req.Origin = value
		req.Origins++
	case EqualFold(name, "Transfer-Encoding"):
		req.Body = true
	case EqualFold(name, "Content-Length"):
		if len(value) == 0 {
			return ErrBadHeader
		}
		for _, c := range value {
			if c < '0' || c > '9' {
				return ErrBadHeader
			}
			req.Body = req.Body || c != '0'
		}
	}
	return nil
}

// Check applies RFC 6455 §4.2.1 to a parsed request's headers, and refuses
// a request that announces a body: after the 101 the bytes of that body
// would be read as frames. The method is the caller's to check first (see
// ErrMethod), as is the path. It only reads req, so any goroutine may call
// it while the input bytes are still valid.
func (req *Request) Check() *Error {
	if req.Hosts != 1 || len(req.Host) == 0 {
		return ErrNoHost
	}
	if req.Body {
		return ErrBody
	}
	if !req.Upgrade || !req.ConnUpgrade {
		return ErrNotUpgrade
	}
	if string(req.Version) != "13" {
		return ErrWebSocketVer
	}
	if req.Keys != 1 || !ValidKey(req.Key) {
		return ErrKey
	}
	return nil
}

// parseHTTPVersion parses "HTTP/d.d".
func parseHTTPVersion(p []byte) (major, minor int, ok bool) {
	if len(p) != 8 || string(p[:5]) != "HTTP/" || p[6] != '.' {
		return 0, 0, false
	}
	if p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9' {
		return 0, 0, false
	}
	return int(p[5] - '0'), int(p[7] - '0'), true
}
