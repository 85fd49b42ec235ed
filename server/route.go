package server

import "github.com/gobwas/ws"

// Handler is an application mounted on a path. All methods run on the
// connection's event loop and must not block: a Handler that needs to wait
// hands the work to another goroutine, which reaches the connection again
// only through its loop (see Loop.Post).
type Handler interface {
	// OnOpen runs once the upgrade has completed. Conn.Open returns the
	// value the route's Authorizer returned, during this call only.
	OnOpen(c *Conn)
	// OnMessage runs for each complete message. data is valid only until
	// OnMessage returns; copy what must be kept.
	OnMessage(c *Conn, op ws.OpCode, data []byte)
	// OnClose runs once when an upgraded connection has closed, with the
	// reason, the close code and the socket's error. c may still be used
	// as a key, but sends fail with ErrClosed.
	OnClose(c *Conn, info CloseInfo)
}

// Echo is a Handler that sends every message back with its type, so text
// stays text. The myriad command mounts it on /echo; it is exported for
// any embedder that wants the same.
type Echo struct{}

// OnOpen implements Handler.
func (Echo) OnOpen(*Conn) {}

// OnMessage implements Handler.
func (Echo) OnMessage(c *Conn, op ws.OpCode, data []byte) { _ = c.Send(op, data) }

// OnClose implements Handler.
func (Echo) OnClose(*Conn, CloseInfo) {}

// route is one entry of the route table; a Conn refers to it by index.
type route struct {
	path string
	h    Handler
}
