package peer

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Serve is what a peer's main package supplies: start the WebSocket
// server on a.WS and return the Fanout of its /ws subscribers, or an
// error. It must not block.
type Serve func(a Addrs) (Fanout, error)

// Main is the whole of a peer command: parse args, raise the descriptor
// limit, start the WebSocket server, then serve the publish API on
// a.API until it fails. It returns the exit code: 0 after -h, 1 when
// serving fails, 2 on bad usage.
func Main(name string, args []string, stdout, stderr io.Writer, serve Serve) int {
	a, err := ParseArgs(name, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stdout, "%s --addr host:port --api-addr host:port\n", name)
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	if err := RaiseNoFile(); err != nil {
		fmt.Fprintf(stderr, "%s: raising the descriptor limit: %v\n", name, err)
	}
	fan, err := serve(a)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	api := &http.Server{Addr: a.API, Handler: PublishHandler(fan), ReadHeaderTimeout: 10 * time.Second}
	if err := api.ListenAndServe(); err != nil {
		fmt.Fprintf(stderr, "%s: publish API: %v\n", name, err)
		return 1
	}
	return 0
}
