package handover

import "errors"

// Sentinel errors of the package.
var (
	// ErrRange is returned by Steer and SteerAround for a range that selects
	// no listener.
	ErrRange = errors.New("handover: empty or negative listener range")
	// ErrUnsupported is returned on systems other than Linux, which have
	// neither SO_REUSEPORT groups with BPF selection nor /proc/self/fd.
	ErrUnsupported = errors.New("handover: needs Linux")
)
