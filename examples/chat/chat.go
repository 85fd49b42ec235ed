package main

import (
	"net/http"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/server"
)

// Chat is a chat room server on package server alone: clients connect to
// /chat?room=R&name=N, and every text message is sent to everyone in the
// room as "N: message". Rooms are kept per event loop, so no lock is
// needed: a broadcast is prepared once and posted to every loop, and each
// loop writes it to its own members of the room.
type Chat struct {
	srv   *server.Server
	loops []*rooms // indexed by server.Loop.Index; each touched only by its loop
}

// rooms is one loop's members, by room.
type rooms struct {
	byRoom map[string]map[*server.Conn]string // room -> conn -> name
	member map[*server.Conn]member
}

// member is who a connection is, decided by Authorize.
type member struct{ room, name string }

// Attach builds the per-loop state; call it after server.New, before Serve.
func (ch *Chat) Attach(srv *server.Server) error {
	ch.srv = srv
	for range srv.Loops() {
		ch.loops = append(ch.loops, &rooms{byRoom: map[string]map[*server.Conn]string{}, member: map[*server.Conn]member{}})
	}
	return nil
}

// Authorize requires a name; the room defaults to "lobby".
func (ch *Chat) Authorize(_ *server.Conn, r *server.UpgradeRequest) (any, error) {
	q, err := r.Query()
	name, room := q.Get("name"), q.Get("room")
	if err != nil || name == "" || len(name) > 32 || len(room) > 64 {
		return nil, &server.StatusError{Status: http.StatusBadRequest, Reason: "want ?name= (up to 32 bytes) and ?room= (up to 64)"}
	}
	if room == "" {
		room = "lobby"
	}
	return member{room: room, name: name}, nil
}

// OnOpen puts the connection in its room and tells the room.
func (ch *Chat) OnOpen(c *server.Conn) {
	m := c.Open().(member)
	rs := ch.loops[c.Loop().Index()]
	if rs.byRoom[m.room] == nil {
		rs.byRoom[m.room] = map[*server.Conn]string{}
	}
	rs.byRoom[m.room][c] = m.name
	rs.member[c] = m
	ch.broadcast(m.room, m.name+" joined")
}

// OnMessage sends a text message to the sender's room.
func (ch *Chat) OnMessage(c *server.Conn, op ws.OpCode, data []byte) {
	if m, ok := ch.loops[c.Loop().Index()].member[c]; ok && op == ws.OpText {
		ch.broadcast(m.room, m.name+": "+string(data))
	}
}

// OnClose takes the connection out of its room and tells the room.
func (ch *Chat) OnClose(c *server.Conn, _ server.CloseInfo) {
	rs := ch.loops[c.Loop().Index()]
	m, ok := rs.member[c]
	if !ok {
		return
	}
	delete(rs.member, c)
	delete(rs.byRoom[m.room], c)
	if len(rs.byRoom[m.room]) == 0 {
		delete(rs.byRoom, m.room)
	}
	ch.broadcast(m.room, m.name+" left")
}

// broadcast encodes text once and posts it to every loop, which writes it
// to its members of room. A member too far behind misses the message
// rather than holding the room back.
func (ch *Chat) broadcast(room, text string) {
	p := server.Prepare(ws.OpText, []byte(text))
	for _, l := range ch.srv.Loops() {
		rs := ch.loops[l.Index()]
		// ErrUnbound: the loop has no connections; ErrBusy: it is
		// overloaded and this message is dropped there.
		_ = l.Post(func() {
			for c := range rs.byRoom[room] {
				_ = c.SendPrepared(p, server.SlowDrop)
			}
		})
	}
}
