package server

import "github.com/gobwas/ws"

// CloseReason records why a connection ended. OnClose receives it in
// CloseInfo, the counters in Stats follow it, and it is the one log line a
// connection may get when it closes.
type CloseReason uint8

// The reasons a connection ends.
const (
	ReasonNone             CloseReason = iota
	ReasonPeerClose                    // peer sent a close frame
	ReasonPeerGone                     // EOF or reset without a close frame
	ReasonProtocol                     // peer broke the protocol
	ReasonTooBig                       // message over MaxMessage
	ReasonSlowConsumer                 // outbound queue over MaxOutbound
	ReasonIdle                         // silent past IdleTimeout
	ReasonHandshakeTimeout             // no complete upgrade in HandshakeTimeout
	ReasonRejected                     // upgrade refused with an HTTP error
	ReasonDrain                        // server shutting down
	ReasonApp                          // a Handler closed it
	ReasonCloseTimeout                 // peer never answered our close frame
	ReasonShutdown                     // engine stopped
	ReasonMessageTimeout               // a message not complete within MessageTimeout
	ReasonSlowTimeout                  // outbound queue at MaxOutbound for SlowTimeout
	ReasonOverBudget                   // among the largest holders when over MaxBuffered
)

// String returns the reason in snake case, as logs and metrics name it.
func (r CloseReason) String() string {
	switch r {
	case ReasonPeerClose:
		return "peer_close"
	case ReasonPeerGone:
		return "peer_gone"
	case ReasonProtocol:
		return "protocol_error"
	case ReasonTooBig:
		return "message_too_big"
	case ReasonSlowConsumer:
		return "slow_consumer"
	case ReasonIdle:
		return "idle_timeout"
	case ReasonHandshakeTimeout:
		return "handshake_timeout"
	case ReasonRejected:
		return "rejected"
	case ReasonDrain:
		return "drain"
	case ReasonApp:
		return "app_close"
	case ReasonCloseTimeout:
		return "close_timeout"
	case ReasonShutdown:
		return "shutdown"
	case ReasonMessageTimeout:
		return "message_timeout"
	case ReasonSlowTimeout:
		return "slow_timeout"
	case ReasonOverBudget:
		return "over_budget"
	}
	return "none"
}

// CloseInfo is how an upgraded connection ended, as Handler.OnClose sees it.
type CloseInfo struct {
	// Reason is why the connection ended.
	Reason CloseReason
	// Code is the close code that was sent or received (0 when no close
	// frame carried one, as when the peer vanished).
	Code ws.StatusCode
	// Err is the error gnet reported when the socket closed (nil for an
	// orderly close).
	Err error
}
