package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/server"
)

// buildApp makes the gateway and puts what the server serves into
// o.cfg: the routes, the gateway's streams and the demo page. It returns a
// nil gateway and the exit code when it cannot.
func buildApp(o *options, stderr io.Writer) (*gateway.Gateway, int) {
	gw, routes, err := o.gw.build()
	if err != nil {
		fmt.Fprintf(stderr, "myriad: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return nil, 2
	}
	o.cfg.Routes = routes
	o.cfg.Streams = gw.Streams()
	if o.demo {
		if o.cfg.Pages, err = demoPages(); err != nil {
			fmt.Fprintf(stderr, "myriad: %v\n", err)
			return nil, 1
		}
	}
	return gw, 0
}

// node is one running myriad process: its server, the services around it
// and what stops them.
type node struct {
	srv      *server.Server
	api      *apiServer
	log      *zap.Logger
	lost     brokerLost // fires when the broker connection is closed for good
	cleanups []func()   // run last first by close
}

// close stops the services, the last started first.
func (n *node) close() {
	for i := len(n.cleanups) - 1; i >= 0; i-- {
		n.cleanups[i]()
	}
}

// startNode joins the cluster (with --broker), opens the history, makes
// the server, starts the JWKS loader and the API listener. On failure the
// node has no server and the exit code says why; close still stops what
// had started.
func startNode(o *options, gw *gateway.Gateway, stderr io.Writer, log *zap.Logger) (*node, int) {
	n := &node{log: log}
	fail := func(code int, err error) (*node, int) {
		fmt.Fprintf(stderr, "myriad: %v\n", err)
		n.srv = nil
		return n, code
	}
	bc, lost, err := joinCluster(gw, o.cl, log)
	if err != nil {
		return fail(2, err)
	}
	n.lost = lost
	if bc != nil {
		n.cleanups = append(n.cleanups, func() { _ = bc.Close() })
	}
	stopHistory, err := useHistory(gw, o.hist, bc, log)
	if err != nil {
		return fail(2, err)
	}
	n.cleanups = append(n.cleanups, stopHistory)
	if n.srv, err = server.New(o.cfg); err == nil {
		err = gw.Attach(n.srv)
	}
	if err != nil {
		return fail(2, err)
	}
	stopJWKS, err := o.gw.startJWKS(log)
	if err == nil {
		err = o.gw.checkAPIExposure(log)
	}
	if err != nil {
		return fail(2, err)
	}
	n.cleanups = append(n.cleanups, stopJWKS)
	n.api, err = listenAPI(o.gw.apiAddr, o.cfg.ReusePort, apiHandler(opsOptions{
		srv: n.srv, gw: gw, broker: bc, apiKey: o.gw.cfg.APIKey, pprof: o.pprof,
		ready: &readiness{srv: n.srv, checks: brokerChecks(bc)}, log: log,
	}), log)
	if err != nil {
		return fail(1, err)
	}
	n.cleanups = append(n.cleanups, n.api.stop)
	n.api.serve()
	return n, 0
}

// run serves until a signal drains the server, a restart hands it over
// or the broker connection is closed for good, and returns the exit code.
func (n *node) run(ctx context.Context, o *options, args []string, stdout, stderr io.Writer, sigs <-chan os.Signal, hup <-chan os.Signal, steer steerSignals) int {
	srv, log := n.srv, n.log
	stopMemory := make(chan struct{})
	defer close(stopMemory)
	go releaseMemory(srv, o.memory, log, stopMemory)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	select {
	case err := <-serveErr:
		if err != nil {
			fmt.Fprintf(stderr, "myriad: %v\n", err)
			return 1
		}
		return 0
	case <-srv.Ready():
	}
	log.Info("myriad started", zap.String("version", versionString()), zap.Int("gomaxprocs", runtime.GOMAXPROCS(0)))
	if o.demo {
		log.Info("demo page", zap.String("url", demoURL(srv.Addr().String())))
	}
	steered := steerOnStart(o.cl.worker, srv, n.api, log)
	announceReady(o.pidFile, o.restart, steered, srv, n.api, log)
	if o.pidFile != "" {
		defer removePIDFile(o.pidFile)
	}
	rs := newRestarter(o, args, stdout, stderr, srv, n.api, log)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go rs.watch(watchCtx, hup)
	go rs.watchSteering(watchCtx, steer)
	return waitAndDrain(ctx, srv, serveErr, sigs, rs.HandedOver(), n.lost, log, o.cfg.DrainTimeout)
}
