package main

// --broker-closed values.
const (
	// brokerClosedExit drains the node and exits 1 once its broker
	// connection is closed for good, the default: a node cut off from the
	// cluster delivers only its own publishes and shows stale presence,
	// and its clients are better off on another node or on a fresh
	// process, which systemd (Restart=on-failure), Kubernetes or the
	// --workers supervisor starts.
	brokerClosedExit = "exit"
	// brokerClosedStay keeps the node serving its own clients.
	brokerClosedStay = "stay"
)

// brokerLost tells a serving cluster node that nats.go has closed its
// broker connection for good: after an error it takes as final (a server
// error it does not know, an authorization refused twice in a row) it
// never reopens the connection, unlike after network trouble, so waiting
// gains nothing. Its zero value never fires: a single node, or
// --broker-closed=stay.
//
// Only the broker state StateClosed sends on closed, never the
// transient Connecting and Reconnecting, and it sends at most once
// (Closed is final). The node's own Client.Close also reports
// StateClosed, but the node calls it only in its cleanups, after the
// serving loop (waitAndDrain) has returned and stopped receiving, and a
// close by nats.go during a drain the node already started is not
// received either: a drain for SIGTERM or a restart stays what it was.
type brokerLost struct {
	// closed receives one token once the connection is closed; nil for
	// the zero value, so a select on it waits forever.
	closed <-chan struct{}
	// reason returns why the connection closed, nats.go's last error on
	// it (nil if none was recorded). Call it only after closed fired: the
	// connection's lock is free then.
	reason func() error
}

// notifyClosed puts the one token into closed (capacity 1) without ever
// blocking the broker's callback goroutine.
func notifyClosed(closed chan<- struct{}) {
	select {
	case closed <- struct{}{}:
	default:
	}
}
