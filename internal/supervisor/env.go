package supervisor

import (
	"fmt"
	"strconv"
)

// Environment variables a supervisor sets for its workers. The command
// reads them (through ParseWorkerEnv) and overrides its flags with them.
const (
	EnvWorker   = "MYRIAD_WORKER"    // worker index, 0-based; its presence makes a worker
	EnvWorkers  = "MYRIAD_WORKERS"   // number of workers
	EnvBroker   = "MYRIAD_BROKER"    // NATS URL of the embedded broker
	EnvAddr     = "MYRIAD_ADDR"      // WebSocket address with the port resolved
	EnvAPIAddr  = "MYRIAD_API_ADDR"  // API address with the port resolved, or empty
	EnvMaxConns = "MYRIAD_MAX_CONNS" // this worker's connection bound; 0 none
	EnvReplaces = "MYRIAD_REPLACES"  // pid of the worker a replacement takes over from; 0 none
	EnvSteer    = "MYRIAD_STEER"     // a replacement's steering program (Steering.String); empty none

	// Every worker also gets these: the descriptor of a pipe on which it
	// writes "ready WS API" (its listener counts on both ports) once it
	// listens, and the addresses it shares. A restarted single process gets
	// the same from its predecessor.
	EnvReadyFD      = "MYRIAD_RESTART_FD"
	EnvReadyAddr    = "MYRIAD_RESTART_ADDR"
	EnvReadyAPIAddr = "MYRIAD_RESTART_API_ADDR"
)

// ReadyFD is the descriptor of the readiness pipe in a replacement: the
// first extra file of the child.
const ReadyFD = 3

// WorkerEnv is what a worker is told by its supervisor.
type WorkerEnv struct {
	Index, Count int
	Broker       string
	Addr         string
	APIAddr      string
	MaxConns     int
	// Replaces is the pid of the worker this one replaces (Supervisor.Replace),
	// 0 for a worker started any other way.
	Replaces int
	// Steer, when set (WS.Len > 0), is the program this replacement
	// attaches to the ports' groups once it listens and before it reports
	// ready, provided its own listener counts are WS.Len and API.Len.
	Steer Steering
}

// Environ returns w as KEY=value entries for a child's environment.
func (w WorkerEnv) Environ() []string {
	return []string{
		EnvWorker + "=" + strconv.Itoa(w.Index),
		EnvWorkers + "=" + strconv.Itoa(w.Count),
		EnvBroker + "=" + w.Broker,
		EnvAddr + "=" + w.Addr,
		EnvAPIAddr + "=" + w.APIAddr,
		EnvMaxConns + "=" + strconv.Itoa(w.MaxConns),
		EnvReplaces + "=" + strconv.Itoa(w.Replaces),
		EnvSteer + "=" + w.Steer.String(),
	}
}

// ParseWorkerEnv reads a WorkerEnv through getenv (os.Getenv in the
// command). It returns ErrNotWorker when EnvWorker is unset, and an error
// for values a supervisor would not write. Any goroutine may call it.
func ParseWorkerEnv(getenv func(string) string) (WorkerEnv, error) {
	idx := getenv(EnvWorker)
	if idx == "" {
		return WorkerEnv{}, ErrNotWorker
	}
	var w WorkerEnv
	var err error
	if w.Index, err = strconv.Atoi(idx); err != nil || w.Index < 0 {
		return WorkerEnv{}, fmt.Errorf("%w: %s=%q", ErrConfig, EnvWorker, idx)
	}
	count := getenv(EnvWorkers)
	if w.Count, err = strconv.Atoi(count); err != nil || w.Count <= w.Index || w.Count > MaxWorkers {
		return WorkerEnv{}, fmt.Errorf("%w: %s=%q for worker %d", ErrConfig, EnvWorkers, count, w.Index)
	}
	mc := getenv(EnvMaxConns)
	if w.MaxConns, err = strconv.Atoi(mc); err != nil || w.MaxConns < 0 {
		return WorkerEnv{}, fmt.Errorf("%w: %s=%q", ErrConfig, EnvMaxConns, mc)
	}
	if r := getenv(EnvReplaces); r != "" {
		if w.Replaces, err = strconv.Atoi(r); err != nil || w.Replaces < 0 {
			return WorkerEnv{}, fmt.Errorf("%w: %s=%q", ErrConfig, EnvReplaces, r)
		}
	}
	if w.Steer, err = ParseSteering(getenv(EnvSteer)); err != nil {
		return WorkerEnv{}, err
	}
	w.Broker, w.Addr, w.APIAddr = getenv(EnvBroker), getenv(EnvAddr), getenv(EnvAPIAddr)
	if w.Broker == "" || w.Addr == "" {
		return WorkerEnv{}, fmt.Errorf("%w: worker without %s or %s", ErrConfig, EnvBroker, EnvAddr)
	}
	return w, nil
}
