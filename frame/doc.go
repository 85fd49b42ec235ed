// Package frame is the RFC 6455 frame codec used by the myriad reactor.
//
// It works on byte slices only: no I/O, no goroutines, no logging. A parser
// is handed whatever bytes an event loop has buffered so far and answers
// either with a result and the number of bytes it consumed, or with
// ErrShortBuffer ("need more") without consuming anything. This lets the
// reactor parse input that arrives one byte at a time without copying it
// into a per-connection buffer first.
//
// The types of the protocol (ws.Header, ws.OpCode, ws.StatusCode) come from
// github.com/gobwas/ws so that the codec and the rest of the code base share
// one vocabulary; the incremental parsing lives here because gobwas/ws reads
// from an io.Reader, which an event loop does not have.
//
// Nothing on the hot path allocates: ParseHeader, AppendHeader, Unmask and the
// UTF-8 validator work in place or append to a caller's slice.
package frame
