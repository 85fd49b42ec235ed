package handshake

import (
	"bytes"
	"strings"
)

// MaxResponseHead bounds the response head ReadResponse buffers while
// waiting for its end.
const MaxResponseHead = 8 << 10

// Offer is what a client's upgrade request offers, which the 101 answer
// must stay within.
type Offer struct {
	// Deflate offers permessage-deflate with no parameters.
	Deflate bool
	// Protocols are the subprotocols offered, in order of preference.
	Protocols []string
}

// RequestTemplate is an upgrade request split around its key, built once
// per target so that each connection only appends. Its zero value is not
// useful; build one with NewRequestTemplate. It is immutable and safe for
// concurrent use.
type RequestTemplate struct {
	prefix []byte
	suffix []byte
}

// NewRequestTemplate builds the request for target (origin-form, "/path"
// with an optional query) on host, offering what offer says. header holds
// extra header lines, each ending in CRLF, such as a User-Agent.
func NewRequestTemplate(host, target string, offer Offer, header string) RequestTemplate {
	var b strings.Builder
	b.WriteString("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + header)
	if offer.Deflate {
		b.WriteString("Sec-WebSocket-Extensions: permessage-deflate\r\n")
	}
	if len(offer.Protocols) > 0 {
		b.WriteString("Sec-WebSocket-Protocol: " + strings.Join(offer.Protocols, ", ") + "\r\n")
	}
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ")
	return RequestTemplate{prefix: []byte(b.String()), suffix: []byte("\r\n\r\n")}
}

// Append appends the request with key, a Sec-WebSocket-Key (KeyLen bytes
// of base64), to dst. Any goroutine may call it.
func (t *RequestTemplate) Append(dst, key []byte) []byte {
	dst = append(dst, t.prefix...)
	dst = append(dst, key...)
	return append(dst, t.suffix...)
}

// Response is a server's answer to an upgrade request, parsed in place:
// its slices alias the input given to ReadResponse.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Protocol is the subprotocol the server chose, nil for none.
	Protocol []byte
	// Deflate reports that the server accepted permessage-deflate.
	Deflate bool
	// Fields is the header lines, each ending in CRLF, then the blank line.
	Fields []byte
}

// ReadResponse parses the answer to an upgrade request at the start of b,
// incrementally: it returns ErrShortBuffer while the head is incomplete,
// so it can be called again as bytes arrive, and otherwise the length of
// the head (bytes after it are frames). A status other than 101 is
// returned with a nil error for the caller to classify. A 101 must carry
// Upgrade: websocket, Connection: upgrade and accept, the
// Sec-WebSocket-Accept value of the request's key (AppendAccept; RFC 6455
// §4.1), and may accept only what offer offered (nil: nothing).
func ReadResponse(b, accept []byte, offer *Offer) (resp Response, n int, err error) {
	end, _, err := headEnd(b, 0, MaxResponseHead)
	switch {
	case err != nil:
		return resp, 0, ErrResponseHeader
	case end < 0 && len(b) > MaxResponseHead:
		return resp, 0, ErrResponseTooLong
	case end < 0:
		return resp, 0, ErrShortBuffer
	}
	line, rest, _ := cutLine(b[:end])
	if resp.Status, err = parseStatusLine(line); err != nil {
		return resp, 0, err
	}
	resp.Fields = rest
	if resp.Status != 101 {
		return resp, end, nil
	}
	if err := resp.check101(accept, offer); err != nil {
		return resp, 0, err
	}
	return resp, end, nil
}

// parseStatusLine parses "HTTP/1.x ddd[ reason]".
func parseStatusLine(line []byte) (status int, err error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return 0, ErrStatusLine
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return 0, ErrStatusLine
		}
		status = status*10 + int(d-'0')
	}
	return status, nil
}

// check101 checks the headers of a 101 answer.
func (resp *Response) check101(accept []byte, offer *Offer) error {
	var upgrade, connection, accepted bool
	var extensions [4][]byte
	exts := extensions[:0]
	for rest := resp.Fields; ; {
		line, more, _ := cutLine(rest)
		if len(line) == 0 {
			break
		}
		rest = more
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !IsToken(line[:colon]) {
			return ErrResponseHeader
		}
		name, value := line[:colon], TrimOWS(line[colon+1:])
		switch {
		case EqualFold(name, "Upgrade"):
			upgrade = upgrade || EqualFold(value, "websocket")
		case EqualFold(name, "Connection"):
			connection = connection || HasToken(value, "upgrade")
		case EqualFold(name, "Sec-WebSocket-Accept"):
			accepted = len(accept) == AcceptLen && bytes.Equal(value, accept)
		case EqualFold(name, "Sec-WebSocket-Extensions"):
			exts = append(exts, value)
		case EqualFold(name, "Sec-WebSocket-Protocol"):
			if resp.Protocol != nil || offer == nil || !offered(offer.Protocols, value) {
				return ErrProtocol
			}
			resp.Protocol = value
		}
	}
	switch {
	case !upgrade || !connection:
		return ErrUpgrade
	case !accepted:
		return ErrAccept
	}
	deflate, err := DeflateAnswer(exts)
	if err != nil || (deflate && (offer == nil || !offer.Deflate)) {
		return ErrExtension
	}
	resp.Deflate = deflate
	return nil
}
