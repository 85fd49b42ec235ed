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

// bucketFull reports whether s's bucket has refilled by nowMs: its state
// is then the same as a fresh one's, and worth nothing to keep.
func (g *Gateway) bucketFull(s *session, nowMs int64) bool {
	if g.cfg.ClientRate < 0 || s.lastMs == 0 {
		return true
	}
	return float64(s.tokens)+float64(nowMs-s.lastMs)*g.cfg.ClientRate/1000 >= float64(g.cfg.ClientBurst)
}

// sweepEvery is how often loops look for sessions kept only for a
// bucket that has refilled since.
const sweepEvery = time.Second

// runSweep releases, once a second, the sessions that exist only for a
// rate bucket that has since refilled, so that a client that sent a few
// messages and went quiet costs nothing again. One goroutine per Gateway;
// a loop with no such session does nothing.
func (g *Gateway) runSweep() {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-g.srv.Done():
			return
		case <-t.C:
		}
		_ = g.dispatch(&job{run: func(sh *shard) int { sh.sweepBuckets(); return 0 }})
	}
}

// sweepBuckets releases this loop's bucket-only sessions that have
// refilled. Loop-only.
func (sh *shard) sweepBuckets() {
	if len(sh.bucketOnly) == 0 {
		return
	}
	// A fresh map, since release adds back what must still wait, and
	// an emptied map would keep its buckets.
	waiting := sh.bucketOnly
	sh.bucketOnly = make(map[*server.Conn]struct{})
	for c := range waiting {
		if s := sh.conns[c]; s != nil {
			sh.release(c, s)
		}
	}
}
