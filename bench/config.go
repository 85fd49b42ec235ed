package bench

import (
	"errors"
	"fmt"
	"time"
)

// Server names, in the order of the table's columns. myriad is the
// reference every ratio is taken against.
const (
	ServerMyriad  = "myriad"
	ServerNbio    = "nbio"
	ServerGws     = "gws"
	ServerGorilla = "gorilla"
)

// AllServers is every server the harness knows, myriad first.
func AllServers() []string {
	return []string{ServerMyriad, ServerNbio, ServerGws, ServerGorilla}
}

// Config says what to measure. Its zero value is the full-size run of
// issue 14; Quick gives the smoke run.
type Config struct {
	// Root is the module's directory, where `go build` runs; empty: found
	// with `go list -m`.
	Root string
	// WorkDir receives the binaries, the servers' logs and the load
	// generator's JSON reports; empty: a temporary directory, removed
	// afterwards.
	WorkDir string
	// Servers to measure, in column order; empty: AllServers. myriad must
	// be among them, as the ratios are against it.
	Servers []string
	Rounds  int // default 3

	Conns       int           // idle and broadcast connections; default 19,000
	DialWorkers int           // concurrent dials; default 64
	Settle      time.Duration // wait after the last upgrade before reading RSS (and publishing); default 2s
	Hold        time.Duration // idle: how long connections are held after Settle; default 1s
	Sources     string        // load generator source addresses; default 127.0.0.2-127.0.0.20

	EchoConns    int           // default 200
	EchoInFlight int           // messages each echo connection keeps outstanding (closed loop); default 1
	EchoSize     int           // echo payload bytes; default 64
	EchoDuration time.Duration // default 5s

	PubRate      float64       // broadcast messages per second; default 4
	PubSize      int           // broadcast data bytes; default 64
	PubDuration  time.Duration // default 5s
	CloseTimeout time.Duration // load generator's wait for stragglers and close replies; default 3s

	// Go is the go command that builds the binaries; default "go".
	Go string
}

// Quick returns the smoke run: every server, every row, one round, 500
// connections and short durations. It proves the harness works end to
// end; its figures mean little.
func Quick() Config {
	return Config{
		Rounds:       1,
		Conns:        500,
		Settle:       300 * time.Millisecond,
		Hold:         100 * time.Millisecond,
		EchoConns:    50,
		EchoInFlight: 1,
		EchoDuration: 700 * time.Millisecond,
		PubRate:      10,
		PubDuration:  500 * time.Millisecond,
		CloseTimeout: time.Second,
	}
}

// ErrNoMyriad is returned by Validate when myriad is not measured: every
// ratio is against it.
var ErrNoMyriad = errors.New("myriad must be among the servers")

// withDefaults fills in every zero field.
func (c Config) withDefaults() Config {
	if len(c.Servers) == 0 {
		c.Servers = AllServers()
	}
	setDefault(&c.Rounds, 3)
	setDefault(&c.Conns, 19_000)
	setDefault(&c.DialWorkers, 64)
	setDefault(&c.Settle, 2*time.Second)
	setDefault(&c.Hold, time.Second)
	setDefault(&c.Sources, "127.0.0.2-127.0.0.20")
	setDefault(&c.EchoConns, 200)
	setDefault(&c.EchoInFlight, 1)
	setDefault(&c.EchoSize, 64)
	setDefault(&c.EchoDuration, 5*time.Second)
	setDefault(&c.PubRate, 4)
	setDefault(&c.PubSize, 64)
	setDefault(&c.PubDuration, 5*time.Second)
	setDefault(&c.CloseTimeout, 3*time.Second)
	setDefault(&c.Go, "go")
	return c
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Validate reports a configuration that cannot be run. It checks the
// configuration with defaults applied. It may be called from any
// goroutine.
func (c Config) Validate() error {
	c = c.withDefaults()
	known := map[string]bool{}
	for _, s := range AllServers() {
		known[s] = true
	}
	seen := map[string]bool{}
	for _, s := range c.Servers {
		if !known[s] {
			return fmt.Errorf("unknown server %q (want %v)", s, AllServers())
		}
		if seen[s] {
			return fmt.Errorf("server %q named twice", s)
		}
		seen[s] = true
	}
	if !seen[ServerMyriad] {
		return ErrNoMyriad
	}
	switch {
	case c.Rounds < 1:
		return errors.New("rounds must be at least 1")
	case c.Conns <= c.DialWorkers:
		return fmt.Errorf("conns (%d) must exceed dial workers (%d) for the upgrade rate to mean anything", c.Conns, c.DialWorkers)
	case c.DialWorkers < 1, c.EchoConns < 1:
		return errors.New("dial workers and echo conns must be positive")
	case c.EchoInFlight < 1, c.EchoInFlight > 1024:
		return errors.New("echo in-flight depth must be between 1 and 1024")
	case c.PubRate <= 0:
		return errors.New("the publish rate must be positive")
	case c.EchoSize < 16:
		return errors.New("echo size must be at least 16 bytes (the load generator's sequence number and send time)")
	case c.Settle < 0, c.Hold < 0, c.EchoDuration < 0, c.PubDuration < 0, c.CloseTimeout < 0:
		return errors.New("durations must not be negative")
	}
	return nil
}
