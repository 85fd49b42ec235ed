package server

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// What the upgrade negotiates beyond RFC 6455 itself: the permessage-deflate
// extension (RFC 7692), the subprotocol, and whether the Origin is allowed.
// All of it runs once per upgrade on the event loop, with the loop's
// scratch space, and leaves at most a flag bit and a one-byte index in the
// Conn.

// deflateResponse is the Sec-WebSocket-Extensions value accepting an offer.
// Both no_context_takeover parameters are always present:
//
//   - server_no_context_takeover (RFC 7692 §7.1.1.1; a server MAY add it to
//     any response): the server compresses each message afresh, so no
//     compressor state is kept between messages and a loop's single
//     flate.Writer serves all its connections.
//   - client_no_context_takeover (§7.1.1.2; a server MAY include it in any
//     response): the client must also compress each message afresh, so
//     the server never keeps a 32 KiB inflate window per connection. With a
//     million mostly idle connections that window would cost 32 GB.
//
// client_max_window_bits is never sent: it is optional for the server, and
// Go's inflater accepts any window up to 32 KiB.
const deflateResponse = wsflate.ExtensionName + "; server_no_context_takeover; client_no_context_takeover"

// deflateResponse15 answers an offer that limited the server's window with
// server_max_window_bits=15. The response must then repeat the parameter
// with a value no larger (§7.1.2.1); compress/flate always uses a 32 KiB
// window, so 15 is the only value the server can honour.
const deflateResponse15 = deflateResponse + "; server_max_window_bits=15"

// The responses as bytes, for appendSwitching. Never modified.
var (
	deflateResponseBytes   = []byte(deflateResponse)
	deflateResponse15Bytes = []byte(deflateResponse15)
)

// negotiator holds a loop's scratch space for parsing extension offers.
type negotiator struct {
	buf  []byte // the header values joined: httphead unescapes in place
	opts []httphead.Option
}

// deflate chooses the first permessage-deflate offer in values (the
// Sec-WebSocket-Extensions header values in order) that the server can
// accept, and returns the response value, or nil to decline them all.
// Several header lines mean the same as one with their values joined by
// commas (RFC 9110 §5.3), so they are parsed joined. A syntactically
// malformed header declines every offer: the server cannot be sure what
// the client meant. Other extensions are ignored, since the server
// supports none.
func (n *negotiator) deflate(values [][]byte) []byte {
	n.buf = n.buf[:0]
	for i, v := range values {
		if i > 0 {
			n.buf = append(n.buf, ", "...)
		}
		n.buf = append(n.buf, v...)
	}
	var ok bool
	n.opts, ok = httphead.ParseOptions(n.buf, n.opts[:0])
	defer func() {
		clear(n.opts) // drop references to the request's bytes
		n.opts = n.opts[:0]
	}()
	if !ok {
		return nil
	}
	for i := range n.opts {
		if resp, ok := acceptDeflate(&n.opts[i]); ok {
			return resp
		}
	}
	return nil
}

// acceptDeflate judges one offer. RFC 7692 §5 requires declining an offer
// with an unknown parameter, an invalid value or a repeated parameter, and
// one whose configuration the server does not support; here that is a
// server_max_window_bits below 15.
func acceptDeflate(opt *httphead.Option) ([]byte, bool) {
	if !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
		return nil, false
	}
	var p wsflate.Parameters
	if err := p.Parse(*opt); err != nil {
		return nil, false
	}
	// wsflate lets a valueless client_max_window_bits repeat and accepts
	// leading zeros; the RFC allows neither.
	var names [4]int
	valid := true
	opt.Parameters.ForEach(func(k, v []byte) bool {
		i := 0
		switch string(k) {
		case "server_no_context_takeover":
			i = 0
		case "client_no_context_takeover":
			i = 1
		case "server_max_window_bits":
			i = 2
		case "client_max_window_bits":
			i = 3
		}
		names[i]++
		if names[i] > 1 || (len(v) > 1 && v[0] == '0') {
			valid = false
		}
		return valid
	})
	if !valid {
		return nil, false
	}
	switch p.ServerMaxWindowBits {
	case 0:
		return deflateResponseBytes, true
	case 15:
		return deflateResponse15Bytes, true
	}
	return nil, false
}

// selectSubprotocol returns 1 + the index in supported of the first
// supported subprotocol that the client offered in values (each a
// Sec-WebSocket-Protocol header value, a comma-separated list), or 0 when
// there is none. The server's order of preference decides, so that an
// operator can roll out a new protocol version by listing it first.
// Subprotocol names are compared exactly.
func selectSubprotocol(supported []string, values [][]byte) uint8 {
	for i, want := range supported {
		for _, v := range values {
			for len(v) > 0 {
				var item []byte
				if j := bytes.IndexByte(v, ','); j >= 0 {
					item, v = v[:j], v[j+1:]
				} else {
					item, v = v, nil
				}
				if string(trimOWS(item)) == want {
					return uint8(i + 1)
				}
			}
		}
	}
	return 0
}

// headerValues appends the values of every header line called name in
// fields (a request's header lines, already validated by parseHead) to
// dst. The values alias fields.
func headerValues(fields []byte, name string, dst [][]byte) [][]byte {
	for {
		line, rest, ok := cutLine(fields)
		if !ok || len(line) == 0 {
			return dst
		}
		fields = rest
		colon := bytes.IndexByte(line, ':')
		if colon > 0 && equalFold(line[:colon], name) {
			dst = append(dst, trimOWS(line[colon+1:]))
		}
	}
}

// originPattern is one entry of Config.AllowedOrigins, lower-cased, with
// its port made explicit.
type originPattern struct {
	any        bool   // "*"
	subdomains bool   // host was "*.suffix": match proper subdomains of host
	scheme     string // "http", "https", ...
	host       string // without brackets for IPv6, without "*."
	port       string // explicit or the scheme's default, "" if none
}

// parseOriginPattern parses an AllowedOrigins entry.
func parseOriginPattern(s string) (originPattern, error) {
	if s == "*" {
		return originPattern{any: true}, nil
	}
	scheme, host, port, ok := splitOrigin([]byte(s))
	if !ok {
		return originPattern{}, fmt.Errorf("allowed origin %q is not \"*\" or scheme://host[:port]", s)
	}
	p := originPattern{scheme: lowerString(scheme), host: lowerString(host), port: string(port)}
	if rest, ok := strings.CutPrefix(p.host, "*."); ok {
		if rest == "" || strings.Contains(rest, "*") {
			return originPattern{}, fmt.Errorf("allowed origin %q has an invalid wildcard", s)
		}
		p.subdomains, p.host = true, rest
	} else if strings.Contains(p.host, "*") {
		return originPattern{}, fmt.Errorf("allowed origin %q has an invalid wildcard", s)
	}
	if p.port == "" {
		p.port = defaultPort(p.scheme)
	}
	return p, nil
}

// match reports whether the request's Origin value matches p.
func (p *originPattern) match(scheme, host, port []byte) bool {
	if p.any {
		return true
	}
	if !equalFold(scheme, p.scheme) {
		return false
	}
	if len(port) == 0 {
		port = []byte(defaultPort(p.scheme))
	}
	if string(port) != p.port {
		return false
	}
	if !p.subdomains {
		return equalFold(host, p.host)
	}
	// A proper subdomain: at least one label, then ".", then the suffix.
	n := len(host) - len(p.host)
	return n >= 2 && host[n-1] == '.' && equalFold(host[n:], p.host)
}

// originAllowed applies Config.AllowedOrigins to a request's Origin
// headers (count of them, and the last value).
func (s *Server) originAllowed(origin []byte, count int) bool {
	if s.origins == nil || count == 0 {
		return true
	}
	if count > 1 {
		return false // RFC 6454 §7.3: a user agent sends at most one
	}
	scheme, host, port, ok := splitOrigin(origin)
	for i := range s.origins {
		p := &s.origins[i]
		if p.any || (ok && p.match(scheme, host, port)) {
			return true
		}
	}
	return false
}

// splitOrigin splits an RFC 6454 serialized origin, scheme "://" host
// [":" port], with no path. IPv6 hosts keep no brackets.
func splitOrigin(b []byte) (scheme, host, port []byte, ok bool) {
	i := bytes.Index(b, []byte("://"))
	if i <= 0 {
		return nil, nil, nil, false
	}
	scheme, rest := b[:i], b[i+3:]
	for j, c := range scheme {
		isAlpha := (c|0x20) >= 'a' && (c|0x20) <= 'z'
		if !isAlpha && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return nil, nil, nil, false
		}
	}
	if len(rest) > 0 && rest[0] == '[' {
		end := bytes.IndexByte(rest, ']')
		if end < 0 {
			return nil, nil, nil, false
		}
		host, rest = rest[1:end], rest[end+1:]
		if len(rest) > 0 && rest[0] != ':' {
			return nil, nil, nil, false
		}
		if len(rest) > 0 {
			port = rest[1:]
			if len(port) == 0 {
				return nil, nil, nil, false
			}
		}
	} else {
		host = rest
		if j := bytes.IndexByte(rest, ':'); j >= 0 {
			host, port = rest[:j], rest[j+1:]
			if len(port) == 0 || bytes.IndexByte(port, ':') >= 0 {
				return nil, nil, nil, false
			}
		}
	}
	if len(host) == 0 {
		return nil, nil, nil, false
	}
	for _, c := range host {
		if c <= ' ' || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@' || c == '[' || c == ']' {
			return nil, nil, nil, false
		}
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return nil, nil, nil, false
		}
	}
	return scheme, host, port, true
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	}
	return ""
}

func lowerString(b []byte) string {
	s := make([]byte, len(b))
	for i, c := range b {
		s[i] = lower(c)
	}
	return string(s)
}
