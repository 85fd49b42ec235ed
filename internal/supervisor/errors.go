package supervisor

import "errors"

// Sentinel errors of the package.
var (
	// ErrConfig is wrapped by Validate errors.
	ErrConfig = errors.New("supervisor: invalid config")
	// ErrCrashLoop is returned by Wait when a worker died more than
	// MaxCrashes times within CrashWindow.
	ErrCrashLoop = errors.New("supervisor: worker keeps dying")
	// ErrNoDescriptors is returned by WorkerCount when the descriptor limit
	// leaves no room for connections after the headroom.
	ErrNoDescriptors = errors.New("supervisor: descriptor limit below headroom")
	// ErrTooManyWorkers is returned by WorkerCount when the target needs
	// more than MaxWorkers processes.
	ErrTooManyWorkers = errors.New("supervisor: target needs too many workers")
	// ErrNotWorker is returned by ParseWorkerEnv when the environment does
	// not make this process a worker.
	ErrNotWorker = errors.New("supervisor: not a worker")
	// ErrReplacing is returned by Replace while another replacement runs.
	ErrReplacing = errors.New("supervisor: a replacement is already in progress")
	// ErrNotReady is wrapped by Replace when a new worker exits or stays
	// silent instead of reporting that it listens.
	ErrNotReady = errors.New("supervisor: new worker not ready")
	// ErrStopping is returned by Replace once Stop was called.
	ErrStopping = errors.New("supervisor: stopping")
)
