package main

import (
	"fmt"
	"net/http"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/server"
)

// readiness answers /readyz: 200 when the node should receive new
// clients, 503 with the reason otherwise. A load balancer polling it
// takes the node out of rotation before a drain sends its clients away,
// and puts it back only once it listens again.
type readiness struct {
	srv *server.Server
	// checks are further conditions, each returning why the node is not
	// ready or nil, such as the broker link (brokerChecks): a node cut off
	// from the cluster would deliver only its own publishes. Fixed before
	// the listener starts.
	checks []func() error
}

// ServeHTTP implements http.Handler. Any goroutine may call it.
func (rd *readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if why := rd.notReady(); why != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(why + "\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// notReady returns why the node is not ready, or "".
func (rd *readiness) notReady() string {
	select {
	case <-rd.srv.Done():
		return "stopped"
	default:
	}
	select {
	case <-rd.srv.Ready():
	default:
		return "not listening yet"
	}
	if rd.srv.Stats().Draining {
		return "draining"
	}
	for _, check := range rd.checks {
		if err := check(); err != nil {
			return err.Error()
		}
	}
	return ""
}

// brokerChecks returns the readiness condition of a cluster node: its
// broker link must be connected. A single node (bc nil) has none.
func brokerChecks(bc *broker.Client) []func() error {
	if bc == nil {
		return nil
	}
	return []func() error{func() error {
		if st := bc.State(); st != broker.StateConnected {
			return fmt.Errorf("broker %s", st)
		}
		return nil
	}}
}
