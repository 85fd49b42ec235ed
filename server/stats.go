package server

import (
	"go.uber.org/zap"
)

// Stats is a snapshot of the server's counters. Totals count since start.
type Stats struct {
	Open              int64  `json:"open"`     // TCP connections, handshaking or upgraded
	Upgraded          int64  `json:"upgraded"` // WebSocket connections now
	Accepted          uint64 `json:"accepted"`
	Upgrades          uint64 `json:"upgrades"`
	Rejected          uint64 `json:"rejected"`  // upgrades refused with an HTTP error
	Pages             uint64 `json:"pages"`     // Config.Pages answered
	Streams           uint64 `json:"streams"`   // Config.Streams requests accepted
	Shed              uint64 `json:"shed"`      // connections closed at accept over MaxConns
	MaxConns          int    `json:"max_conns"` // the cap in force (0: none)
	MessagesIn        uint64 `json:"messages_in"`
	MessagesOut       uint64 `json:"messages_out"`
	CompressedIn      uint64 `json:"compressed_in"`  // messages received with permessage-deflate
	CompressedOut     uint64 `json:"compressed_out"` // messages sent with permessage-deflate
	PingsSent         uint64 `json:"pings_sent"`
	ProtocolErrors    uint64 `json:"protocol_errors"`
	TooBig            uint64 `json:"too_big"`
	SlowConsumers     uint64 `json:"slow_consumers"`
	IdleTimeouts      uint64 `json:"idle_timeouts"`
	HandshakeTimeouts uint64 `json:"handshake_timeouts"`
	MessageTimeouts   uint64 `json:"message_timeouts"` // messages not complete within MessageTimeout
	CloseTimeouts     uint64 `json:"close_timeouts"`
	Dropped           uint64 `json:"dropped"`       // prepared sends skipped under SlowDrop
	SlowTimeouts      uint64 `json:"slow_timeouts"` // closed after SlowTimeout at MaxOutbound
	OverBudget        uint64 `json:"over_budget"`   // closed as the largest holders over MaxBuffered
	Buffered          int64  `json:"buffered"`      // bytes queued or being assembled, at the last tick
	MaxBuffered       int64  `json:"max_buffered"`  // the budget in force (<= 0: none)
	Posted            uint64 `json:"posted"`        // functions accepted by Loop.Post
	PostBusy          uint64 `json:"post_busy"`     // Loop.Post refusals with ErrBusy
	BytesIn           uint64 `json:"bytes_in"`      // payload bytes of messages received
	BytesOut          uint64 `json:"bytes_out"`     // payload bytes of messages sent, before compression
	Draining          bool   `json:"draining"`
}

// Stats returns the current counters. Any goroutine may call it.
func (s *Server) Stats() Stats {
	st := Stats{
		Open:     s.open.Load(),
		Upgraded: s.upgraded.Load(),
		Draining: s.draining.Load(),
		MaxConns: s.maxConns,

		Buffered:    s.bufferedTotal(),
		MaxBuffered: s.maxBuffered,
	}
	for _, l := range s.loops {
		ls := &l.stats
		st.Accepted += ls.accepted.Load()
		st.Upgrades += ls.upgrades.Load()
		st.Rejected += ls.rejected.Load()
		st.Pages += ls.pages.Load()
		st.Streams += ls.streams.Load()
		st.Shed += ls.shed.Load()
		st.MessagesIn += ls.messagesIn.Load()
		st.MessagesOut += ls.messagesOut.Load()
		st.CompressedIn += ls.compressedIn.Load()
		st.CompressedOut += ls.compressedOut.Load()
		st.PingsSent += ls.pingsSent.Load()
		st.ProtocolErrors += ls.protocolErrors.Load()
		st.TooBig += ls.tooBig.Load()
		st.SlowConsumers += ls.slowConsumers.Load()
		st.IdleTimeouts += ls.idleTimeouts.Load()
		st.HandshakeTimeouts += ls.handshakeTimeouts.Load()
		st.MessageTimeouts += ls.messageTimeouts.Load()
		st.CloseTimeouts += ls.closeTimeouts.Load()
		st.Dropped += ls.dropped.Load()
		st.SlowTimeouts += ls.slowTimeouts.Load()
		st.OverBudget += ls.overBudget.Load()
		st.Posted += ls.posted.Load()
		st.PostBusy += ls.postBusy.Load()
		st.BytesIn += ls.bytesIn.Load()
		st.BytesOut += ls.bytesOut.Load()
	}
	return st
}

func connField(c *Conn) zap.Field {
	if a := c.gc.RemoteAddr(); a != nil {
		return zap.Stringer("remote", a)
	}
	return zap.Skip()
}
