package supervisor

import (
	"errors"
	"testing"

	"github.com/myriadws/myriad/internal/broker"
)

func TestWorkerCount(t *testing.T) {
	cases := []struct {
		name      string
		target    int
		nofile    uint64
		headroom  int
		cpus      int
		workers   int
		perWorker int
		err       error
	}{
		{"no target: one per CPU", 0, 20000, 100, 2, 2, 0, nil},
		{"no target on a zero-CPU report", 0, 20000, 100, 0, 1, 0, nil},
		{"fits in one", 19900, 20000, 100, 2, 1, 19900, nil},
		{"one over a worker", 19901, 20000, 100, 2, 2, 9951, nil},
		{"a million under this host's cap", 1_000_000, 20000, 100, 2, 51, 19608, nil},
		{"a million on a tuned host", 1_000_000, 1 << 21, 100, 2, 1, 1_000_000, nil},
		{"limit below headroom", 10, 50, 100, 2, 0, 0, ErrNoDescriptors},
		{"limit equal to headroom", 10, 100, 100, 2, 0, 0, ErrNoDescriptors},
		{"negative headroom", 10, 100, -1, 2, 0, 0, ErrNoDescriptors},
		{"too many processes", 10_000_000, 1100, 100, 2, 0, 0, ErrTooManyWorkers},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, per, err := WorkerCount(tc.target, tc.nofile, tc.headroom, tc.cpus)
			if !errors.Is(err, tc.err) || n != tc.workers || per != tc.perWorker {
				t.Fatalf("WorkerCount = %d, %d, %v; want %d, %d, %v", n, per, err, tc.workers, tc.perWorker, tc.err)
			}
			if err == nil && tc.target > 0 && uint64(per) > tc.nofile-uint64(tc.headroom) {
				t.Fatalf("%d per worker exceeds the %d descriptors available", per, tc.nofile-uint64(tc.headroom))
			}
		})
	}
}

func TestWorkerEnvRoundTrip(t *testing.T) {
	w := WorkerEnv{Index: 2, Count: 4, Broker: "nats://127.0.0.1:4222", Addr: ":8080", APIAddr: ":9090", MaxConns: 19000,
		Replaces: 4242, Steer: Steering{WS: Skip{First: 2, Len: 2, Total: 8}, API: Skip{First: 1, Len: 1, Total: 4}}}
	got, err := ParseWorkerEnv(lookup(w.Environ()))
	if err != nil || got != w {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, w)
	}
}

func TestParseWorkerEnvRejects(t *testing.T) {
	good := map[string]string{
		EnvWorker: "0", EnvWorkers: "2", EnvBroker: "nats://x:1", EnvAddr: ":1", EnvMaxConns: "0",
	}
	cases := []struct {
		name, key, value string
		err              error
	}{
		{"not a worker", EnvWorker, "", ErrNotWorker},
		{"index not a number", EnvWorker, "x", ErrConfig},
		{"negative index", EnvWorker, "-1", ErrConfig},
		{"index past count", EnvWorker, "2", ErrConfig},
		{"count missing", EnvWorkers, "", ErrConfig},
		{"count absurd", EnvWorkers, "100000", ErrConfig},
		{"negative max conns", EnvMaxConns, "-5", ErrConfig},
		{"no broker", EnvBroker, "", ErrConfig},
		{"no address", EnvAddr, "", ErrConfig},
		{"replaces no pid", EnvReplaces, "x", ErrConfig},
		{"steering past the group", EnvSteer, "6,2,6 0,0,0", ErrConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range good {
				env[k] = v
			}
			env[tc.key] = tc.value
			if _, err := ParseWorkerEnv(func(k string) string { return env[k] }); !errors.Is(err, tc.err) {
				t.Fatalf("ParseWorkerEnv = %v, want %v", err, tc.err)
			}
		})
	}
}

// lookup serves KEY=value entries as getenv.
func lookup(entries []string) func(string) string {
	m := map[string]string{}
	for _, e := range entries {
		for i := 0; i < len(e); i++ {
			if e[i] == '=' {
				m[e[:i]] = e[i+1:]
				break
			}
		}
	}
	return func(k string) string { return m[k] }
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero value", Config{}, true},
		{"negative workers", Config{Workers: -1}, false},
		{"too many workers", Config{Workers: MaxWorkers + 1}, false},
		{"negative target", Config{MaxConns: -1}, false},
		{"backoff upside down", Config{RestartMin: 10, RestartMax: 5}, false},
		{"negative drain", Config{DrainTimeout: -1}, false},
		{"bad broker", Config{Broker: broker.ServerConfig{JetStream: true}}, false}, // JetStream without a store dir
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); tc.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
