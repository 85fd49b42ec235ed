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

	"github.com/myriadws/myriad/loadgen"
	"github.com/myriadws/myriad/tuning"
)

// workerCommand is the hidden subcommand a worker process runs under
// --procs. It is not listed in help: it speaks JSON on stdin and stdout.
const workerCommand = "__worker"

// Exit codes.
const (
	exitOK    = 0
	exitRun   = 1 // the run could not be done
	exitUsage = 2 // the command line is wrong
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main with its inputs and outputs passed in, so tests can call it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "myriad-loadgen: missing scenario")
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "merge":
		return runMerge(args[1:], stdout, stderr)
	case "plot":
		return runPlot(args[1:], stderr)
	case workerCommand:
		return runWorker(stdin, stdout, stderr)
	}
	name := args[0]
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(stderr, "myriad-loadgen: the scenario comes first, before %s; run 'myriad-loadgen help'\n", name)
		return exitUsage
	}
	sc, err := loadgen.NewScenario(name)
	if err != nil {
		fmt.Fprintf(stderr, "myriad-loadgen: %v; run 'myriad-loadgen help'\n", err)
		return exitUsage
	}
	var cfg config
	fs := newFlagSet(&cfg, io.Discard)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "myriad-loadgen: %v; run 'myriad-loadgen help'\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "myriad-loadgen: unexpected argument %q; run 'myriad-loadgen help'\n", fs.Arg(0))
		return exitUsage
	}
	cfg.configure(sc)
	plan, err := cfg.plan(name)
	if err == nil {
		err = plan.Validate()
	}
	if err == nil {
		err = cfg.autoSize(&plan, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "myriad-loadgen: %v\n", err)
		return exitUsage
	}
	if err := sc.Check(plan); err != nil {
		fmt.Fprintf(stderr, "myriad-loadgen: %v\n", err)
		return exitUsage
	}
	return execute(&cfg, plan, sc, stdout, stderr)
}

// execute runs a checked plan: host checks, progress and CSV, the run
// itself and the report.
func execute(cfg *config, plan loadgen.Plan, sc loadgen.Scenario, stdout, stderr io.Writer) int {
	log := newLogger(stderr)
	defer func() { _ = log.Sync() }()
	startLog := log
	if cfg.quiet {
		// --quiet: the start-up lines (descriptor limit, host shortfalls)
		// are shown only when they are errors.
		startLog = log.WithOptions(zap.IncreaseLevel(zapcore.ErrorLevel))
	}
	hostChecks(startLog, plan, cfg.procs)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	pr := &progressPrinter{w: stderr, quiet: cfg.quiet, tty: isTerminal(stderr)}
	if cfg.csvPath != "" {
		f, err := os.Create(cfg.csvPath)
		if err != nil {
			fmt.Fprintf(stderr, "myriad-loadgen: %v\n", err)
			return exitRun
		}
		defer f.Close()
		pr.csv = loadgen.NewSeriesWriter(f, plan.ServerPIDs)
	}
	opts := loadgen.Options{
		Logger:   log,
		Progress: pr.print,
		Warn:     pr.warn,
	}
	rep, err := runPlan(ctx, plan, sc, cfg.procs, opts, stderr)
	pr.finish()
	if err == nil {
		err = pr.csvErr
	}
	if err != nil {
		fmt.Fprintf(stderr, "myriad-loadgen: %v\n", err)
		return exitRun
	}
	return writeReport(rep, cfg.jsonPath, stdout, stderr)
}

// runPlan runs sc in this process, or over procs worker processes that
// re-execute this binary.
func runPlan(ctx context.Context, plan loadgen.Plan, sc loadgen.Scenario, procs int, opts loadgen.Options, stderr io.Writer) (*loadgen.Report, error) {
	if procs <= 1 {
		return loadgen.Run(ctx, plan, sc, opts)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding my own executable for --procs: %w", err)
	}
	return loadgen.RunProcs(ctx, plan, sc, procs, loadgen.Workers{Exe: exe, Args: []string{workerCommand}, Stderr: stderr}, opts)
}

// autoSize applies --procs auto and --sources auto to cfg and plan and
// prints what they chose.
func (cfg *config) autoSize(plan *loadgen.Plan, stderr io.Writer) error {
	if !cfg.procsAuto && !cfg.sourcesAuto {
		return nil
	}
	if cfg.sourcesAuto && len(plan.Sources) > 0 {
		return errors.New("--sources auto and --source exclude each other")
	}
	h, err := loadgen.ReadHostLimits()
	if err != nil {
		return err
	}
	sz, err := loadgen.AutoSize(*plan, h, cfg.procsAuto, cfg.sourcesAuto)
	if err != nil {
		return err
	}
	if cfg.procsAuto {
		cfg.procs = sz.Procs
	}
	if cfg.sourcesAuto {
		plan.Sources = sz.Sources
	}
	fmt.Fprintf(stderr, "auto: %s\n", sz.Why)
	return nil
}

func writeReport(rep *loadgen.Report, jsonPath string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout)
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "myriad-loadgen: %v\n", err)
		return exitRun
	}
	if jsonPath != "" {
		if err := rep.WriteFile(jsonPath); err != nil {
			fmt.Fprintf(stderr, "myriad-loadgen: writing %s: %v\n", jsonPath, err)
			return exitRun
		}
	}
	return exitOK
}

// runMerge merges JSON reports: myriad-loadgen merge a.json b.json [--json out].
func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	jsonPath := fs.String("json", "", "write the merged report as JSON to `file`")
	// Files and flags may come in any order.
	var files []string
	for rest := args; len(rest) > 0; {
		if err := fs.Parse(rest); err != nil {
			fmt.Fprintf(stderr, "myriad-loadgen merge: %v\n", err)
			return exitUsage
		}
		rest = fs.Args()
		if len(rest) > 0 {
			files = append(files, rest[0])
			rest = rest[1:]
		}
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "myriad-loadgen merge: give the JSON reports to merge")
		return exitUsage
	}
	var reps []*loadgen.Report
	for _, f := range files {
		r, err := loadgen.ReadReportFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "myriad-loadgen merge: %v\n", err)
			return exitRun
		}
		reps = append(reps, r)
	}
	return writeReport(loadgen.Merge(reps...), *jsonPath, stdout, stderr)
}

// runWorker is the hidden worker mode of --procs.
func runWorker(stdin io.Reader, stdout, stderr io.Writer) int {
	log := newLogger(stderr).With(zap.Int("worker_pid", os.Getpid()))
	defer func() { _ = log.Sync() }()
	if _, _, err := tuning.RaiseNoFileLimit(); err != nil {
		log.Warn("raising RLIMIT_NOFILE", zap.Error(err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := loadgen.ServeWorker(ctx, stdin, stdout, log); err != nil {
		log.Error("worker failed", zap.Error(err))
		return exitRun
	}
	return exitOK
}

// hostChecks raises the soft RLIMIT_NOFILE to the hard limit (every socket
// is a descriptor) and logs, once each, the host settings that cannot carry
// this process's share of the plan. It changes nothing else on the host.
func hostChecks(log *zap.Logger, plan loadgen.Plan, procs int) {
	before, after, err := tuning.RaiseNoFileLimit()
	if err != nil {
		log.Warn("raising RLIMIT_NOFILE", zap.Error(err))
	} else {
		log.Info("file descriptor limit", zap.Uint64("before", before), zap.Uint64("after", after))
	}
	perProc := plan.Conns / max(procs, 1)
	if perProc <= 0 {
		return
	}
	rep, err := tuning.StartupCheck(tuning.Target{
		Conns:        perProc,
		Role:         tuning.Loadgen,
		Sources:      max(len(plan.Sources), 1),
		Destinations: max(len(plan.Targets), 1),
	}, os.Environ())
	if err != nil {
		log.Warn("host check failed", zap.Error(err))
		return
	}
	rep.LogShortfalls(log)
}

func newLogger(w io.Writer) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	enc.EncodeLevel = zapcore.CapitalLevelEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), zapcore.InfoLevel)
	return zap.New(core)
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`myriad-loadgen: event-loop WebSocket load generator

usage:
  myriad-loadgen SCENARIO --url ws://host:port/path [--url ...] --conns N [flags]
  myriad-loadgen merge a.json b.json ... [--json merged.json]
  myriad-loadgen plot --csv run.csv --out chart.png [--width 1000] [--height 640]
  myriad-loadgen help

scenarios:
`)
	for _, si := range loadgen.Scenarios() {
		fmt.Fprintf(&b, "  %-9s %s\n", si.Name, si.Summary)
	}
	b.WriteString("\nflags:\n")
	var cfg config
	var defs strings.Builder
	fs := newFlagSet(&cfg, &defs)
	fs.PrintDefaults()
	// The flag package prints one dash; both work, the docs use two.
	for _, line := range strings.SplitAfter(defs.String(), "\n") {
		if strings.HasPrefix(line, "  -") {
			line = "  --" + line[3:]
		}
		b.WriteString(line)
	}
	b.WriteString(`
A progress line goes to stderr every second (redrawn in place on a
terminal); the report goes to stdout as a table and, with --json, to a
file; --csv writes the per-second series, which plot draws as a PNG. Failed attempts are counted by cause
(refused, timeout, http_NNN, reset, ports, fds, protocol, other).

examples:
  myriad-loadgen idle --url ws://127.0.0.1:8080/echo --conns 19000 --rate 5000 --duration 30s --server-pid 1234
  myriad-loadgen echo --url ws://127.0.0.1:8080/echo --conns 1000 --msg-rate 10 --size 64 --duration 30s --json echo.json
  myriad-loadgen capacity --url ws://127.0.0.1:8080/echo --conns 100000 --step 5000 --step-hold 10s --slo-p99 50ms --slo-rss-per-conn 2KiB --server-pid 1234 --procs auto --sources auto
  myriad-loadgen churn --url ws://127.0.0.1:8080/echo --conns 500 --rate 1000 --duration 20s
  myriad-loadgen broadcast --url ws://127.0.0.1:8080/ws --api http://127.0.0.1:8081/publish --conns 19000 --rate 5000 --pub-rate 10 --duration 20s --size 64
  myriad-loadgen sse --url ws://127.0.0.1:8080/ --conns 19000 --rate 5000 --duration 30s --server-pid 1234
  myriad-loadgen sse --mode broadcast --url ws://127.0.0.1:8080/ --api http://127.0.0.1:8081/publish --conns 5000 --pub-rate 10 --duration 20s
  myriad-loadgen reconnect --url ws://127.0.0.1:8080/ws --api http://127.0.0.1:8081/publish --conns 19000 --rate 5000 --pub-rate 20 --duration 20s --wave-at 5s --wave-spread 1s --reconnect-delay 1s
  myriad-loadgen idle --url ws://127.0.0.1:8080/echo --conns 60000 --procs 4 --source 127.0.0.2-127.0.0.9
`)
	_, _ = io.WriteString(w, b.String())
}
