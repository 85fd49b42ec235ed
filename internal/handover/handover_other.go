//go:build !linux

package handover

// Listeners returns ErrUnsupported off Linux.
func Listeners(port int) ([]int, error) { return nil, ErrUnsupported }

// Queued returns ErrUnsupported off Linux.
func Queued(fd int) (int, error) { return 0, ErrUnsupported }

// Steer returns ErrUnsupported off Linux.
func Steer(fd, first, count int) error { return ErrUnsupported }

// SteerAround returns ErrUnsupported off Linux.
func SteerAround(fd, skipFirst, skip, total int) error { return ErrUnsupported }

// Unsteer returns ErrUnsupported off Linux.
func Unsteer(fd int) error { return ErrUnsupported }
