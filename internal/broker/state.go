package broker

// State is a client's connection state as /stats and /readyz show it.
type State uint32

// States of a Client. A Client starts Connecting, is Connected while it has
// a working connection to a broker, Reconnecting from the loss of that
// connection until the next one (for as long as network trouble lasts: the
// client never gives up on it), and Closed after Close, or once nats.go has
// closed the connection for good after an error it takes as final (see
// Interest). Closed is final.
const (
	StateConnecting State = iota
	StateConnected
	StateReconnecting
	StateClosed
)

// String names the state for logs and JSON.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateReconnecting:
		return "reconnecting"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}
