package broker

import "errors"

// Sentinel errors of the package. Errors from nats.go are wrapped, so
// errors.Is works with both these and nats.Err* values.
var (
	// ErrBadTopic is returned for an empty topic or query kind.
	ErrBadTopic = errors.New("broker: empty topic")
	// ErrBadSubject is returned by DecodeSubject for a subject that is not
	// the encoding of a topic under the prefix.
	ErrBadSubject = errors.New("broker: subject is not an encoded topic")
	// ErrNoInterest is returned by Disinterest for a topic with no
	// outstanding Interest.
	ErrNoInterest = errors.New("broker: no interest in topic")
	// ErrClosed is returned by calls on a closed Client.
	ErrClosed = errors.New("broker: client closed")
	// ErrNotReady is returned by StartServer when the embedded server does
	// not accept connections within ServerConfig.ReadyTimeout.
	ErrNotReady = errors.New("broker: embedded server not ready")
	// ErrGatherStuck is returned by a Gather whose query nats.go did not
	// take within the bound: the broker link is stuck (nats.go's writer
	// blocks on a full socket, holding the connection's lock) or very
	// slow, and no node could be asked.
	ErrGatherStuck = errors.New("broker: query not sent within the gather bound: the broker link is stuck")
	// ErrGatherBusy is returned by a Gather refused because
	// Config.MaxGathers gathers are in flight, as when a stuck broker
	// link holds earlier ones.
	ErrGatherBusy = errors.New("broker: too many gathers in flight")
	// ErrConfig is wrapped by Validate errors.
	ErrConfig = errors.New("broker: invalid config")
)
