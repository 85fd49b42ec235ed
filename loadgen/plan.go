package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Plan is everything a run needs that is not particular to one scenario:
// what to connect to, how many connections at what pace, and the shared
// message parameters. A scenario's own parameters (broadcast's topic and
// publish API) are fields of the scenario. The zero value of every field
// except Targets and Conns selects a default; withDefaults and Validate live
// together below. A Plan is plain data so that it can be sent to worker
// processes as JSON.
type Plan struct {
	// Scenario names the scenario, for reports and worker processes.
	Scenario string `json:"scenario"`
	// Targets are ws:// URLs. Connections are spread over them round-robin.
	Targets []string `json:"targets"`
	// Conns is the number of connections: held open by idle and echo, and
	// the number kept open at steady state by churn.
	Conns int `json:"conns"`
	// Rate is new connections per second (open model: attempts start on a
	// fixed schedule whatever the server does). 0 means as fast as the dial
	// workers go.
	Rate float64 `json:"rate"`
	// Ramp raises the connect rate linearly from 0 to Rate over this time.
	Ramp time.Duration `json:"ramp"`
	// Duration is how long the scenario holds or drives its connections
	// once they are connected (churn: how long it keeps opening).
	Duration time.Duration `json:"duration"`
	// Retries is how many times a failed connection attempt is retried.
	Retries int `json:"retries"`
	// HandshakeTimeout bounds TCP connect plus WebSocket upgrade.
	HandshakeTimeout time.Duration `json:"handshake_timeout"`
	// CloseTimeout bounds the wait for the server's reply to our close
	// frame before the socket is closed anyway.
	CloseTimeout time.Duration `json:"close_timeout"`
	// Sources are local addresses to bind, round-robin, so that each
	// (source, target) pair gets its own ephemeral port range.
	Sources []netip.Addr `json:"sources,omitempty"`
	// Size is the payload size of echo messages in bytes.
	Size int `json:"size"`
	// MsgRate is messages per second per connection for echo.
	MsgRate float64 `json:"msg_rate"`
	// InFlight, when positive, makes echo a closed loop: each connection
	// keeps this many messages outstanding and sends the next when one
	// returns; MsgRate is then unused.
	InFlight int `json:"in_flight,omitempty"`
	// DialWorkers bounds the goroutines dialing concurrently.
	DialWorkers int `json:"dial_workers"`
	// Loops is the number of gnet event loops (default GOMAXPROCS).
	Loops int `json:"loops"`
	// Tick is the timing-wheel resolution: scheduled sends happen on this
	// grid and timeouts are checked this often.
	Tick time.Duration `json:"tick"`
	// Settle is how long Session.Settle waits after connecting before
	// sampling memory.
	Settle time.Duration `json:"settle"`
	// MaxMessage bounds a message received from the server.
	MaxMessage int `json:"max_message"`
	// ServerPIDs are server processes whose RSS is sampled before
	// connecting and once settled.
	ServerPIDs []int `json:"server_pids,omitempty"`

	// Worker marks a plan run by a worker process: host-wide checks (ports,
	// CPU across processes) are left to the parent.
	Worker bool `json:"worker,omitempty"`
	// IDOffset numbers this process's connections after those of the
	// workers before it, so the round-robin over targets stays global.
	IDOffset int `json:"id_offset,omitempty"`
}

// Defaults used by withDefaults.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultCloseTimeout     = 3 * time.Second
	DefaultDialWorkers      = 32
	DefaultSize             = 32
	DefaultMsgRate          = 1
	DefaultTick             = time.Millisecond
	DefaultSettle           = time.Second
	DefaultMaxMessage       = 16 << 20
	DefaultDuration         = 10 * time.Second
)

// minEchoSize is the echo payload header: sequence number and scheduled
// send time.
const minEchoSize = 16

func (p Plan) withDefaults() Plan {
	if p.HandshakeTimeout <= 0 {
		p.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if p.CloseTimeout <= 0 {
		p.CloseTimeout = DefaultCloseTimeout
	}
	if p.DialWorkers <= 0 {
		p.DialWorkers = DefaultDialWorkers
	}
	if p.Size <= 0 {
		p.Size = DefaultSize
	}
	if p.MsgRate <= 0 {
		p.MsgRate = DefaultMsgRate
	}
	if p.Loops <= 0 {
		p.Loops = runtime.GOMAXPROCS(0)
	}
	if p.Tick <= 0 {
		p.Tick = DefaultTick
	}
	if p.Settle <= 0 {
		p.Settle = DefaultSettle
	}
	if p.MaxMessage <= 0 {
		p.MaxMessage = DefaultMaxMessage
	}
	if p.Duration <= 0 {
		p.Duration = DefaultDuration
	}
	return p
}

// Validate reports the first problem that makes the plan unusable.
func (p Plan) Validate() error {
	if len(p.Targets) == 0 {
		return errors.New("no target: give --url ws://host:port/path")
	}
	for _, raw := range p.Targets {
		t, err := parseTarget(raw)
		if err != nil {
			return err
		}
		if t.sse && p.Scenario != "sse" {
			// Only the sse scenario reads event streams; anywhere else an
			// http:// URL is a mistake for ws://.
			return fmt.Errorf("target %q: scheme must be ws:// (http:// is for the sse scenario)", raw)
		}
	}
	switch {
	case p.Conns <= 0:
		return errors.New("--conns must be at least 1")
	case p.Rate < 0:
		return errors.New("--rate must not be negative")
	case p.Ramp < 0:
		return errors.New("--ramp must not be negative")
	case p.Retries < 0:
		return errors.New("--retries must not be negative")
	case p.Retries > 255:
		return errors.New("--retries must be at most 255")
	case p.Size < 0:
		return errors.New("--size must not be negative")
	case p.MsgRate < 0:
		return errors.New("--msg-rate must not be negative")
	case p.InFlight < 0 || p.InFlight > maxBurst:
		return fmt.Errorf("--in-flight must be between 0 and %d", maxBurst)
	}
	for _, a := range p.Sources {
		if !a.Is4() && !a.Is6() {
			return fmt.Errorf("source %v is not an IP address", a)
		}
	}
	return nil
}

// target is a parsed ws:// URL with its request line and Host header ready.
// An http:// URL is a Server-Sent Events stream (sse): a plain GET whose
// 200 response body is read as text/event-stream instead of frames.
type target struct {
	url  string
	addr string // host:port to dial
	host string // Host header
	path string // request target: path and query
	sse  bool
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("target %q: %w", raw, err)
	}
	sse := false
	switch u.Scheme {
	case "ws":
	case "http":
		sse = true
	case "wss", "https":
		return target{}, fmt.Errorf("target %q: %s:// is not supported; the load generator speaks plain ws:// (and http:// for SSE)", raw, u.Scheme)
	default:
		return target{}, fmt.Errorf("target %q: scheme must be ws:// (or http:// for an SSE stream)", raw)
	}
	if u.Host == "" {
		return target{}, fmt.Errorf("target %q: no host", raw)
	}
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = "80"
	}
	path := u.RequestURI()
	if path == "" {
		path = "/"
	}
	return target{url: raw, addr: net.JoinHostPort(host, port), host: u.Host, path: path, sse: sse}, nil
}

// ParseSources parses a source address list: addresses and inclusive ranges
// separated by commas, as in "127.0.0.2-127.0.0.40,127.0.1.1". Ranges stay
// within one address family and are limited to 65536 addresses.
func ParseSources(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := netip.ParseAddr(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", part, err)
		}
		if !isRange {
			out = append(out, first)
			continue
		}
		last, err := netip.ParseAddr(strings.TrimSpace(hi))
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", part, err)
		}
		if first.Is4() != last.Is4() || last.Less(first) {
			return nil, fmt.Errorf("source range %q is empty or mixes address families", part)
		}
		for a := first; ; a = a.Next() {
			out = append(out, a)
			if len(out) > 1<<16 {
				return nil, fmt.Errorf("source range %q: more than 65536 addresses", part)
			}
			if a == last {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("empty source list")
	}
	return out, nil
}
