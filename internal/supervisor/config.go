package supervisor

import (
	"fmt"
	"io"
	"time"

	"github.com/myriadws/myriad/internal/broker"
)

// Defaults of the zero Config.
const (
	DefaultAddr = ":8080"
	// DefaultRestartMin and DefaultRestartMax bound the backoff between a
	// worker's death and its next start.
	DefaultRestartMin = 100 * time.Millisecond
	DefaultRestartMax = 10 * time.Second
	// DefaultCrashWindow and DefaultMaxCrashes: more than 5 deaths of one
	// worker within a minute is a crash loop, not bad luck.
	DefaultCrashWindow = time.Minute
	DefaultMaxCrashes  = 5
	// DefaultDrainTimeout matches the server's drain timeout; the margin
	// covers the workers' close handshakes and exit after it.
	DefaultDrainTimeout = 30 * time.Second
	// DefaultReadyTimeout is Replace's bound on a new worker's start.
	DefaultReadyTimeout = 30 * time.Second
	DefaultDrainMargin  = 5 * time.Second
)

// Config configures a Supervisor. Its zero value runs one worker per CPU
// of the running executable on :8080 with the defaults above; the command
// sets Command (or leaves it to the executable) and Args.
type Config struct {
	// Workers is the number of worker processes; 0 derives it from
	// MaxConns and the descriptor limit (see WorkerCount).
	Workers int
	// MaxConns is the connection target over all workers; each worker is
	// told its share. 0 means no target.
	MaxConns int
	// NoFile is a worker's descriptor limit; 0 means this process's
	// RLIMIT_NOFILE (the Go runtime has already raised it to the hard
	// limit, and workers, also Go, do the same).
	NoFile uint64
	// Headroom is the descriptors a worker keeps for itself; 0 means
	// DefaultHeadroom.
	Headroom int
	// Addr and APIAddr are the addresses every worker listens on. A ":0"
	// port is resolved once and kept for the supervisor's life. An empty
	// APIAddr means the workers run no API listener.
	Addr    string
	APIAddr string
	// Command is the worker executable and Args its arguments (without
	// the program name); empty Command means Executable.
	Command string
	Args    []string
	// Env is added to the inherited environment of every worker, before
	// the WorkerEnv entries, which win.
	Env []string
	// Stdout and Stderr receive the workers' output; nil discards it.
	Stdout, Stderr io.Writer
	// Broker configures the embedded NATS server.
	Broker broker.ServerConfig
	// RestartMin and RestartMax bound the exponential restart backoff.
	RestartMin, RestartMax time.Duration
	// ReadyTimeout bounds the wait for a new worker to report that it
	// listens; 0 means DefaultReadyTimeout. A worker that does not is
	// killed, and counts as a death.
	ReadyTimeout time.Duration
	// Steer says the workers speak the steering protocol: a replacement
	// attaches the program it is given in EnvSteer before it reports
	// ready, a replaced worker is sent SignalRetire instead of SIGTERM, and
	// every worker handles SignalUnsteer. Replace then moves each slot to
	// its new worker without the old one getting a new connection. False
	// (the zero value) replaces by SIGTERM alone: the old worker keeps its
	// share of new connections while it drains.
	Steer bool
	// CrashWindow and MaxCrashes define a crash loop: more than MaxCrashes
	// deaths of one worker within CrashWindow.
	CrashWindow time.Duration
	MaxCrashes  int
	// DrainTimeout is the workers' own drain timeout, and DrainMargin what
	// Stop waits on top of it before it kills the workers still alive.
	DrainTimeout time.Duration
	DrainMargin  time.Duration

	// closeSpan replaces the layout's closeSpan when set: tests that kill a
	// worker right after the start shorten it.
	closeSpan time.Duration
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Headroom == 0 {
		c.Headroom = DefaultHeadroom
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	if c.RestartMin == 0 {
		c.RestartMin = DefaultRestartMin
	}
	if c.RestartMax == 0 {
		c.RestartMax = max(DefaultRestartMax, c.RestartMin)
	}
	if c.CrashWindow == 0 {
		c.CrashWindow = DefaultCrashWindow
	}
	if c.MaxCrashes == 0 {
		c.MaxCrashes = DefaultMaxCrashes
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.DrainMargin == 0 {
		c.DrainMargin = DefaultDrainMargin
	}
	return c
}

// Validate reports a configuration Start would refuse.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Workers < 0 || c.Workers > MaxWorkers:
		return fmt.Errorf("%w: workers %d not in 0..%d", ErrConfig, c.Workers, MaxWorkers)
	case c.MaxConns < 0:
		return fmt.Errorf("%w: negative MaxConns", ErrConfig)
	case c.Headroom < 0:
		return fmt.Errorf("%w: negative Headroom", ErrConfig)
	case c.RestartMin < 0 || c.RestartMax < c.RestartMin:
		return fmt.Errorf("%w: restart backoff %v..%v", ErrConfig, c.RestartMin, c.RestartMax)
	case c.CrashWindow < 0 || c.MaxCrashes < 0:
		return fmt.Errorf("%w: negative crash window or count", ErrConfig)
	case c.DrainTimeout < 0 || c.DrainMargin < 0:
		return fmt.Errorf("%w: negative drain timeout", ErrConfig)
	}
	return c.Broker.Validate()
}
