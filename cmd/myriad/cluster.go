package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/internal/supervisor"
)

// noWorkers is the --workers value of a single process without a
// supervisor, the default.
const noWorkers = -1

// clusterOptions are the flags that make the process a cluster node
// (--broker) or a supervisor of worker nodes (--workers).
type clusterOptions struct {
	broker  string
	nodes   int
	workers int
	// queryWait and maxQueries bound the cluster's /stats and /presence
	// queries (broker.Config GatherWait and MaxGathers).
	queryWait  time.Duration
	maxQueries int
	// onClosed is --broker-closed: what a serving node does once nats.go
	// has closed its broker connection for good (brokerClosedExit or
	// brokerClosedStay; see brokerLost).
	onClosed string
	// link is the gateway's side of the cluster link: presence heartbeats
	// and timeout, the client publish queue.
	link gateway.ClusterConfig
	// worker is set when the process is a supervisor's worker.
	worker *supervisor.WorkerEnv
}

// addClusterFlags declares the cluster flags on fs, bound to c.
func addClusterFlags(fs *flag.FlagSet, c *clusterOptions) {
	fs.StringVar(&c.broker, "broker", "", "NATS URL(s), comma-separated: join a cluster of nodes sharing topics through this broker (empty: a single node)")
	fs.IntVar(&c.nodes, "cluster-nodes", 0, "nodes in the cluster, so /stats and /presence answer once all did (0: unknown, wait the gather bound)")
	fs.DurationVar(&c.queryWait, "cluster-query-wait", broker.DefaultGatherWait, "how long /stats and /presence on a cluster node wait for the other nodes' answers")
	fs.IntVar(&c.maxQueries, "cluster-max-queries", broker.DefaultMaxGathers, "cluster /stats and /presence queries in flight, those stuck behind a stalled broker link included; past it a query gets 503 with this node's part")
	fs.StringVar(&c.onClosed, "broker-closed", brokerClosedExit, "when the broker connection is closed for good (an error nats.go takes as final, such as authorization refused twice): exit drains the node as on SIGTERM and exits 1, so that its supervisor starts it afresh; stay keeps serving its own clients, cut off from the cluster")
	fs.DurationVar(&c.link.PresenceHeartbeat, "presence-heartbeat", gateway.DefaultPresenceHeartbeat, "with --presence-events in a cluster, tell the other nodes this node is alive this often")
	fs.DurationVar(&c.link.PresenceTimeout, "presence-node-timeout", gateway.DefaultPresenceTimeout, "with --presence-events in a cluster, a node silent this long is taken for dead and its users leave")
	fs.IntVar(&c.link.PublishQueue, "cluster-publish-queue", gateway.DefaultPublishQueue, "client publishes a cluster node holds for the broker; past it a client publish gets an error reply")
	c.link.PublishQueueBytes = gateway.DefaultPublishQueueBytes
	fs.Var(byteSize{p64: &c.link.PublishQueueBytes}, "cluster-publish-queue-bytes", "data bytes of the client publishes a cluster node holds for the broker; past it a client publish gets an error reply")
	fs.IntVar(&c.workers, "workers", noWorkers, "worker processes sharing --addr and --api-addr (SO_REUSEPORT) with an embedded NATS broker; 0: as many as --max-conns needs under the descriptor limit; -1: one process")
}

// workerEnv reads the supervisor's worker environment through env. It
// returns nil, nil for a process that is not a worker.
func workerEnv(env func(string) (string, bool)) (*supervisor.WorkerEnv, error) {
	w, err := supervisor.ParseWorkerEnv(func(k string) string { v, _ := env(k); return v })
	if errors.Is(err, supervisor.ErrNotWorker) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// applyWorker makes o a worker's options: the supervisor's addresses,
// connection share and broker win over flags and MYRIAD_* variables
// (which the worker inherits, MYRIAD_WORKERS included), the WebSocket
// listener shares its port, the pid file is left to the supervisor, and
// with several workers each runs on one
// thread (see DESIGN.md: many workers on few cores).
func (o *options) applyWorker(w *supervisor.WorkerEnv) {
	o.cl.worker = w
	o.cl.workers = noWorkers
	o.cl.broker = w.Broker
	o.cl.nodes = w.Count
	o.cfg.Addr = w.Addr
	o.cfg.ReusePort = true
	o.cfg.MaxConns = w.MaxConns
	o.gw.apiAddr = w.APIAddr
	o.pidFile = "" // the supervisor's to write: it is the process to signal
	if w.Count > 1 {
		runtime.GOMAXPROCS(1)
	}
}

// validateCluster rejects flag combinations the command cannot run.
func (o *options) validateCluster() error {
	switch {
	case o.cl.workers < noWorkers:
		return fmt.Errorf("invalid --workers %d: want -1 (one process), 0 (automatic) or a count", o.cl.workers)
	case o.cl.workers != noWorkers && o.cl.broker != "":
		return errors.New("--workers runs its own embedded broker: leave --broker out")
	case o.cl.nodes < 0:
		return fmt.Errorf("invalid --cluster-nodes %d", o.cl.nodes)
	case o.cl.queryWait <= 0:
		return fmt.Errorf("invalid --cluster-query-wait %s: must be positive", o.cl.queryWait)
	case o.cl.maxQueries <= 0:
		return fmt.Errorf("invalid --cluster-max-queries %d: must be positive", o.cl.maxQueries)
	case o.cl.onClosed != brokerClosedExit && o.cl.onClosed != brokerClosedStay:
		return fmt.Errorf("invalid --broker-closed %q: want %s or %s", o.cl.onClosed, brokerClosedExit, brokerClosedStay)
	}
	return o.cl.link.Validate()
}

// joinCluster connects gw to the broker of --broker; nil when there is
// none. The client keeps reconnecting in the background, so a node may
// start before its broker; its state changes are logged. With
// --broker-closed=exit the brokerLost it returns fires once nats.go has
// closed the connection for good; otherwise it never fires.
func joinCluster(gw *gateway.Gateway, c clusterOptions, log *zap.Logger) (*broker.Client, brokerLost, error) {
	if c.broker == "" {
		return nil, brokerLost{}, nil
	}
	blog := log.Named("broker")
	host, _ := os.Hostname()
	closed := make(chan struct{}, 1)
	bc, err := broker.Connect(broker.Config{
		URL:     c.broker,
		NodeID:  fmt.Sprintf("%s-%d", host, os.Getpid()),
		Deliver: gw.Receive,
		OnState: func(s broker.State) {
			blog.Info("broker state", zap.Stringer("state", s))
			if s == broker.StateClosed {
				notifyClosed(closed)
			}
		},
		GatherWait: c.queryWait,
		MaxGathers: c.maxQueries,
	}, blog)
	if err != nil {
		return nil, brokerLost{}, err
	}
	link := c.link
	link.Nodes, link.Logger = c.nodes, blog
	if err := gw.JoinCluster(bc, link); err != nil {
		_ = bc.Close()
		return nil, brokerLost{}, err
	}
	blog.Info("cluster node", zap.String("node", bc.NodeID()), zap.String("broker", broker.Redact(c.broker)), zap.Stringer("state", bc.State()))
	if c.onClosed != brokerClosedExit {
		return bc, brokerLost{}, nil
	}
	return bc, brokerLost{closed: closed, reason: func() error { return bc.Conn().LastError() }}, nil
}
