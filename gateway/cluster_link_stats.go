package gateway

// LinkStats returns this node's cluster-link counters, and false when the
// gateway has no cluster. The metrics exporter reads it at scrape time.
// Any goroutine may call it.
func (g *Gateway) LinkStats() (LinkStats, bool) {
	cl := g.cluster
	if cl == nil {
		return LinkStats{}, false
	}
	return LinkStats{
		Received: cl.received.Load(), OwnSkipped: cl.ownSkipped.Load(), Rejected: cl.rejected.Load(),
		LocalFirst: cl.localFirst.Load(), Unsent: cl.unsent.Load(), InterestErrors: cl.interestError.Load(),
	}, true
}
