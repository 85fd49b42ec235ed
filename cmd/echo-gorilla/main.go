// Command echo-gorilla is a WebSocket echo server in the usual Go design,
// gorilla/websocket with a goroutine per connection, on /echo. It is the
// peer that myriad's measurements are compared against in the same runs:
//
//	echo-gorilla 127.0.0.1:18402
package main

import (
	"fmt"
	"net/http"
	"os"
	"syscall"

	"github.com/gorilla/websocket"
)

func main() {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}
	http.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			t, m, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(t, m) != nil {
				return
			}
		}
	})
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: echo-gorilla host:port")
		os.Exit(2)
	}
	if err := http.ListenAndServe(os.Args[1], nil); err != nil {
		fmt.Fprintln(os.Stderr, "echo-gorilla:", err)
		os.Exit(1)
	}
}
