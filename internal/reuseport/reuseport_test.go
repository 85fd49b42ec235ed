package reuseport

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestReservationHoldsPortWithoutAccepting(t *testing.T) {
	cases := []struct{ name, addr string }{
		{"ipv4 loopback", "127.0.0.1:0"},
		{"wildcard", ":0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Reserve(tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Release()
			if strings.HasSuffix(r.Addr(), ":0") {
				t.Fatalf("port not resolved: %s", r.Addr())
			}
			_, port, _ := net.SplitHostPort(r.Addr())
			dial := "127.0.0.1:" + port
			if c, err := net.Dial("tcp", dial); err == nil {
				c.Close()
				t.Fatal("a reservation accepted a connection")
			}
			// A program without SO_REUSEPORT cannot take the port.
			if ln, err := net.Listen("tcp", r.Addr()); err == nil {
				ln.Close()
				t.Fatal("plain listen on a reserved port succeeded")
			}
			// Two workers can, and connections reach them.
			for i := 0; i < 2; i++ {
				ln, err := Listen(context.Background(), "tcp", r.Addr())
				if err != nil {
					t.Fatalf("worker listen %d: %v", i, err)
				}
				defer ln.Close()
			}
			c, err := net.Dial("tcp", dial)
			if err != nil {
				t.Fatalf("dial the shared port: %v", err)
			}
			c.Close()
		})
	}
	if _, err := Reserve("no-port"); err == nil {
		t.Fatal("Reserve without a port succeeded")
	}
}
