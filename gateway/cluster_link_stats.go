package gateway

// LinkStats returns this node's cluster-link counters, and false when the
// gateway has no cluster. The metrics exporter reads it at scrape time.
// Any goroutine may call it.
func (g *Gateway) LinkStats() (LinkStats, bool) {
	cl := g.cluster
	if cl == nil {
		return LinkStats{}, false
	}
	return cl.stats(g), true
}

// stats reads the link's counters.
func (cl *clusterLink) stats(g *Gateway) LinkStats {
	ls := LinkStats{
		Received: cl.received.Load(), OwnSkipped: cl.ownSkipped.Load(), Rejected: cl.rejected.Load(),
		LocalFirst: cl.localFirst.Load(), Unsent: cl.unsent.Load(), InterestErrors: cl.interestError.Load(),
		QueueFull: cl.queueFull.Load(), Queued: len(cl.queue.ch), InterestQueued: cl.interest.queued(),
		PresenceUnsent: cl.presenceUnsent.Load(),
	}
	if g.cfg.PresenceEvents {
		ls.PresenceNodes, ls.PresenceExpired, ls.PresenceResyncs = g.presence.counters()
	}
	return ls
}
