// Command chat runs the chat room example: go run ./examples/chat, then
// connect WebSocket clients to ws://localhost:8090/chat?room=R&name=N.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/myriadws/myriad/server"
)

func main() {
	addr := flag.String("addr", ":8090", "listen address")
	flag.Parse()
	ch := &Chat{}
	srv, err := server.New(server.Config{Addr: *addr, Routes: map[string]server.Handler{"/chat": ch}})
	if err == nil {
		err = ch.Attach(srv)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		_, _ = srv.Drain(context.Background())
	}()
	if err := srv.Serve(); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}
