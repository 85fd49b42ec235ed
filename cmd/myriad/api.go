package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/myriadws/myriad/internal/reuseport"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// apiServer is the HTTP listener of the gateway's publish and admin API.
// The command runs it beside the WebSocket server: bound before the
// server listens (a taken port stops the start), shut down after the
// server has drained.
type apiServer struct {
	hs  *http.Server
	ln  net.Listener
	log *zap.Logger
}

// listenAPI binds addr for h; an empty addr runs no API (nil, nil). The
// listener is always SO_REUSEPORT, so that a restart's new process can
// listen beside it. With reusePort it shares addr on purpose (the
// workers of --workers, a restart's new process); without, it first
// checks that nothing listens on addr, as the server does for its own
// port, so a second server started by mistake fails.
func listenAPI(addr string, reusePort bool, h http.Handler, log *zap.Logger) (*apiServer, error) {
	if addr == "" {
		return nil, nil
	}
	bind := addr
	if !reusePort {
		probe, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("api listen on %s: %w", addr, err)
		}
		bind = probe.Addr().String() // a port 0 resolved
		_ = probe.Close()
	}
	ln, err := reuseport.Listen(context.Background(), "tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("api listen on %s: %w", addr, err)
	}
	ln = newLimitListener(ln, apiMaxConns)
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          zap.NewStdLog(log.Named("api")),
	}
	return &apiServer{hs: hs, ln: ln, log: log}, nil
}

// serve runs the listener on its own goroutine.
func (a *apiServer) serve() {
	if a == nil {
		return
	}
	a.log.Info("api listening", zap.Stringer("addr", a.ln.Addr()))
	go func() {
		if err := a.hs.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("api server stopped", zap.Error(err))
		}
	}()
}

// stop shuts the listener down, letting requests in flight finish for a
// moment. It closes the listener even if serve never ran.
func (a *apiServer) stop() {
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.hs.Shutdown(ctx); err != nil {
		_ = a.hs.Close()
	}
	_ = a.ln.Close()
}

// addr is the listener's address with the port resolved.
func (a *apiServer) addr() string { return a.ln.Addr().String() }

// addrOrNone is addr, or "" when no API runs (a nil a).
func (a *apiServer) addrOrNone() string {
	if a == nil {
		return ""
	}
	return a.addr()
}
