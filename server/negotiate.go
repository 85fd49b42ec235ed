package server

import "github.com/myriadws/myriad/handshake"

// What the upgrade negotiates beyond RFC 6455 itself: the permessage-deflate
// extension (RFC 7692), the subprotocol, and whether the Origin is allowed.
// Package handshake has the rules; they run once per upgrade on the event
// loop, with the loop's scratch space, and leave at most a flag bit and a
// one-byte index in the Conn.

// deflateResponse and deflateResponse15 are the extension answers the
// server gives; see handshake.DeflateResponse for why both directions use
// no context takeover, on which the loop's shared codec depends.
const (
	deflateResponse   = handshake.DeflateResponse
	deflateResponse15 = handshake.DeflateResponse15
)

// negotiator holds a loop's scratch space for parsing extension offers.
type negotiator = handshake.Negotiator

// originPattern is one entry of Config.AllowedOrigins, parsed.
type originPattern = handshake.OriginPattern

// parseOriginPattern parses an AllowedOrigins entry.
func parseOriginPattern(s string) (originPattern, error) { return handshake.ParseOriginPattern(s) }

// originAllowed applies Config.AllowedOrigins to a request's Origin
// headers (count of them, and the last value).
func (s *Server) originAllowed(origin []byte, count int) bool {
	return handshake.OriginAllowed(s.origins, origin, count)
}

// headerValues appends the values of every header line called name in
// fields (a request's header lines, already validated) to dst. The values
// alias fields.
func headerValues(fields []byte, name string, dst [][]byte) [][]byte {
	return handshake.HeaderValues(fields, name, dst)
}

// isToken reports whether b is a non-empty RFC 9110 token.
func isToken(b []byte) bool { return handshake.IsToken(b) }
