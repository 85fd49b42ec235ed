package main

import (
	"context"
	"os"
	"os/signal"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/internal/handover"
	"github.com/myriadws/myriad/internal/supervisor"
	"github.com/myriadws/myriad/server"
)

// A supervised worker speaks the supervisor's steering protocol
// (supervisor.Config.Steer): a replacement attaches, once it listens and
// before it reports ready, the program the supervisor computed from its
// layout of the ports' groups (supervisor.EnvSteer), which sends every
// new connection to any listener but the replaced worker's;
// supervisor.SignalRetire then tells the replaced worker to finish the
// upgrades it accepted and drain, and supervisor.SignalUnsteer, sent
// after the last slot, hands the ports back to the kernel's hash.

// steerSignals are a worker's channels of the steering protocol's
// signals; both nil in a process that is not a worker.
type steerSignals struct {
	retire, unsteer chan os.Signal
}

// workerSignals starts catching the steering signals in a worker, and
// returns them with the function that stops it.
func workerSignals(worker *supervisor.WorkerEnv) (steerSignals, func()) {
	if worker == nil {
		return steerSignals{}, func() {}
	}
	s := steerSignals{retire: make(chan os.Signal, 1), unsteer: make(chan os.Signal, 1)}
	signal.Notify(s.retire, supervisor.SignalRetire)
	signal.Notify(s.unsteer, supervisor.SignalUnsteer)
	return s, func() { signal.Stop(s.retire); signal.Stop(s.unsteer) }
}

// steerOnStart attaches a replacement worker's program to the ports'
// groups when it was given one and has the listener counts the
// supervisor expects (the replaced worker's): otherwise the program's
// ranges would be wrong, and the worker reports its own counts, from
// which the supervisor sees that the slot goes unsteered. It returns
// whether it attached.
func steerOnStart(w *supervisor.WorkerEnv, srv *server.Server, api *apiServer, log *zap.Logger) bool {
	if w == nil || !w.Steer.Set() {
		return false
	}
	ports := []struct {
		addr string
		skip supervisor.Skip
	}{{srv.Addr().String(), w.Steer.WS}, {api.addrOrNone(), w.Steer.API}}
	fds := make([]int, len(ports))
	for i, p := range ports {
		own := listenersOn(p.addr)
		if len(own) != p.skip.Len {
			log.Info("not steering: listener counts differ from the replaced worker's",
				zap.Int("listeners", len(own)), zap.Int("expected", p.skip.Len), zap.String("addr", p.addr))
			return false
		}
		if p.skip.Len > 0 {
			fds[i] = own[0]
		}
	}
	for i, p := range ports {
		if p.skip.Len == 0 {
			continue
		}
		if err := handover.SteerAround(fds[i], p.skip.First, p.skip.Len, p.skip.Total); err != nil {
			log.Warn("steering failed", zap.Error(err))
			return false
		}
	}
	log.Info("steering new connections around the replaced worker", zap.Int("replaces", w.Replaces),
		zap.String("steering", w.Steer.String()))
	return true
}

// listenersOn is this process's listeners on addr's port; none for "".
func listenersOn(addr string) []int {
	if addr == "" {
		return nil
	}
	port, err := portOf(addr)
	if err != nil {
		return nil
	}
	fds, _ := handover.Listeners(port)
	return fds
}

// watchSteering handles the steering signals until ctx ends: a retire
// lets the upgrades in flight finish (restarter.settle) and hands the
// process over to its drain; an unsteer gives both ports back to the
// kernel's hash.
func (r *restarter) watchSteering(ctx context.Context, sigs steerSignals) {
	if sigs.retire == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-sigs.unsteer:
			r.unsteer()
		case <-sigs.retire:
			if !r.busy.CompareAndSwap(false, true) {
				continue
			}
			r.log.Info("replaced: finishing the upgrades in flight, then draining")
			go func() {
				r.settle()
				close(r.handedOver)
			}()
		}
	}
}

// unsteer gives this process's ports back to the kernel's hash: the
// program is the group's, so one listener per port does it.
func (r *restarter) unsteer() {
	for _, addr := range []string{r.srv.Addr().String(), r.apiAddr()} {
		if fds := listenersOn(addr); len(fds) > 0 {
			if err := handover.Unsteer(fds[0]); err != nil {
				r.log.Warn("unsteer failed", zap.Error(err))
			}
		}
	}
}
