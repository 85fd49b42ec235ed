// Command echo-gorilla is a WebSocket echo server in the usual Go design,
// gorilla/websocket with a goroutine per connection, on /echo. It is the
// peer that myriad's measurements are compared against in the same runs:
//
//	echo-gorilla 127.0.0.1:18402
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"

	"github.com/gorilla/websocket"
)

// usage is printed for -h and --help, and after a usage error.
const usage = `usage: echo-gorilla host:port

Serves WebSocket echo on ws://host:port/echo with gorilla/websocket, one
goroutine per connection: the peer myriad is measured against.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the command line and serves until the listener fails. It
// returns the exit code: 0 after -h, 1 when serving fails, 2 on bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	addr, err := parseArgs(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "echo-gorilla: %v\n%s", err, usage)
		return 2
	}
	raiseNoFile()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", echo)
	if err := http.ListenAndServe(addr, mux); err != nil {
		fmt.Fprintln(stderr, "echo-gorilla:", err)
		return 1
	}
	return 0
}

// parseArgs returns the listen address, the one argument. It takes -h and
// --help as a request for usage (flag.ErrHelp), never as an address.
func parseArgs(args []string) (string, error) {
	fs := flag.NewFlagSet("echo-gorilla", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		return "", fmt.Errorf("want one argument, the listen address, got %d", fs.NArg())
	}
	return fs.Arg(0), nil
}

// raiseNoFile lifts the soft descriptor limit to the hard one, as myriad
// does, so both servers in a comparison hold the same number of sockets.
func raiseNoFile() {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}

// echo upgrades the request and writes every message back, one goroutine
// per connection.
func echo(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}
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
}
