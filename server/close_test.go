package server

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
)

// closingHandler closes a connection when asked to by a message, and
// reports what Send returned afterwards.
type closingHandler struct {
	Echo
	sendAfterClose chan error
}

func (h closingHandler) OnMessage(c *Conn, op ws.OpCode, data []byte) {
	if string(data) != "close me" {
		h.Echo.OnMessage(c, op, data)
		return
	}
	c.Close(4000, "as requested")
	c.Close(4001, "again") // a second Close does nothing
	h.sendAfterClose <- c.Send(ws.OpText, []byte("too late"))
}

func startClosingServer(t *testing.T, closeTimeout time.Duration) (*Server, closingHandler) {
	t.Helper()
	h := closingHandler{sendAfterClose: make(chan error, 4)}
	srv := startServer(t, Config{CloseTimeout: closeTimeout, Routes: map[string]Handler{"/echo": h}})
	return srv, h
}

// expectServerClose reads the close frame a handler started.
func expectServerClose(t *testing.T, c *rawClient, h closingHandler) {
	t.Helper()
	hdr, p := c.readFrame()
	if hdr.OpCode != ws.OpClose || string(p) != string(closeBody(4000, "as requested")) {
		t.Fatalf("frame op=%v %q, want close 4000", hdr.OpCode, p)
	}
	if err := <-h.sendAfterClose; err != ErrClosed {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
}

// TestHandlerCloseAnswered: the peer answers the server's close frame and
// the server then closes the TCP connection; frames the peer sends before
// its answer are ignored, not echoed or answered.
func TestHandlerCloseAnswered(t *testing.T) {
	srv, h := startClosingServer(t, time.Minute)
	c := upgradeRaw(t, srv, "/echo")
	c.send(true, ws.OpText, []byte("close me"))
	expectServerClose(t, c, h)
	c.send(true, ws.OpText, []byte("ignored"))
	c.send(true, ws.OpPing, []byte("ignored"))
	c.send(true, ws.OpClose, closeBody(4000, ""))
	c.expectEOF()
	waitFor(t, "the connection to close", ioTimeout, func() bool { return srv.Stats().Open == 0 })
	if st := srv.Stats(); st.CloseTimeouts != 0 || st.MessagesIn != 1 {
		t.Fatalf("CloseTimeouts = %d, MessagesIn = %d; want 0, 1", st.CloseTimeouts, st.MessagesIn)
	}
}

// TestHandlerCloseUnanswered: a peer that never answers the close frame is
// disconnected after CloseTimeout.
func TestHandlerCloseUnanswered(t *testing.T) {
	srv, h := startClosingServer(t, 200*time.Millisecond)
	c := upgradeRaw(t, srv, "/echo")
	c.send(true, ws.OpText, []byte("close me"))
	expectServerClose(t, c, h)
	c.expectEOF()
	waitFor(t, "the close timeout to be counted", ioTimeout, func() bool {
		st := srv.Stats()
		return st.CloseTimeouts == 1 && st.Open == 0
	})
}

// TestGorillaHandlerClose checks the server-started close handshake with
// gorilla, which answers close frames by itself.
func TestGorillaHandlerClose(t *testing.T) {
	srv, h := startClosingServer(t, time.Minute)
	c := dialGorilla(t, srv, nil)
	if err := c.WriteMessage(gorilla.TextMessage, []byte("close me")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage()
	var ce *gorilla.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Text != "as requested" {
		t.Fatalf("read: %v, want close 4000 %q", err, "as requested")
	}
	if err := <-h.sendAfterClose; err != ErrClosed {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	waitFor(t, "the connection to close", ioTimeout, func() bool { return srv.Stats().Open == 0 })
	if st := srv.Stats(); st.CloseTimeouts != 0 {
		t.Fatalf("CloseTimeouts = %d, want 0", st.CloseTimeouts)
	}
}

// TestServerCloseWithOpenConnections: Close drops every connection at once
// and Serve returns.
func TestServerCloseWithOpenConnections(t *testing.T) {
	srv := startServer(t, Config{})
	raw := upgradeRaw(t, srv, "/echo")
	c := dialGorilla(t, srv, nil)
	pending := dialRaw(t, srv)
	waitFor(t, "all connections to be accepted", ioTimeout, func() bool { return srv.Stats().Open == 3 })

	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-srv.Done():
	case <-time.After(ioTimeout):
		t.Fatal("Serve did not return")
	}
	if _, _, err := c.ReadMessage(); err == nil {
		t.Fatal("gorilla read succeeded after Close")
	}
	for _, rc := range []*rawClient{raw, pending} {
		if _, err := rc.br.ReadByte(); err != io.EOF && !isConnReset(err) {
			t.Fatalf("raw read after Close: %v", err)
		}
	}
	if st := srv.Stats(); st.Open != 0 || st.Upgraded != 0 {
		t.Fatalf("Open = %d, Upgraded = %d after Close", st.Open, st.Upgraded)
	}
}
