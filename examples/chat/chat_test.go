package main

import (
	"net/http"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// startChat runs the chat on /chat with two loops, so that a room spans
// loops and broadcasts go through Post.
func startChat(t *testing.T) string {
	t.Helper()
	ch := &Chat{}
	_, addr := servertest.Start(t, server.Config{Loops: 2, Routes: map[string]server.Handler{"/chat": ch}}, ch.Attach)
	return addr
}

// join connects a gorilla client to room as name.
func join(t *testing.T, addr, room, name string) *gorilla.Conn {
	t.Helper()
	c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/chat?room="+room+"&name="+name, nil)
	if err != nil {
		t.Fatalf("%s joining %s: %v", name, room, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// next reads one message.
func next(t *testing.T, c *gorilla.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(servertest.IOTimeout))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// await reads until want arrives; join and leave notices may come first.
func await(t *testing.T, c *gorilla.Conn, want string) {
	t.Helper()
	for {
		if next(t, c) == want {
			return
		}
	}
}

func say(t *testing.T, c *gorilla.Conn, text string) {
	t.Helper()
	if err := c.WriteMessage(gorilla.TextMessage, []byte(text)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// TestRoomsAreSeparate puts two clients in one room and a third in
// another: the two see each other's messages, the third sees none of them.
func TestRoomsAreSeparate(t *testing.T) {
	addr := startChat(t)
	alice := join(t, addr, "a", "alice")
	await(t, alice, "alice joined")
	bob := join(t, addr, "a", "bob")
	await(t, alice, "bob joined")
	carol := join(t, addr, "b", "carol")
	if got := next(t, carol); got != "carol joined" {
		t.Fatalf("carol first got %q", got)
	}

	say(t, alice, "hi bob")
	await(t, bob, "alice: hi bob")
	say(t, bob, "hi alice")
	await(t, alice, "bob: hi alice")

	// Room a's messages were posted to every loop before carol speaks,
	// so had any reached her, it would come before her own.
	say(t, carol, "anyone?")
	if got := next(t, carol); got != "carol: anyone?" {
		t.Fatalf("carol got %q from another room", got)
	}

	_ = bob.Close()
	await(t, alice, "bob left")
}

// TestJoinNeedsName refuses an upgrade without a name, or with one too long.
func TestJoinNeedsName(t *testing.T) {
	addr := startChat(t)
	cases := []struct{ name, query string }{
		{"no name", "room=a"},
		{"name too long", "room=a&name=0123456789012345678901234567890123456789"},
		{"bad query", "name=%zz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/chat?"+tc.query, nil)
			if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("dial: %v, want 400", err)
			}
		})
	}
}
