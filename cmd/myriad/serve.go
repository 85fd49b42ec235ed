package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/myriadws/myriad/internal/supervisor"
	"github.com/myriadws/myriad/server"
)

// options are the command line of the server.
type options struct {
	cfg       server.Config
	gw        gatewayOptions
	cl        clusterOptions
	hist      historyOptions
	memory    time.Duration // --memory-release
	multicore bool
	logLevel  string
	logFormat string
	version   bool
	demo      bool          // --demo
	pprof     bool          // --pprof: net/http/pprof on the API listener
	pidFile   string        // --pid-file: written once serving, by each process of a restart chain
	restartTO time.Duration // --restart-timeout: for a restart's new process to become ready
	restart   *restartEnv   // set when a restart started this process
}

// newFlagSet declares every server flag on a fresh FlagSet bound to o.
func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("myriad", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &o.cfg
	c.MaxMessage = server.DefaultMaxMessage
	c.MaxHeaderBytes = server.DefaultMaxHeaderBytes
	c.MaxOutbound = server.DefaultMaxOutbound
	c.ReadBufferSize = server.DefaultReadBufferSize
	c.CompressionMinSize = server.DefaultCompressionMinSize

	fs.StringVar(&c.Addr, "addr", server.DefaultAddr, "WebSocket listen address")
	fs.BoolVar(&o.multicore, "multicore", true, "one event loop per CPU (false: a single loop)")
	fs.IntVar(&c.Loops, "loops", 0, "number of event loops (0: one per CPU when --multicore)")
	fs.IntVar(&c.MaxConns, "max-conns", 0, "maximum open connections (0: descriptor limit minus headroom, -1: no limit); more are answered 503 at accept")
	fs.Var(byteSize{p64: &c.MaxMessage}, "max-message", "largest message payload (e.g. 1MiB); larger closes with 1009")
	fs.Var(byteSize{p: &c.MaxHeaderBytes}, "max-header-bytes", "largest upgrade request head; larger gets 431")
	fs.DurationVar(&c.HandshakeTimeout, "handshake-timeout", server.DefaultHandshakeTimeout, "time allowed from accept to a complete upgrade request")
	fs.DurationVar(&c.PingInterval, "ping-interval", server.DefaultPingInterval, "ping a connection silent this long (negative: never)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", server.DefaultIdleTimeout, "close a connection silent this long (negative: never)")
	fs.DurationVar(&c.CloseTimeout, "close-timeout", server.DefaultCloseTimeout, "wait this long for the peer's close frame")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", server.DefaultDrainTimeout, "on SIGINT/SIGTERM, and after a SIGHUP restart, spread Close 1001 over this long and wait")
	fs.StringVar(&o.pidFile, "pid-file", "", "write the process id here once serving; a SIGHUP restart's new process rewrites it (see myriad restart)")
	fs.DurationVar(&o.restartTO, "restart-timeout", defaultRestartTimeout, "on SIGHUP, how long the new process may take to listen before the restart is abandoned")
	fs.Var(byteSize{p: &c.MaxOutbound}, "max-outbound", "memory a connection's outbound queue may cost (each frame rounded up to a power of two, plus 32 bytes) before it is closed as a slow consumer")
	fs.Var(byteSize{p: &c.ReadBufferSize}, "read-buffer", "read buffer per event loop (shared by its connections)")
	fs.Var(byteSize{p: &c.SocketRecvBuffer}, "socket-rcvbuf", "SO_RCVBUF for accepted sockets (0: kernel autotuning)")
	fs.Var(byteSize{p: &c.SocketSendBuffer}, "socket-sndbuf", "SO_SNDBUF for accepted sockets (0: kernel autotuning)")
	fs.BoolVar(&c.Compression, "compression", false, "permessage-deflate (RFC 7692) for clients that offer it")
	fs.IntVar(&c.CompressionLevel, "compression-level", server.DefaultCompressionLevel, "deflate level of outgoing messages: 1 (fastest) to 9, -1 flate's default, -2 Huffman only")
	fs.Var(byteSize{p: &c.CompressionMinSize}, "compression-min-size", "smallest outgoing message sent compressed")
	fs.Var(stringList{p: &c.Subprotocols}, "subprotocols", "comma-separated Sec-WebSocket-Protocol values, in order of preference")
	fs.Var(stringList{p: &c.AllowedOrigins}, "allowed-origins", "comma-separated Origin allow-list (scheme://host[:port], * wildcards); empty allows all; others get 403")
	fs.DurationVar(&o.memory, "memory-release", defaultMemoryRelease, "return freed memory to the OS after accepts pause this long following a burst (negative: never)")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "json", "json or console")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.demo, "demo", true, "serve a chat demo page at "+demoPath+" on the WebSocket port (false: none)")
	fs.BoolVar(&o.pprof, "pprof", false, "serve net/http/pprof under /debug/pprof/ on the API listener (behind --api-key when set)")
	addGatewayFlags(fs, &o.gw)
	addClusterFlags(fs, &o.cl)
	addHistoryFlags(fs, &o.hist)
	addLimitFlags(fs, c)
	return fs
}

// parseOptions reads MYRIAD_* variables, then the command line over them.
func parseOptions(args []string, env func(string) (string, bool), stderr io.Writer) (*options, error) {
	o := &options{}
	fs := newFlagSet(o, stderr)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "MYRIAD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := env(name); ok && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("invalid value %q for %s (--%s): %s", v, name, f.Name, explainValue(f, err))
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	// Parse quietly: a mistake gets one line, not the whole usage text.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: myriad [flags] | myriad tune [flags] | myriad restart --pid-file PATH | myriad version\n\nEvery flag can also be set as MYRIAD_<NAME> (for example MYRIAD_MAX_CONNS).")
			fs.PrintDefaults()
			return nil, flag.ErrHelp
		}
		return nil, fmt.Errorf("%v (see myriad -h)", explainParseError(fs, err))
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only; see myriad -h)", fs.Arg(0))
	}
	if err := checkAddr("--addr", o.cfg.Addr); err != nil {
		return nil, err
	}
	if o.gw.apiAddr != "" {
		if err := checkAddr("--api-addr", o.gw.apiAddr); err != nil {
			return nil, err
		}
	}
	if err := o.hist.validate(); err != nil {
		return nil, err
	}
	if o.restartTO <= 0 {
		return nil, fmt.Errorf("invalid --restart-timeout %v: want a positive duration", o.restartTO)
	}
	if !o.multicore && o.cfg.Loops == 0 {
		o.cfg.Loops = 1
	}
	if o.logFormat != "json" && o.logFormat != "console" {
		return nil, fmt.Errorf("invalid --log-format %q: want json or console", o.logFormat)
	}
	if _, err := zapcore.ParseLevel(o.logLevel); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", o.logLevel)
	}
	return o, nil
}

func newLogger(o *options, stderr io.Writer) *zap.Logger {
	lvl, _ := zapcore.ParseLevel(o.logLevel)
	ec := zap.NewProductionEncoderConfig()
	ec.EncodeTime = zapcore.ISO8601TimeEncoder
	ec.EncodeDuration = zapcore.StringDurationEncoder // "30s", not 30
	var enc zapcore.Encoder
	if o.logFormat == "console" {
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	} else {
		enc = zapcore.NewJSONEncoder(ec)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(stderr)), lvl))
}

// serve runs the server until a signal drains it. The first signal starts
// a graceful drain; a second one exits at once.
func serve(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	o, worker, code := prepareOptions(args, env, stdout, stderr)
	if o == nil {
		return code
	}
	gw, code := buildApp(o, stderr)
	if gw == nil {
		return code
	}
	log := newLogger(o, stderr)
	defer func() { _ = log.Sync() }()
	o.cfg.Logger = log
	if o.cl.workers != noWorkers {
		return runSupervisor(ctx, o, args, stdout, stderr, sigs, log)
	}
	if worker != nil {
		log = log.With(zap.Int("worker", worker.Index))
		o.cfg.Logger = log
	}
	hup, stopHUP := hangups(worker)
	defer stopHUP()
	steerSigs, stopSteer := workerSignals(worker)
	defer stopSteer()
	hostChecks(log, o.cfg)
	n, code := startNode(o, gw, stderr, log)
	// Cleanups run last first: the API and the broker outlive the server,
	// so a drain still takes publishes.
	defer n.close()
	if n.srv == nil {
		return code
	}
	return n.run(ctx, o, args, stdout, stderr, sigs, hup, steerSigs)
}

// prepareOptions reads the worker environment, flags and MYRIAD_*
// variables and checks them. It returns nil options and the exit code
// when the command ends here (help, version, a mistake).
func prepareOptions(args []string, env func(string) (string, bool), stdout, stderr io.Writer) (*options, *supervisor.WorkerEnv, int) {
	worker, err := workerEnv(env)
	if err != nil {
		fmt.Fprintf(stderr, "myriad: %v\n", err)
		return nil, nil, 2
	}
	o, err := parseOptions(args, env, stderr)
	if err == nil && worker != nil {
		o.applyWorker(worker)
	}
	if err == nil {
		if o.restart, err = readRestartEnv(env); o.restart != nil {
			o.restart.apply(o)
		}
	}
	if err == nil {
		err = o.validateCluster()
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, nil, 0
	case err != nil:
		fmt.Fprintf(stderr, "myriad: %v\n", err)
		return nil, nil, 2
	}
	if o.version {
		fmt.Fprintln(stdout, versionString())
		return nil, nil, 0
	}
	if err := o.cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "myriad: invalid configuration: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return nil, nil, 2
	}
	return o, worker, 0
}

// waitAndDrain waits for the server to stop, for a signal, for a
// restart's handover or for the broker connection to be closed for good,
// then drains it; a second signal exits at once. It returns the exit
// code: 0 after a drain, except one for a lost broker, which is 1 so that
// a supervisor starts a fresh process with a fresh connection.
func waitAndDrain(ctx context.Context, srv *server.Server, serveErr <-chan error, sigs <-chan os.Signal, handedOver <-chan struct{}, lost brokerLost, log *zap.Logger, drainTimeout time.Duration) int {
	code := 0
	select {
	case err := <-serveErr:
		if err != nil {
			log.Error("server stopped", zap.Error(err))
			return 1
		}
		return 0
	case sig := <-sigs:
		log.Info("signal received, draining; send it again to exit at once", zap.Stringer("signal", sig))
	case <-handedOver:
	case <-ctx.Done():
	case <-lost.closed:
		log.Error("broker connection closed for good: draining, then exiting 1 so that a fresh process reconnects (--broker-closed=stay keeps serving)",
			zap.NamedError("reason", lost.reason()))
		code = 1
	}

	drained := make(chan server.DrainReport, 1)
	go func() {
		rep, _ := srv.Drain(context.Background())
		drained <- rep
	}()
	select {
	case rep := <-drained:
		<-serveErr
		if rep.Left > 0 {
			log.Warn("drain timeout: connections closed without a close handshake", zap.Int64("connections", rep.Left))
		}
		log.Info("stopped")
		return code
	case sig := <-sigs:
		log.Warn("second signal: forced exit before the drain finished", zap.Stringer("signal", sig),
			zap.Int64("connections_open", srv.Stats().Open))
		return 1
	case <-time.After(drainTimeout + 15*time.Second):
		log.Error("drain did not finish; exiting")
		return 1
	}
}

// buildVersion, when set at link time with
// -ldflags "-X main.buildVersion=v1.2.3", is the version the binary
// reports. It is the one package variable here: the linker is its only
// writer.
var buildVersion string

// versionString reports the version the binary was built as: the
// link-time buildVersion, else the module version the go command stamped
// (a tag, or a pseudo-version from the VCS state), and the VCS revision.
func versionString() string {
	v, rev := buildVersion, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return "myriad " + v + rev + " " + runtime.Version()
}
