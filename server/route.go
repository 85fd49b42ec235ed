package server

import "github.com/gobwas/ws"

// Handler is an application mounted on a path. All methods run on the
// connection's event loop and must not block: a Handler that needs to wait
// hands the work to another goroutine, which reaches the connection again
// only through the loop (see Server.Execute).
type Handler interface {
	// OnOpen runs once the upgrade has completed.
	OnOpen(c *Conn)
	// OnMessage runs for each complete message. data is valid only until
	// OnMessage returns; copy what must be kept.
	OnMessage(c *Conn, op ws.OpCode, data []byte)
	// OnClose runs once when an upgraded connection has closed.
	OnClose(c *Conn)
}

// Echo is the Handler on /echo: it sends every message back with its type,
// so text stays text.
type Echo struct{}

// OnOpen implements Handler.
func (Echo) OnOpen(*Conn) {}

// OnMessage implements Handler.
func (Echo) OnMessage(c *Conn, op ws.OpCode, data []byte) { _ = c.Send(op, data) }

// OnClose implements Handler.
func (Echo) OnClose(*Conn) {}

// route is one entry of the route table; a Conn refers to it by index.
type route struct {
	path string
	h    Handler
}
