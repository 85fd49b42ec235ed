package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdoutHas  string
		stderrHas  string
		stdoutNone bool
	}{
		{name: "--help", args: []string{"--help"}, code: 0, stdoutHas: "usage: echo-gorilla host:port"},
		{name: "-h", args: []string{"-h"}, code: 0, stdoutHas: "usage: echo-gorilla host:port"},
		{name: "no address", args: nil, code: 2, stderrHas: "want one argument", stdoutNone: true},
		{name: "two addresses", args: []string{"127.0.0.1:1", "127.0.0.1:2"}, code: 2, stderrHas: "got 2", stdoutNone: true},
		{name: "unknown flag", args: []string{"--port", "1"}, code: 2, stderrHas: "flag provided but not defined", stdoutNone: true},
		{name: "bad address", args: []string{"127.0.0.1:notaport"}, code: 1, stderrHas: "echo-gorilla: listen tcp", stdoutNone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdoutHas) || !strings.Contains(stderr.String(), tc.stderrHas) {
				t.Fatalf("stdout %q, stderr %q", stdout.String(), stderr.String())
			}
			if tc.stdoutNone && stdout.Len() > 0 {
				t.Fatalf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

// TestRunAddressInUse checks that a listen failure exits 1 with the cause.
func TestRunAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr bytes.Buffer
	if code := run([]string{ln.Addr().String()}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "address already in use") {
		t.Fatalf("stderr %q", stderr.String())
	}
}

// TestEcho checks over loopback that a message comes back unchanged.
func TestEcho(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(echo))
	defer hs.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	typ, m, err := c.ReadMessage()
	if err != nil || typ != websocket.TextMessage || string(m) != "hello" {
		t.Fatalf("got %d %q %v, want text \"hello\"", typ, m, err)
	}
}
