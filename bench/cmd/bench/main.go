// Command bench is the side-by-side benchmark of issue 14: it builds
// myriad, myriad-loadgen and the Go peers (nbio, gws, gorilla), measures
// each with the same load generator in interleaved rounds on fresh
// processes, and prints a table of medians, spread and ratios against
// myriad. From the module root:
//
//	go run ./bench/cmd/bench            # full size: 19,000 conns, 3 rounds (make bench)
//	go run ./bench/cmd/bench --quick    # smoke run: 500 conns, 1 round
//
// It is meant for a quiet machine: on a shared one the figures are noise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/myriadws/myriad/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its outputs passed in. It returns 0 when the table was
// printed, 1 when the harness failed, 2 on bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	log := zap.New(zapcore.NewCore(
		zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.AddSync(stderr), zap.InfoLevel))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.Run(ctx, cfg, log)
	if res != nil {
		_ = res.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (bench.Config, error) {
	var (
		cfg     bench.Config
		quick   bool
		servers string
	)
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&quick, "quick", false, "smoke run: 500 conns, 1 round, short durations (other flags still apply)")
	fs.IntVar(&cfg.Rounds, "rounds", 0, "rounds of each kind of run (default 3)")
	fs.IntVar(&cfg.Conns, "conns", 0, "idle connections and broadcast subscribers (default 19000)")
	fs.IntVar(&cfg.DialWorkers, "dial-workers", 0, "concurrent dials of the load generator (default 64)")
	fs.DurationVar(&cfg.Settle, "settle", 0, "wait after the last upgrade before reading RSS and publishing (default 2s)")
	fs.StringVar(&cfg.Sources, "source", "", "load generator source addresses (default 127.0.0.2-127.0.0.20)")
	fs.IntVar(&cfg.EchoConns, "echo-conns", 0, "echo connections (default 200)")
	fs.IntVar(&cfg.EchoInFlight, "echo-in-flight", 0, "echo messages each connection keeps outstanding, closed loop (default 1)")
	fs.DurationVar(&cfg.EchoDuration, "echo-duration", 0, "echo sending time (default 5s)")
	fs.Float64Var(&cfg.PubRate, "pub-rate", 0, "broadcast messages per second (default 4)")
	fs.DurationVar(&cfg.PubDuration, "pub-duration", 0, "broadcast publishing time (default 5s)")
	fs.StringVar(&servers, "servers", "", "comma-separated servers to measure, myriad included (default myriad,nbio,gws,gorilla)")
	fs.StringVar(&cfg.WorkDir, "work-dir", "", "keep binaries, server logs and load generator reports here (default: a temporary directory, removed)")
	if err := fs.Parse(args); err != nil {
		return bench.Config{}, err
	}
	if fs.NArg() > 0 {
		return bench.Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if quick {
		cfg = overlay(bench.Quick(), cfg)
	}
	if servers != "" {
		cfg.Servers = strings.Split(servers, ",")
	}
	return cfg, cfg.Validate()
}

// overlay returns base with every field set in over (non-zero) replacing
// base's.
func overlay(base, over bench.Config) bench.Config {
	set := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	set(&base.Rounds, over.Rounds)
	set(&base.Conns, over.Conns)
	set(&base.DialWorkers, over.DialWorkers)
	set(&base.EchoConns, over.EchoConns)
	if over.Settle != 0 {
		base.Settle = over.Settle
	}
	if over.Sources != "" {
		base.Sources = over.Sources
	}
	set(&base.EchoInFlight, over.EchoInFlight)
	if over.EchoDuration != 0 {
		base.EchoDuration = over.EchoDuration
	}
	if over.PubRate != 0 {
		base.PubRate = over.PubRate
	}
	if over.PubDuration != 0 {
		base.PubDuration = over.PubDuration
	}
	base.WorkDir = over.WorkDir
	return base
}
