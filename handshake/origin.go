package handshake

import (
	"bytes"
	"fmt"
	"strings"
)

// OriginPattern is one entry of an Origin allow-list, parsed by
// ParseOriginPattern: lower-cased, with its port made explicit. Its zero
// value matches nothing. It is immutable, so any goroutine may use it.
type OriginPattern struct {
	any        bool   // "*"
	subdomains bool   // host was "*.suffix": match proper subdomains of host
	scheme     string // "http", "https", ...
	host       string // without brackets for IPv6, without "*."
	port       string // explicit or the scheme's default, "" if none
}

// ParseOriginPattern parses an allow-list entry: "*" (any origin, even
// "null"), or scheme://host[:port], where host may start with "*." to
// allow every proper subdomain of the rest.
func ParseOriginPattern(s string) (OriginPattern, error) {
	if s == "*" {
		return OriginPattern{any: true}, nil
	}
	scheme, host, port, ok := splitOrigin([]byte(s))
	if !ok {
		return OriginPattern{}, fmt.Errorf("allowed origin %q is not \"*\" or scheme://host[:port]", s)
	}
	p := OriginPattern{scheme: strings.ToLower(string(scheme)), host: strings.ToLower(string(host)), port: string(port)}
	if rest, ok := strings.CutPrefix(p.host, "*."); ok {
		if rest == "" || strings.Contains(rest, "*") {
			return OriginPattern{}, fmt.Errorf("allowed origin %q has an invalid wildcard", s)
		}
		p.subdomains, p.host = true, rest
	} else if strings.Contains(p.host, "*") {
		return OriginPattern{}, fmt.Errorf("allowed origin %q has an invalid wildcard", s)
	}
	if p.port == "" {
		p.port = defaultPort(p.scheme)
	}
	return p, nil
}

// match reports whether a split Origin matches p.
func (p *OriginPattern) match(scheme, host, port []byte) bool {
	if p.any {
		return true
	}
	if !EqualFold(scheme, p.scheme) {
		return false
	}
	if len(port) == 0 {
		port = []byte(defaultPort(p.scheme))
	}
	if string(port) != p.port {
		return false
	}
	if !p.subdomains {
		return EqualFold(host, p.host)
	}
	// A proper subdomain: at least one label, then ".", then the suffix.
	n := len(host) - len(p.host)
	return n >= 2 && host[n-1] == '.' && EqualFold(host[n:], p.host)
}

// OriginAllowed applies an allow-list to a request's Origin headers, given
// as their count and the last value (Request.Origins, Request.Origin). An
// empty list allows everything, and so does a request without Origin (not
// from a browser, which always sends one). More than one Origin is refused:
// a user agent sends at most one (RFC 6454 §7.3).
func OriginAllowed(patterns []OriginPattern, origin []byte, count int) bool {
	if len(patterns) == 0 || count == 0 {
		return true
	}
	if count > 1 {
		return false
	}
	scheme, host, port, ok := splitOrigin(origin)
	for i := range patterns {
		p := &patterns[i]
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
	host, port, ok = splitHostPort(rest)
	if !ok || len(host) == 0 {
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

// splitHostPort splits host[:port] or [v6]:port; an empty port after a
// colon is malformed.
func splitHostPort(rest []byte) (host, port []byte, ok bool) {
	if len(rest) > 0 && rest[0] == '[' {
		end := bytes.IndexByte(rest, ']')
		if end < 0 {
			return nil, nil, false
		}
		host, rest = rest[1:end], rest[end+1:]
		if len(rest) == 0 {
			return host, nil, true
		}
		if rest[0] != ':' || len(rest) == 1 {
			return nil, nil, false
		}
		return host, rest[1:], true
	}
	host = rest
	if j := bytes.IndexByte(rest, ':'); j >= 0 {
		host, port = rest[:j], rest[j+1:]
		if len(port) == 0 || bytes.IndexByte(port, ':') >= 0 {
			return nil, nil, false
		}
	}
	return host, port, true
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
