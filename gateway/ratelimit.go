package gateway

import (
	"time"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/server"
)

// allow takes one token from c's bucket (Config.ClientRate per second,
// up to Config.ClientBurst) and closes c with 1008 when there is none.
// The bucket lives in the session, which a connection has only while it
// holds something: an anonymous connection that stays quiet long enough
// for its bucket to refill is released again (see release), so an idle
// connection costs nothing for the limit. Loop-only.
func (g *Gateway) allow(sh *shard, c *server.Conn) bool {
	if g.cfg.ClientRate < 0 {
		return true
	}
	s := sh.session(c, true)
	now := time.Now().UnixMilli()
	burst := float32(g.cfg.ClientBurst)
	if s.lastMs == 0 {
		s.tokens = burst
	} else if dt := now - s.lastMs; dt > 0 {
		s.tokens = min(burst, s.tokens+float32(float64(dt)*g.cfg.ClientRate/1000))
	}
	s.lastMs = now
	if s.tokens < 1 {
		sh.stats.rateLimited.Add(1)
		c.Close(ws.StatusPolicyViolation, "message rate limit exceeded")
		return false
	}
	s.tokens--
	return true
}

// bucketFull reports whether s's bucket would be full again without
// this message, which makes it worth nothing to keep.
func (g *Gateway) bucketFull(s *session) bool {
	return g.cfg.ClientRate < 0 || s.lastMs == 0 || s.tokens+1 >= float32(g.cfg.ClientBurst)
}
