package main

import (
	"flag"

	"github.com/myriadws/myriad/server"
)

// addLimitFlags declares the flags of the reactor's limits against abuse
// (time and memory bounds beyond the per-connection ones).
func addLimitFlags(fs *flag.FlagSet, c *server.Config) {
	fs.DurationVar(&c.MessageTimeout, "message-timeout", server.DefaultMessageTimeout, "time from a message's first frame to its last; longer closes with 1008 (negative: no limit)")
	fs.DurationVar(&c.SlowTimeout, "slow-timeout", server.DefaultSlowTimeout, "close (1008) a client whose outbound queue stays at --max-outbound this long, even under --slow-policy drop (negative: never)")
	fs.Var(byteSize{p64: &c.MaxBuffered}, "max-buffered", "bytes queued or being assembled over all connections; past it the largest holders are closed with 1013 (0: a quarter of GOMEMLIMIT, the cgroup limit or RAM)")
}
