package server

import (
	"errors"
	"net"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/myriadws/myriad/frame"
)

// Conn is one client connection: the session the reactor keeps for it. It
// belongs to its event loop; its methods may be called only from that loop,
// that is from a Handler callback or from a function posted to its Loop,
// except Loop, which any goroutine may call. It is kept at 64 bytes because
// a million of them stay resident: an application keeps what it needs per
// connection in its own per-loop state, keyed by the *Conn.
type Conn struct {
	gc         gnet.Conn
	loop       *loop
	prev, next *Conn    // timing-wheel slot list
	in         *inbound // partial frame or fragmented message; nil when idle
	last       uint32   // ms clock: last activity, accept time, or close sent
	slot       uint16   // timing-wheel slot, noSlot when not scheduled
	scan       uint16   // resume offset of the handshake's blank-line search
	state      connState
	flags      connFlags
	route      uint8
	reason     CloseReason
	code       uint16 // close code or HTTP status behind reason
	proto      uint8  // 1 + index of the subprotocol in Config.Subprotocols; 0 for none
}

type connState uint8

const (
	stateHandshake connState = iota // waiting for the upgrade request
	stateOpen                       // upgraded
	stateClosing                    // close frame sent, waiting for the peer's
	stateClosed                     // OnClose ran
	statePage                       // a Page was answered, or a stream ended; waiting for it to be sent
	stateStream                     // a held-open HTTP response (Config.Streams)
)

type connFlags uint8

const (
	flagPinged  connFlags = 1 << iota // ping sent since the last input
	flagKill                          // close the TCP connection when the current callback returns
	flagDrained                       // drain has sent this connection its close
	// flagDeflate: permessage-deflate was negotiated, with no context
	// takeover in either direction (the only parameters the server
	// accepts), so this bit is all the extension state a connection has.
	flagDeflate
	flagStream // a StreamHandler accepted it: its OnClose runs at close
)

// Errors returned by Send and SendPrepared.
var (
	// ErrClosed is returned for a connection that is closing or closed.
	ErrClosed = errors.New("connection closed")
	// ErrSlowConsumer is returned when a send would queue more than
	// MaxOutbound bytes; the connection is being closed.
	ErrSlowConsumer = errors.New("slow consumer: outbound queue limit reached")
)

// Send writes one message as a single frame. op is ws.OpText or
// ws.OpBinary. data is copied or written before Send returns. On a
// connection that negotiated permessage-deflate, messages of at least
// Config.CompressionMinSize bytes are sent compressed when that makes them
// smaller. It fails with
// ErrSlowConsumer (and the connection is closed) when the peer is not
// reading fast enough. Loop-only.
func (c *Conn) Send(op ws.OpCode, data []byte) error {
	if c.state != stateOpen {
		return ErrClosed
	}
	if err := c.loop.writeFrame(c, op, data); err != nil {
		return err
	}
	c.loop.stats.messagesOut.Add(1)
	c.loop.stats.bytesOut.Add(uint64(len(data)))
	return nil
}

// Close starts the closing handshake with code and reason; the TCP
// connection is closed when the peer answers or after CloseTimeout.
// Loop-only.
func (c *Conn) Close(code ws.StatusCode, reason string) {
	c.loop.startClose(c, code, reason, ReasonApp)
}

// Loop returns the event loop that owns c, for the whole life of c. Any
// goroutine may call it.
func (c *Conn) Loop() *Loop { return &c.loop.pub }

// Buffered returns the bytes queued for the peer that the kernel has not
// taken yet (bounded by Config.MaxOutbound). Loop-only.
func (c *Conn) Buffered() int {
	if c.state == stateClosed {
		return 0
	}
	return c.gc.OutboundBuffered()
}

// Open returns the value the route's Authorizer returned for c. It is
// valid only during OnOpen: the loop holds it from Authorize to the end of
// OnOpen, not the Conn, so that an idle connection costs nothing for it.
// It is nil at any other time, and when the route has no Authorizer.
// Loop-only.
func (c *Conn) Open() any {
	if o := &c.loop.opening; o.c == c {
		return o.v
	}
	return nil
}

// opening is the value an Authorizer returned, held by the loop for the
// OnOpen that follows in the same callback. An upgrade that fails after
// Authorize leaves it behind until the next Authorize or OnClose on the
// loop clears it, so it holds at most one value.
type opening struct {
	c *Conn
	v any
}

// RemoteAddr returns the peer's address. Loop-only.
func (c *Conn) RemoteAddr() net.Addr { return c.gc.RemoteAddr() }

// Subprotocol returns the subprotocol negotiated in the upgrade (one of
// Config.Subprotocols), or "" when there is none. Loop-only.
func (c *Conn) Subprotocol() string {
	if c.proto == 0 {
		return ""
	}
	return c.loop.srv.cfg.Subprotocols[c.proto-1]
}

// Compressed reports whether the connection negotiated permessage-deflate.
// Loop-only.
func (c *Conn) Compressed() bool { return c.flags&flagDeflate != 0 }

// Path returns the route the connection was upgraded on, or the stream
// path it was accepted on. Loop-only.
func (c *Conn) Path() string {
	if c.flags&flagStream != 0 {
		return c.loop.srv.streams[c.route].path
	}
	return c.loop.srv.routes[c.route].path
}

// inbound holds what a connection has received but not yet delivered: the
// rest of a data frame whose payload is still arriving and the fragments of
// a message. It exists only while such data exists and goes back to its
// loop's free list afterwards, so idle connections carry none.
type inbound struct {
	msg    frame.Message
	hdr    ws.Header // current data frame
	off    int64     // payload bytes of hdr already consumed
	remain int64     // payload bytes of hdr still to come
	buf    []byte    // the message so far
	start  int64     // ms clock: when the message's first frame header arrived
}
