package server

// closeReason records why a connection ended, for counters and for the one
// log line a connection may get when it closes.
type closeReason uint8

const (
	reasonNone             closeReason = iota
	reasonPeerClose                    // peer sent a close frame
	reasonPeerGone                     // EOF or reset without a close frame
	reasonProtocol                     // peer broke the protocol
	reasonTooBig                       // message over MaxMessage
	reasonSlowConsumer                 // outbound queue over MaxOutbound
	reasonIdle                         // silent past IdleTimeout
	reasonHandshakeTimeout             // no complete upgrade in HandshakeTimeout
	reasonRejected                     // upgrade refused with an HTTP error
	reasonDrain                        // server shutting down
	reasonApp                          // a Handler closed it
	reasonCloseTimeout                 // peer never answered our close frame
	reasonShutdown                     // engine stopped
)

func (r closeReason) String() string {
	switch r {
	case reasonPeerClose:
		return "peer_close"
	case reasonPeerGone:
		return "peer_gone"
	case reasonProtocol:
		return "protocol_error"
	case reasonTooBig:
		return "message_too_big"
	case reasonSlowConsumer:
		return "slow_consumer"
	case reasonIdle:
		return "idle_timeout"
	case reasonHandshakeTimeout:
		return "handshake_timeout"
	case reasonRejected:
		return "rejected"
	case reasonDrain:
		return "drain"
	case reasonApp:
		return "app_close"
	case reasonCloseTimeout:
		return "close_timeout"
	case reasonShutdown:
		return "shutdown"
	}
	return "none"
}
