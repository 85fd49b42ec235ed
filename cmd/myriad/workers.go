package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/supervisor"
)

// runSupervisor is `myriad --workers N`: an embedded NATS broker and N
// copies of this binary, each a cluster node listening on --addr and
// --api-addr through SO_REUSEPORT, restarted when they die. args are
// the command line, handed to every worker unchanged: the worker
// environment overrides what must differ. SIGINT and SIGTERM drain every
// worker (a second one makes them exit at once), SIGHUP replaces the
// workers one at a time (a SIGHUP while that runs is refused).
// It returns the exit code.
func runSupervisor(ctx context.Context, o *options, args []string, stdout, stderr io.Writer, sigs <-chan os.Signal, log *zap.Logger) int {
	brk, cleanup, err := brokerStore(o.hist)
	if err != nil {
		log.Error("broker store", zap.Error(err))
		return 1
	}
	defer cleanup()
	sup, err := supervisor.Start(supervisor.Config{
		Broker:       brk,
		Workers:      o.cl.workers,
		MaxConns:     o.cfg.MaxConns,
		Addr:         o.cfg.Addr,
		APIAddr:      o.gw.apiAddr,
		Args:         args,
		Stdout:       stdout,
		Stderr:       stderr,
		DrainTimeout: o.cfg.DrainTimeout,
		Steer:        true,
		// The supervisor is the service's main process: workers must not
		// tell systemd they are ready, nor name themselves its MAINPID.
		Env: []string{"NOTIFY_SOCKET="},
	}, log.Named("supervisor"))
	if err != nil {
		log.Error("supervisor failed to start", zap.Error(err))
		return 1
	}
	if o.pidFile != "" {
		if err := writePIDFile(o.pidFile); err != nil {
			log.Error("pid file", zap.String("path", o.pidFile), zap.Error(err))
		}
		defer removePIDFile(o.pidFile)
	}
	go notifyWhenReady(sup, log)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-sup.Done():
			if err := sup.Wait(); err != nil {
				log.Error("supervisor stopped", zap.Error(err))
				return 1
			}
			log.Info("stopped")
			return 0
		case sig := <-sigs:
			log.Info("signal received, draining every worker", zap.Stringer("signal", sig))
			sup.Stop(sig)
		case <-hup:
			go replaceWorkers(sup, o.pidFile, log)
		case <-ctx.Done():
			sup.Stop(syscall.SIGTERM)
			ctx = context.Background()
		}
	}
}

// replaceWorkers runs sup.Replace for a SIGHUP and logs the outcome.
// Once every worker is replaced it rewrites the pid file (same pid, new
// modification time), which is how `myriad restart` learns that a
// supervisor's restart is done.
func replaceWorkers(sup *supervisor.Supervisor, pidFile string, log *zap.Logger) {
	log.Info("SIGHUP: replacing the workers one at a time")
	switch err := sup.Replace(); {
	case errors.Is(err, supervisor.ErrReplacing):
		log.Warn("SIGHUP ignored", zap.Error(err))
	case err != nil:
		log.Error("worker replacement stopped; the rest keep serving", zap.Error(err))
	default:
		log.Info("every worker replaced")
		if pidFile != "" {
			if err := writePIDFile(pidFile); err != nil {
				log.Error("pid file", zap.String("path", pidFile), zap.Error(err))
			}
		}
	}
}

// notifyWhenReady tells systemd (Type=notify) that the service is ready,
// naming the supervisor as its main process, once every worker has
// reported that it listens. It gives up when the supervisor stops first.
func notifyWhenReady(sup *supervisor.Supervisor, log *zap.Logger) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-sup.Done():
			return
		case <-tick.C:
		}
		ws := sup.Workers()
		ready := len(ws) > 0
		for _, w := range ws {
			ready = ready && w.Ready
		}
		if !ready {
			continue
		}
		if err := notifySystemd(fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid())); err != nil {
			log.Warn("systemd notification failed", zap.Error(err))
		}
		return
	}
}
