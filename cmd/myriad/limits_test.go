package main

import (
	"net"
	"testing"
	"time"
)

// TestLimitListener opens one connection more than the limit: it is not
// accepted until another one closes, so it holds no descriptor meanwhile.
func TestLimitListener(t *testing.T) {
	const limit = 3
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(raw, limit)
	defer ln.Close()
	accepted := make(chan net.Conn, limit+1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for range limit + 1 {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	var got []net.Conn
	for range limit {
		select {
		case c := <-accepted:
			got = append(got, c)
		case <-time.After(10 * time.Second):
			t.Fatal("connections within the limit not accepted")
		}
	}
	select {
	case <-accepted:
		t.Fatal("a connection past the limit was accepted")
	case <-time.After(100 * time.Millisecond):
		// Not a timing threshold on the server: this only gives a wrong
		// accept the chance to show up.
	}
	_ = got[0].Close()
	_ = got[0].Close() // a second Close must not free a second slot
	select {
	case c := <-accepted:
		_ = c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting connection was not accepted after one closed")
	}
	for _, c := range got[1:] {
		_ = c.Close()
	}
}
