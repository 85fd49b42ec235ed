// Package handshake is the HTTP/1.1 upgrade of RFC 6455 §4 on byte slices,
// for both ends of a connection.
//
// Like package frame it does no I/O, starts no goroutines and logs nothing.
// A parser is handed whatever bytes have arrived so far and answers either
// with a result and the number of bytes the head occupies, or with
// ErrShortBuffer ("need more") without consuming anything, so an event loop
// can parse a request that arrives one byte at a time straight from its
// input buffer. Parsed values alias that input and are valid only until the
// caller discards those bytes.
//
// The server side is ReadRequest (syntax, strictly: RFC 9112 line endings,
// no control characters, HTTP/1.1 and no other major version),
// Request.Check (the RFC 6455 §4.2.1 header rules and the refusal of a
// request body), AppendSwitching and AppendError for the answer, and the negotiation of permessage-deflate
// (Negotiator), the subprotocol (SelectSubprotocol) and the Origin
// (OriginPattern). The client side is RequestTemplate for the request and
// ReadResponse for checking the 101 answer. Both sides share one accept-key
// computation (AppendAccept) and one comma-list walker (NextItem).
//
// Nothing on the server's path allocates: ReadRequest, Check, AppendAccept,
// AppendSwitching and Negotiator.Deflate (after its first use) work in place
// or append to the caller's slices.
//
// Every refusal is an *Error carrying the HTTP status to answer with; the
// package's errors are sentinels, pointers never modified, so comparing
// with == or errors.Is is safe.
package handshake
