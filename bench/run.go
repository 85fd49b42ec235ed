package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"go.uber.org/zap"
)

// Result is what a run measured: every value of every round, by metric
// key and server, and what went wrong on the way. It is plain data.
type Result struct {
	Config  Config   // with defaults applied
	Metrics []Metric // the rows, in order
	// Values[metric][server] holds one value per round that produced it.
	Values   map[string]map[string][]float64
	Problems []string // per measurement: failed upgrades, lost messages
	Warnings []string // host settings
}

// Run builds the binaries and measures every server, kind by kind, round
// by round, one server process at a time. It returns an error only when
// the harness itself cannot go on (a build fails, a server does not
// start, the load generator does not run); a measurement with failed
// connections is kept and its problems listed in the Result. Run must not
// be called twice at once with the same WorkDir.
func Run(ctx context.Context, cfg Config, log *zap.Logger) (*Result, error) {
	if log == nil {
		log = zap.NewNop()
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	res := &Result{Config: cfg, Metrics: cfg.Metrics(), Values: map[string]map[string][]float64{}}
	res.Warnings = hostWarnings(cfg.Conns, countSources(cfg.Sources))
	for _, w := range res.Warnings {
		log.Warn("host", zap.String("warning", w))
	}
	dir := cfg.WorkDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "myriad-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root := cfg.Root
	if root == "" {
		r, err := moduleRoot(ctx, cfg.Go)
		if err != nil {
			return nil, err
		}
		root = r
	}
	log.Info("building", zap.String("root", root), zap.String("into", dir))
	if err := build(ctx, cfg.Go, root, dir); err != nil {
		return nil, err
	}
	seq := 0
	for _, k := range []Kind{KindIdle, KindEcho, KindBroadcast} {
		for round := 1; round <= cfg.Rounds; round++ {
			for _, name := range cfg.Servers {
				seq++
				v, problems, err := measure(ctx, cfg, dir, seq, k, name)
				if err != nil {
					return res, fmt.Errorf("%s %s round %d: %w", k, name, round, err)
				}
				res.add(name, v)
				for _, p := range problems {
					res.Problems = append(res.Problems, fmt.Sprintf("%s %s round %d: %s", k, name, round, p))
				}
				log.Info("measured", zap.String("kind", string(k)), zap.String("server", name),
					zap.Int("round", round), zap.Any("values", v), zap.Strings("problems", problems))
			}
		}
	}
	return res, nil
}

func (r *Result) add(server string, v map[string]float64) {
	for key, x := range v {
		if r.Values[key] == nil {
			r.Values[key] = map[string][]float64{}
		}
		r.Values[key][server] = append(r.Values[key][server], x)
	}
}

// measure runs one load generator run of kind k against a fresh process
// of server name, and stops the server afterwards.
func measure(ctx context.Context, cfg Config, dir string, seq int, k Kind, name string) (map[string]float64, []string, error) {
	s, err := startServer(ctx, dir, name, seq)
	if err != nil {
		return nil, nil, err
	}
	defer s.stop()
	jsonPath := filepath.Join(dir, fmt.Sprintf("%03d-%s-%s.json", seq, name, k))
	ctx, cancel := context.WithTimeout(ctx, cfg.runTimeout(k))
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "myriad-loadgen"), cfg.loadgenArgs(k, s, jsonPath)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // the table on stdout is not needed: the JSON has it all
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("myriad-loadgen: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	select {
	case <-s.exited:
		return nil, nil, fmt.Errorf("%w (log: %s)", ErrDied, s.log)
	default:
	}
	r, err := readReport(jsonPath)
	if err != nil {
		return nil, nil, err
	}
	v, problems := cfg.extract(k, r)
	return v, problems, nil
}
