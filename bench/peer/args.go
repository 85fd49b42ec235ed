package peer

import (
	"errors"
	"flag"
	"io"
)

// Addrs are a peer's two listen addresses.
type Addrs struct {
	WS  string // /echo and /ws
	API string // POST /publish
}

// ErrUsage is returned by ParseArgs for a command line it cannot use.
var ErrUsage = errors.New("usage: --addr host:port --api-addr host:port")

// ParseArgs reads --addr and --api-addr, both required. It is the only
// flag parsing of the peers and is called from their main packages; -h
// gives flag.ErrHelp.
func ParseArgs(name string, args []string) (Addrs, error) {
	var a Addrs
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.WS, "addr", "", "WebSocket listen address (/echo, /ws)")
	fs.StringVar(&a.API, "api-addr", "", "publish API listen address (POST /publish)")
	if err := fs.Parse(args); err != nil {
		return Addrs{}, err
	}
	if fs.NArg() != 0 || a.WS == "" || a.API == "" {
		return Addrs{}, ErrUsage
	}
	return a, nil
}
