package broker

import (
	"fmt"
	"net"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// Defaults of the zero ServerConfig.
const (
	DefaultServerHost   = "127.0.0.1"
	DefaultReadyTimeout = 10 * time.Second
	// DefaultMaxPayload leaves room for a gateway message of the server's
	// default 1 MiB bound plus its headers; nats-server's own default
	// (1 MiB including headers) would refuse the largest messages.
	DefaultMaxPayload = 4 << 20
)

// ServerConfig configures the embedded nats-server. Its zero value runs a
// server on a random loopback port without JetStream.
//
// nats-server has no Unix-socket client listener, so workers on a host
// reach it over loopback TCP.
type ServerConfig struct {
	// Host is the interface to listen on; empty means 127.0.0.1. Binding
	// anything but loopback exposes the broker without authentication.
	Host string
	// Port is the client port; 0 picks a free one (see Server.URL).
	Port int
	// Name is the server's name in logs and monitoring; empty lets
	// nats-server choose.
	Name string
	// JetStream enables JetStream with its files under StoreDir, for topic
	// history. StoreDir is required when JetStream is on.
	JetStream bool
	StoreDir  string
	// MaxPayload bounds one message, headers included; 0 means
	// DefaultMaxPayload.
	MaxPayload int32
	// ReadyTimeout bounds StartServer's wait for the listener; 0 means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

func (c ServerConfig) withDefaults() ServerConfig {
	if c.Host == "" {
		c.Host = DefaultServerHost
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	return c
}

// Validate reports a configuration StartServer would refuse.
func (c ServerConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("%w: port %d out of range", ErrConfig, c.Port)
	case c.JetStream && c.StoreDir == "":
		return fmt.Errorf("%w: JetStream needs a StoreDir", ErrConfig)
	case c.MaxPayload < 0:
		return fmt.Errorf("%w: negative MaxPayload", ErrConfig)
	case c.ReadyTimeout < 0:
		return fmt.Errorf("%w: negative ReadyTimeout", ErrConfig)
	}
	return nil
}

// Server is a running embedded nats-server.
type Server struct {
	ns   *natsserver.Server
	url  string
	port int
}

// StartServer starts an embedded nats-server and waits until it accepts
// client connections. It does not install signal handlers: the process's
// signals belong to its command.
func StartServer(cfg ServerConfig, log *zap.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	port := cfg.Port
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	opts := &natsserver.Options{
		ServerName: cfg.Name,
		Host:       cfg.Host,
		Port:       port,
		HTTPPort:   0,
		NoSigs:     true,
		MaxPayload: cfg.MaxPayload,
		JetStream:  cfg.JetStream,
		StoreDir:   cfg.StoreDir,
	}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("broker: embedded server: %w", err)
	}
	ns.SetLoggerV2(natsLogger{log.Named("nats")}, false, false, false)
	go ns.Start()
	if !ns.ReadyForConnections(cfg.ReadyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, ErrNotReady
	}
	tcp, ok := ns.Addr().(*net.TCPAddr)
	if !ok {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, ErrNotReady
	}
	url := "nats://" + net.JoinHostPort(cfg.Host, strconv.Itoa(tcp.Port))
	return &Server{ns: ns, url: url, port: tcp.Port}, nil
}

// URL is the client URL ("nats://127.0.0.1:port"), with the port chosen.
// Any goroutine may call it.
func (s *Server) URL() string { return s.url }

// Port is the client port the server listens on. Any goroutine may call it.
func (s *Server) Port() int { return s.port }

// NumSubscriptions is the number of subscriptions the server holds over
// all clients, for tests and monitoring. Any goroutine may call it.
func (s *Server) NumSubscriptions() uint32 { return s.ns.NumSubscriptions() }

// JetStreamEnabled reports whether JetStream runs. Any goroutine may call
// it.
func (s *Server) JetStreamEnabled() bool { return s.ns.JetStreamEnabled() }

// Shutdown closes every client connection and the listener and waits until
// the server has stopped. It is idempotent; any goroutine may call it.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
