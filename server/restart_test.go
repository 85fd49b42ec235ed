package server

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestRestartAfterDrainBinds checks that a server can listen again on the
// address of one that drained: the drained server closed its connections
// first, leaving them in TIME_WAIT on that port.
func TestRestartAfterDrainBinds(t *testing.T) {
	first, err := New(Config{Addr: "127.0.0.1:0", DrainTimeout: 2 * time.Second, Routes: echoRoutes()})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = first.Serve() }()
	<-first.Ready()
	addr := first.Addr().String()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return // gorilla answers the close frame on read
			}
		}
	}()
	if _, err := first.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-first.Done()

	// Prove a TIME_WAIT socket holds the port before binding again.
	if l, err := net.Listen("tcp", addr); err == nil {
		l.Close()
	}
	second, err := New(Config{Addr: addr, Routes: echoRoutes()})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- second.Serve() }()
	select {
	case <-second.Ready():
	case err := <-errc:
		t.Fatalf("restart on %s: %v", addr, err)
	case <-time.After(ioTimeout):
		t.Fatal("second server not ready")
	}
	defer second.Close()
	c2, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/echo", nil)
	if err != nil {
		t.Fatalf("dial restarted server: %v", err)
	}
	c2.Close()
}
