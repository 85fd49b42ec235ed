package handshake

import "bytes"

// parseTarget splits a request target into path and query. Two forms are
// accepted (RFC 9112 §3.2): origin-form, "/path?query", which browsers and
// clients send, and absolute-form, "scheme://authority/path?query", which
// a server must accept although only proxies are meant to receive it; the
// request is then routed by the URI's path and its authority replaces the
// Host header. Asterisk-form and authority-form have no use in an upgrade.
func (req *Request) parseTarget(target []byte) *Error {
	if len(target) == 0 {
		return ErrBadRequestLine
	}
	if target[0] != '/' {
		host, rest, ok := cutAbsolute(target)
		if !ok {
			return ErrBadTarget
		}
		req.Host = host
		target = rest
	}
	req.Path = target
	if q := bytes.IndexByte(target, '?'); q >= 0 {
		req.Path, req.Query = target[:q], target[q+1:]
	}
	if len(req.Path) == 0 {
		req.Path = slash // "http://host?x" asks for "/"
	}
	if bytes.IndexByte(target, '#') >= 0 {
		return ErrBadTarget // a fragment is never sent (RFC 9112 §3.2)
	}
	return nil
}

// slash is the path of an absolute-form target without one. Never modified.
var slash = []byte("/")

// cutAbsolute splits an absolute-form target into its authority and what
// follows it (the path and query, possibly empty). The scheme must be one a
// WebSocket can be reached by: http or https, or ws or wss from a client
// that names the WebSocket URI itself. Userinfo is refused, as RFC 9110
// §4.2.4 tells a recipient to treat it as an error.
func cutAbsolute(t []byte) (authority, rest []byte, ok bool) {
	i := bytes.Index(t, []byte("://"))
	if i <= 0 {
		return nil, nil, false
	}
	switch scheme := t[:i]; {
	case EqualFold(scheme, "http"), EqualFold(scheme, "https"), EqualFold(scheme, "ws"), EqualFold(scheme, "wss"):
	default:
		return nil, nil, false
	}
	authority = t[i+3:]
	if j := bytes.IndexAny(authority, "/?"); j >= 0 {
		authority, rest = authority[:j], authority[j:]
	}
	if len(authority) == 0 || bytes.IndexByte(authority, '@') >= 0 {
		return nil, nil, false
	}
	return authority, rest, true
}
