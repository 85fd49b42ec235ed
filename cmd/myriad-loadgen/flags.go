package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/myriadws/myriad/loadgen"
)

// config is what the command line says: a plan plus what to do around it.
type config struct {
	urls        stringList
	sources     sourceList
	serverPIDs  intList
	conns       int
	rate        float64
	ramp        time.Duration
	duration    time.Duration
	retries     int
	handshake   time.Duration
	closeWait   time.Duration
	settle      time.Duration
	size        int
	msgRate     float64
	inFlight    int
	dialWorkers int
	loops       int
	procs       int
	procsAuto   bool
	sourcesAuto bool
	jsonPath    string
	csvPath     string
	quiet       bool
	topic       string
	api         string
	apiKey      string
	pubRate     float64
	mode        string
	waveAt      time.Duration
	waveSpread  time.Duration
	redialDelay time.Duration
	step        int
	stepHold    time.Duration
	traffic     string
	sloFailRate float64
	sloP99      time.Duration
	sloRSS      byteSize
}

// newFlagSet defines the scenario flags. Errors are returned, not printed
// twice: the caller reports them.
func newFlagSet(cfg *config, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("myriad-loadgen", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Var(&cfg.urls, "url", "target `ws://host:port/path`; repeat for several targets (connections go round-robin)")
	fs.IntVar(&cfg.conns, "conns", 1000, "connections to open (churn: connections open at steady state)")
	fs.Float64Var(&cfg.rate, "rate", 0, "new connections per second, on a fixed schedule; 0 = as fast as the dial workers go")
	fs.DurationVar(&cfg.ramp, "ramp", 0, "raise the connect rate linearly from 0 to --rate over this time")
	fs.DurationVar(&cfg.duration, "duration", loadgen.DefaultDuration, "how long to hold after settling (idle), send (echo), keep opening (churn) or publish after settling (broadcast)")
	fs.IntVar(&cfg.retries, "retries", 0, "retries per failed connection attempt")
	fs.DurationVar(&cfg.handshake, "handshake-timeout", loadgen.DefaultHandshakeTimeout, "limit on TCP connect plus WebSocket upgrade")
	fs.DurationVar(&cfg.closeWait, "close-timeout", loadgen.DefaultCloseTimeout, "wait for the server's close reply (and echo or broadcast stragglers) before giving up")
	fs.DurationVar(&cfg.settle, "settle", loadgen.DefaultSettle, "idle, broadcast, capacity: wait after connecting before sampling memory; independent of --duration, which starts after it")
	fs.Var(&cfg.sources, "source", "local source `addresses`: list or range (127.0.0.2-127.0.0.40); repeatable")
	fs.Var(autoFlag{&cfg.sourcesAuto, nil}, "sources", "`auto`: pick 127.0.0.x source addresses enough for --conns under the ephemeral port range and the targets")
	cfg.procs = 1
	fs.Var(autoFlag{&cfg.procsAuto, &cfg.procs}, "procs", "worker `processes` to spread connections over (each has its own fd limit), or auto: enough for --conns under RLIMIT_NOFILE")
	fs.Var(&cfg.serverPIDs, "server-pid", "server `pid` whose RSS to sample before and after connecting; repeatable (as many as --url: the i-th serves the i-th URL)")
	fs.IntVar(&cfg.size, "size", loadgen.DefaultSize, "echo: message payload bytes (at least 16); broadcast: bytes of each message's data, padded")
	fs.Float64Var(&cfg.msgRate, "msg-rate", loadgen.DefaultMsgRate, "echo: messages per second per connection")
	fs.IntVar(&cfg.inFlight, "in-flight", 0, "echo: closed loop, each connection keeps this many messages outstanding (sends the next when one returns; --msg-rate unused); 0 = open loop at --msg-rate")
	fs.StringVar(&cfg.topic, "topic", loadgen.DefaultTopic, "broadcast, reconnect, sse: topic to subscribe and publish to (added to --url as ?topics= unless it names topics)")
	fs.StringVar(&cfg.api, "api", loadgen.DefaultAPI, "broadcast, reconnect, sse --mode broadcast: publish API `URL`")
	fs.StringVar(&cfg.apiKey, "api-key", "", "broadcast, reconnect, sse --mode broadcast: publish API key, sent as Authorization: Bearer")
	fs.Float64Var(&cfg.pubRate, "pub-rate", loadgen.DefaultPubRate, "broadcast, reconnect, sse --mode broadcast: messages published per second, for --duration once subscribers are settled")
	fs.StringVar(&cfg.mode, "mode", loadgen.SSEIdle, "sse: `idle` holds the streams; broadcast runs broadcast's publisher (--api, --pub-rate) over them")
	fs.DurationVar(&cfg.waveAt, "wave-at", loadgen.DefaultWaveAt, "reconnect: when, after publishing began, every subscriber drops (before --duration)")
	fs.DurationVar(&cfg.waveSpread, "wave-spread", loadgen.DefaultWaveSpread, "reconnect: window over which the subscribers drop")
	fs.DurationVar(&cfg.redialDelay, "reconnect-delay", loadgen.DefaultReconnectDelay, "reconnect: how long a dropped subscriber waits before it reconnects with ?since.")
	fs.IntVar(&cfg.step, "step", loadgen.DefaultCapacityStep, "capacity: connections added per step")
	fs.DurationVar(&cfg.stepHold, "step-hold", loadgen.DefaultCapacityStepHold, "capacity: how long each step is held before the SLOs are judged")
	fs.StringVar(&cfg.traffic, "traffic", "", "capacity: `echo` to send echo traffic (--msg-rate or --in-flight) on every connection while holding; empty for idle")
	fs.Float64Var(&cfg.sloFailRate, "slo-fail-rate", 0.001, "capacity SLO: failed attempts plus drops over a step's attempts at most this (0 = not checked)")
	fs.DurationVar(&cfg.sloP99, "slo-p99", 0, "capacity SLO: a step's p99 (echo round trip with --traffic echo, else connect latency) at most this (0 = not checked)")
	fs.Var(&cfg.sloRSS, "slo-rss-per-conn", "capacity SLO: server RSS growth per open connection at most this `size` (2KiB, 900B; needs --server-pid; 0 = not checked)")
	fs.IntVar(&cfg.dialWorkers, "dial-workers", loadgen.DefaultDialWorkers, "concurrent dials per process")
	fs.IntVar(&cfg.loops, "loops", 0, "event loops per process (default: GOMAXPROCS)")
	fs.StringVar(&cfg.jsonPath, "json", "", "also write the report as JSON to `file`")
	fs.StringVar(&cfg.csvPath, "csv", "", "write the per-second series (conns, rates, p50/p99, errors, server RSS) as CSV to `file`, for plot")
	fs.BoolVar(&cfg.quiet, "quiet", false, "no progress line and no start-up info or warnings on stderr")
	return fs
}

func (cfg *config) plan(scenario string) (loadgen.Plan, error) {
	targets := []string(cfg.urls)
	toTarget := map[string]func(raw, topic string) (string, error){
		"broadcast": loadgen.SubscribeURL,
		"reconnect": loadgen.SubscribeURL,
		"sse":       loadgen.SSEURL,
	}[scenario]
	if toTarget != nil {
		targets = nil
		for _, u := range cfg.urls {
			t, err := toTarget(u, cfg.topic)
			if err != nil {
				return loadgen.Plan{}, err
			}
			targets = append(targets, t)
		}
	}
	return loadgen.Plan{
		Scenario:         scenario,
		Targets:          targets,
		Conns:            cfg.conns,
		Rate:             cfg.rate,
		Ramp:             cfg.ramp,
		Duration:         cfg.duration,
		Retries:          cfg.retries,
		HandshakeTimeout: cfg.handshake,
		CloseTimeout:     cfg.closeWait,
		Settle:           cfg.settle,
		Sources:          cfg.sources,
		Size:             cfg.size,
		MsgRate:          cfg.msgRate,
		InFlight:         cfg.inFlight,
		DialWorkers:      cfg.dialWorkers,
		Loops:            cfg.loops,
		ServerPIDs:       cfg.serverPIDs,
	}, nil
}

// configure gives sc its own parameters from the flags: the command line
// is flat, while each scenario keeps its parameters in its own type.
func (cfg *config) configure(sc loadgen.Scenario) {
	if c, ok := sc.(*loadgen.Capacity); ok {
		c.CapacityParams = loadgen.CapacityParams{
			Step:     cfg.step,
			StepHold: cfg.stepHold,
			Traffic:  cfg.traffic,
			SLO: loadgen.CapacitySLO{
				FailRate:   cfg.sloFailRate,
				P99:        cfg.sloP99,
				RSSPerConn: int64(cfg.sloRSS),
			},
		}
	}
	bp := loadgen.BroadcastParams{
		Topic:   cfg.topic,
		API:     cfg.api,
		APIKey:  cfg.apiKey,
		PubRate: cfg.pubRate,
	}
	switch sc := sc.(type) {
	case *loadgen.Broadcast:
		sc.BroadcastParams = bp
	case *loadgen.SSE:
		sc.SSEParams = loadgen.SSEParams{Mode: cfg.mode, BroadcastParams: bp}
	case *loadgen.Reconnect:
		sc.ReconnectParams = loadgen.ReconnectParams{
			BroadcastParams: bp,
			WaveAt:          cfg.waveAt,
			WaveSpread:      cfg.waveSpread,
			ReconnectDelay:  cfg.redialDelay,
		}
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// intList is a repeatable integer flag.
type intList []int

func (l *intList) String() string {
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

func (l *intList) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a process id", v)
	}
	*l = append(*l, n)
	return nil
}

// sourceList is a repeatable flag of address lists and ranges.
type sourceList []netip.Addr

func (l *sourceList) String() string {
	parts := make([]string, len(*l))
	for i, a := range *l {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

func (l *sourceList) Set(v string) error {
	addrs, err := loadgen.ParseSources(v)
	if err != nil {
		return err
	}
	*l = append(*l, addrs...)
	return nil
}

// autoFlag is a flag that takes "auto" or, when n is set, a count.
type autoFlag struct {
	auto *bool
	n    *int
}

func (f autoFlag) String() string {
	switch {
	case f.auto != nil && *f.auto:
		return "auto"
	case f.n != nil:
		return strconv.Itoa(*f.n)
	}
	return ""
}

func (f autoFlag) Set(v string) error {
	if v == "auto" {
		*f.auto = true
		return nil
	}
	if f.n == nil {
		return fmt.Errorf("%q: the only value is auto (use --source for addresses)", v)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("%q is neither auto nor a count of at least 1", v)
	}
	*f.auto, *f.n = false, n
	return nil
}

// byteSize is a size flag: a number with an optional B, KiB, MiB or GiB.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(v string) error {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	num, mult := strings.TrimSpace(v), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 || n*float64(mult) > 1<<50 {
		return fmt.Errorf("%q is not a size like 2KiB", v)
	}
	*b = byteSize(n * float64(mult))
	return nil
}
