package main

import (
	"flag"

	"github.com/myriadws/myriad/server"
)

// addLimitFlags declares the flags of the reactor's limits against abuse
// (descriptor, time and memory bounds beyond the per-connection ones).
func addLimitFlags(fs *flag.FlagSet, c *server.Config) {
	fs.DurationVar(&c.MessageTimeout, "message-timeout", server.DefaultMessageTimeout, "time from a message's first frame to its last; longer closes with 1008 (negative: no limit)")
}
