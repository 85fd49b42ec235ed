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
	// ErrConfig is wrapped by Validate errors.
	ErrConfig = errors.New("broker: invalid config")
)
