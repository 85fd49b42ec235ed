package handshake

import (
	"bytes"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// DeflateResponse is the Sec-WebSocket-Extensions value accepting a
// permessage-deflate offer (RFC 7692). Both no_context_takeover parameters
// are always present:
//
//   - server_no_context_takeover (RFC 7692 §7.1.1.1; a server MAY add it to
//     any response): the server compresses each message afresh, so no
//     compressor state is kept between messages and one flate.Writer can
//     serve every connection of an event loop.
//   - client_no_context_takeover (§7.1.1.2; a server MAY include it in any
//     response): the client must also compress each message afresh, so
//     the server never keeps a 32 KiB inflate window per connection. With a
//     million mostly idle connections that window would cost 32 GB.
//
// client_max_window_bits is never sent: it is optional for the server, and
// Go's inflater accepts any window up to 32 KiB.
const DeflateResponse = wsflate.ExtensionName + "; server_no_context_takeover; client_no_context_takeover"

// DeflateResponse15 answers an offer that limited the server's window with
// server_max_window_bits=15. The response must then repeat the parameter
// with a value no larger (§7.1.2.1); compress/flate always uses a 32 KiB
// window, so 15 is the only value the server can honour.
const DeflateResponse15 = DeflateResponse + "; server_max_window_bits=15"

// Negotiator chooses the answer to permessage-deflate offers. It keeps
// scratch space between uses so that negotiating allocates nothing once it
// has grown; its zero value is ready. It is not safe for concurrent use:
// keep one per event loop.
type Negotiator struct {
	buf  []byte // the header values joined: httphead unescapes in place
	opts []httphead.Option
}

// The responses as bytes, for AppendSwitching. Never modified.
var (
	deflateResponse   = []byte(DeflateResponse)
	deflateResponse15 = []byte(DeflateResponse15)
)

// Deflate chooses the first permessage-deflate offer in values (the
// Sec-WebSocket-Extensions header values in order, as HeaderValues gives
// them) that the server can accept, and returns the response value
// (DeflateResponse or DeflateResponse15, shared bytes the caller must not
// modify), or nil to decline them all. Several header lines mean the same
// as one with their values joined by commas (RFC 9110 §5.3), so they are
// parsed joined. A syntactically malformed header declines every offer:
// the server cannot be sure what the client meant. Other extensions are
// ignored, since the server supports none.
func (n *Negotiator) Deflate(values [][]byte) []byte {
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
		clear(n.opts) // drop references to the joined bytes
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
	if !strictDeflateParams(opt) {
		return nil, false
	}
	switch p.ServerMaxWindowBits {
	case 0:
		return deflateResponse, true
	case 15:
		return deflateResponse15, true
	}
	return nil, false
}

// strictDeflateParams refuses what wsflate lets through and the RFC does
// not: a repeated valueless client_max_window_bits, and leading zeros.
func strictDeflateParams(opt *httphead.Option) bool {
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
	return valid
}

// DeflateAnswer judges a server's Sec-WebSocket-Extensions answer (its
// values, as HeaderValues gives them) to a client that offered plain
// permessage-deflate. No values, or empty ones, decline; otherwise there
// must be exactly one extension, permessage-deflate, with parameters RFC
// 7692 lets a server send, and accepted is true. Anything else is
// ErrExtension, on which the client must fail the connection (RFC 6455
// §4.1). It is meant for the client side and allocates.
func DeflateAnswer(values [][]byte) (accepted bool, err error) {
	joined := bytes.Join(values, []byte(", "))
	if len(TrimOWS(joined)) == 0 {
		return false, nil
	}
	opts, parsed := httphead.ParseOptions(joined, nil)
	if !parsed || len(opts) != 1 || !bytes.Equal(opts[0].Name, wsflate.ExtensionNameBytes) {
		return false, ErrExtension
	}
	var p wsflate.Parameters
	if err := p.Parse(opts[0]); err != nil || !strictDeflateParams(&opts[0]) {
		return false, ErrExtension
	}
	return true, nil
}
