package server

import (
	"compress/flate"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Defaults for the zero Config. They favour many mostly idle connections:
// a ping every 30 s keeps NAT and load-balancer mappings alive (most drop
// idle flows after 60 s or more), and the idle timeout allows two missed
// pings plus a round trip before a silent peer is dropped.
const (
	DefaultAddr             = ":8080"
	DefaultMaxMessage       = 1 << 20
	DefaultMaxHeaderBytes   = 8 << 10
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultPingInterval     = 30 * time.Second
	DefaultIdleTimeout      = 75 * time.Second
	DefaultCloseTimeout     = 5 * time.Second
	DefaultDrainTimeout     = 30 * time.Second
	DefaultMaxOutbound      = 4 << 20
	DefaultReadBufferSize   = 64 << 10
	DefaultMaxPosted        = 4096
	DefaultMessageTimeout   = 30 * time.Second
	DefaultSlowTimeout      = 30 * time.Second

	// DefaultCompressionLevel is flate.BestSpeed: permessage-deflate on a
	// busy server is bound by CPU, and the fastest level already removes
	// most of the redundancy of typical JSON or text messages.
	DefaultCompressionLevel = 1
	// DefaultCompressionMinSize is the smallest message sent compressed.
	// Below it the deflate block overhead and the CPU time outweigh the
	// bytes saved.
	DefaultCompressionMinSize = 128

	// maxSubprotocols keeps the negotiated subprotocol's index within a
	// uint8 in the session (0 means none).
	maxSubprotocols = 255

	// maxHeaderBytesLimit keeps the handshake scan offset within a uint16
	// in the session.
	maxHeaderBytesLimit = 64 << 10
)

// Config is the server's configuration. Every zero field takes the
// default above, and only Routes must be set: New refuses a server with
// nothing mounted (ErrNoRoutes) rather than serve a hidden echo. Durations that are negative disable the feature
// they control (PingInterval, IdleTimeout); zero means the default.
type Config struct {
	// Addr is the TCP address of the WebSocket listener.
	Addr string
	// Loops is the number of event loops; 0 means one per CPU.
	Loops int
	// MaxConns caps open TCP connections (handshaking and upgraded). A
	// connection accepted past it is answered 503 and closed at once,
	// before it sends anything, so a flood of idle connections cannot
	// use up the process's descriptors (gnet stops the engine when accept
	// fails with EMFILE). 0 derives the cap from RLIMIT_NOFILE (see
	// DefaultMaxConns); negative means no limit, which leaves the
	// descriptor limit as the only bound.
	MaxConns int
	// MaxMessage bounds a message's payload in bytes, over all its frames;
	// a larger message closes the connection with 1009.
	MaxMessage int64
	// MaxHeaderBytes bounds the upgrade request head; larger is 431.
	MaxHeaderBytes int
	// HandshakeTimeout bounds the time from accept to a complete upgrade
	// request; past it the connection gets 408 and is closed.
	HandshakeTimeout time.Duration
	// PingInterval is how long a connection may be silent before the
	// server pings it.
	PingInterval time.Duration
	// IdleTimeout closes a connection that has sent nothing for this long.
	IdleTimeout time.Duration
	// MessageTimeout bounds the time from a message's first frame header
	// to its last byte. Without it a peer could keep a message open
	// forever with empty continuation frames (or one byte now and then),
	// each of which is input and so keeps the idle timer from firing,
	// while the partial message holds its buffer. Past it the connection
	// is closed with 1008. Negative disables it.
	MessageTimeout time.Duration
	// CloseTimeout is how long the server waits for the peer's reply after
	// sending a close frame before it closes the TCP connection itself.
	CloseTimeout time.Duration
	// DrainTimeout is the time Drain spreads its close frames over and then
	// waits for the peers' replies.
	DrainTimeout time.Duration
	// MaxOutbound bounds the memory that bytes queued for one connection
	// the kernel has not taken yet cost: each queued frame costs its size
	// rounded up to a power of two plus a 32-byte list node (gnet's pooled
	// outbound buffer), so a queue of small frames holds about half of it
	// in frames. A connection past it is closed as a slow consumer.
	MaxOutbound int
	// MaxBuffered bounds the bytes buffered by the whole process: the
	// outbound queues the kernel has not taken and the messages being
	// assembled, over all connections, in real bytes as MaxOutbound
	// counts them. Each queued write is added to the total at once and
	// each loop recounts its holders every tick; a write that would take
	// the total over the bound is refused (the connection is behind: it
	// takes no more bytes, as if at MaxOutbound), and from then on each
	// loop closes its largest holders with 1013 until the total is back
	// under seven eighths of the bound. 0 means DefaultMaxBuffered();
	// negative means no bound.
	MaxBuffered int64
	// SlowTimeout closes (1008) a connection whose outbound queue has
	// stayed at MaxOutbound this long, as measured by sends that
	// SlowDrop skipped: without it a client that never reads but answers
	// pings would pin MaxOutbound bytes forever. Negative disables it.
	SlowTimeout time.Duration
	// ReadBufferSize is each event loop's read buffer (shared by all its
	// connections, not per connection).
	ReadBufferSize int
	// SocketRecvBuffer and SocketSendBuffer set SO_RCVBUF and SO_SNDBUF on
	// accepted sockets when positive; 0 leaves the kernel's autotuning on.
	SocketRecvBuffer int
	SocketSendBuffer int
	// MaxPosted bounds the functions queued on one loop by Loop.Post and
	// not yet run; a Post past it fails with ErrBusy instead of growing
	// the queue without limit.
	MaxPosted int
	// Compression enables permessage-deflate (RFC 7692) for clients that
	// offer it. The server always answers with server_no_context_takeover
	// and client_no_context_takeover, so no compression state outlives a
	// message: an idle connection costs the same with or without it. The
	// flate coders are owned by each event loop, not by connections.
	Compression bool
	// CompressionLevel is the compress/flate level of outgoing messages:
	// 1 (fastest) to 9 (smallest), -1 for flate's default, -2 for Huffman
	// coding only. 0 means DefaultCompressionLevel.
	CompressionLevel int
	// CompressionMinSize is the payload size from which outgoing messages
	// are compressed on connections that negotiated it; smaller ones go
	// out uncompressed, which RFC 7692 allows message by message. 0 means
	// DefaultCompressionMinSize.
	CompressionMinSize int
	// Subprotocols lists the Sec-WebSocket-Protocol values the server
	// speaks, in order of preference: the first entry the client also
	// offered is chosen. A client that offers none of them is still
	// upgraded, without a subprotocol (RFC 6455 §4.2.2 leaves the decision
	// to close to the client). At most 255 entries.
	Subprotocols []string
	// AllowedOrigins restricts the Origin header of upgrade requests to
	// these origins, compared case-insensitively as scheme://host[:port]
	// (a default port may be written or left out). "*" allows any origin,
	// and a host starting with "*." allows its subdomains, as in
	// "https://*.example.com". A request with a disallowed Origin gets 403.
	// Requests without an Origin header come from non-browser clients,
	// which the header cannot constrain, and are allowed. Empty allows all.
	AllowedOrigins []string
	// Routes maps request paths to applications. New needs at least one
	// (ErrNoRoutes); Echo is there for whoever wants echo. Validate checks
	// the entries only, so that flags can be validated before the
	// applications are built.
	Routes map[string]Handler
	// Pages maps request paths to static responses for plain HTTP GET and
	// HEAD (see Page), such as a demo page beside the WebSocket
	// endpoints. Optional; a path may not be both a route and a page.
	Pages map[string]Page
	// Streams maps request paths to held-open HTTP responses for plain
	// GETs (see Stream): Server-Sent Events, long polls. Optional; a path
	// is a route, a page or a stream, never two; at most 255 streams.
	Streams map[string]Stream
	// Logger receives the server's logs. Nil discards them.
	Logger *zap.Logger
	// ReusePort lets several processes (the workers of `myriad
	// --workers`, or the old and new process of a restart) listen on one
	// address, the kernel spreading new connections over them. The loops'
	// own listeners always use SO_REUSEPORT (see port.go); off, Serve
	// first checks that nothing else listens on the address and fails
	// with "address in use" if something does, so a second server started
	// by mistake does not silently take half the traffic.
	ReusePort bool
}

// ErrNoRoutes is returned by New for a Config without routes.
var ErrNoRoutes = errors.New("no routes: mount at least one Handler in Config.Routes (server.Echo{} echoes)")

// withDefaults returns a copy of c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Loops == 0 {
		c.Loops = runtime.GOMAXPROCS(0)
	}
	if c.MaxMessage == 0 {
		c.MaxMessage = DefaultMaxMessage
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.SlowTimeout == 0 {
		c.SlowTimeout = DefaultSlowTimeout
	}
	if c.MessageTimeout == 0 {
		c.MessageTimeout = DefaultMessageTimeout
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.MaxOutbound == 0 {
		c.MaxOutbound = DefaultMaxOutbound
	}
	if c.ReadBufferSize == 0 {
		c.ReadBufferSize = DefaultReadBufferSize
	}
	if c.MaxPosted == 0 {
		c.MaxPosted = DefaultMaxPosted
	}
	if c.CompressionLevel == 0 {
		c.CompressionLevel = DefaultCompressionLevel
	}
	if c.CompressionMinSize == 0 {
		c.CompressionMinSize = DefaultCompressionMinSize
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Validate reports every invalid field of c (after defaults are applied)
// in one error.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Loops < 0 || c.Loops > 256 {
		errs = append(errs, fmt.Errorf("loops must be 0 (the default: one per CPU) or between 1 and 256, got %d", c.Loops))
	}
	if c.MaxMessage < 0 {
		errs = append(errs, fmt.Errorf("max-message must be positive, got %d", c.MaxMessage))
	}
	if c.MaxHeaderBytes < 256 || c.MaxHeaderBytes > maxHeaderBytesLimit {
		errs = append(errs, fmt.Errorf("max-header-bytes must be between 256 and %d, got %d", maxHeaderBytesLimit, c.MaxHeaderBytes))
	}
	if c.HandshakeTimeout < 0 {
		errs = append(errs, fmt.Errorf("handshake-timeout must be positive, got %s", c.HandshakeTimeout))
	}
	if c.CloseTimeout < 0 {
		errs = append(errs, fmt.Errorf("close-timeout must be positive, got %s", c.CloseTimeout))
	}
	if c.DrainTimeout < 0 {
		errs = append(errs, fmt.Errorf("drain-timeout must be positive, got %s", c.DrainTimeout))
	}
	if c.PingInterval > 0 && c.IdleTimeout > 0 && c.PingInterval >= c.IdleTimeout {
		errs = append(errs, fmt.Errorf("ping-interval (%s) must be shorter than idle-timeout (%s)", c.PingInterval, c.IdleTimeout))
	}
	if c.MaxOutbound < 1024 {
		errs = append(errs, fmt.Errorf("max-outbound must be at least 1024 bytes, got %d", c.MaxOutbound))
	}
	if c.ReadBufferSize < 1024 {
		errs = append(errs, fmt.Errorf("read-buffer must be at least 1024 bytes, got %d", c.ReadBufferSize))
	}
	if c.SocketRecvBuffer < 0 || c.SocketSendBuffer < 0 {
		errs = append(errs, errors.New("socket buffer sizes must not be negative"))
	}
	if c.MaxPosted < 0 {
		errs = append(errs, fmt.Errorf("max-posted must not be negative, got %d", c.MaxPosted))
	}
	if c.CompressionLevel < flate.HuffmanOnly || c.CompressionLevel > flate.BestCompression {
		errs = append(errs, fmt.Errorf("compression-level must be between -2 and 9, got %d", c.CompressionLevel))
	}
	if c.CompressionMinSize < 0 {
		errs = append(errs, fmt.Errorf("compression-min-size must not be negative, got %d", c.CompressionMinSize))
	}
	errs = append(errs, validateSubprotocols(c.Subprotocols)...)
	for _, o := range c.AllowedOrigins {
		if _, err := parseOriginPattern(o); err != nil {
			errs = append(errs, err)
		}
	}
	if len(c.Routes) > 255 {
		errs = append(errs, fmt.Errorf("at most 255 routes, got %d", len(c.Routes)))
	}
	for path, p := range c.Pages {
		errs = append(errs, validatePage(path, p, c.Routes)...)
	}
	if len(c.Streams) > 255 {
		errs = append(errs, fmt.Errorf("at most 255 streams, got %d", len(c.Streams)))
	}
	for path, st := range c.Streams {
		errs = append(errs, validateStream(path, st, &c)...)
	}
	for path, h := range c.Routes {
		if !strings.HasPrefix(path, "/") {
			errs = append(errs, fmt.Errorf("route %q must start with /", path))
		}
		if h == nil {
			errs = append(errs, fmt.Errorf("route %q has no handler", path))
		}
	}
	return errors.Join(errs...)
}

// validateSubprotocols checks the configured subprotocols: each must be an
// RFC 6455 §4.1 token, and none may repeat.
func validateSubprotocols(list []string) []error {
	var errs []error
	if len(list) > maxSubprotocols {
		errs = append(errs, fmt.Errorf("at most %d subprotocols, got %d", maxSubprotocols, len(list)))
	}
	seen := make(map[string]bool, len(list))
	for _, p := range list {
		if !isToken([]byte(p)) {
			errs = append(errs, fmt.Errorf("subprotocol %q is not a token", p))
		}
		if seen[p] {
			errs = append(errs, fmt.Errorf("subprotocol %q listed twice", p))
		}
		seen[p] = true
	}
	return errs
}
