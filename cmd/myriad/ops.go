package main

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/http/pprof"
	"strings"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
	"github.com/myriadws/myriad/internal/broker"
	"github.com/myriadws/myriad/internal/dashboard"
	"github.com/myriadws/myriad/internal/metrics"
	"github.com/myriadws/myriad/server"
)

// opsOptions are what the API listener serves beside the gateway's API.
type opsOptions struct {
	srv    *server.Server
	gw     *gateway.Gateway
	broker *broker.Client // nil on a single node
	apiKey string         // empty: no key anywhere
	pprof  bool           // mount net/http/pprof under /debug/pprof/
	ready  *readiness
	log    *zap.Logger
}

// apiHandler routes the API listener: health and readiness (always open,
// for load balancers), metrics, pprof and the dashboard's readings
// (behind the API key when one is set), the dashboard page, and the
// gateway's publish API for everything else.
func apiHandler(o opsOptions) http.Handler {
	mux := http.NewServeMux()
	src := metrics.Sources{Server: o.srv, Gateway: o.gw, Broker: o.broker}
	authorized := func(r *http.Request) bool { return bearerMatches(r, o.apiKey) }
	guard := func(h http.Handler) http.Handler {
		if o.apiKey == "" {
			return h
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !authorized(r) {
				w.Header().Set("WWW-Authenticate", "Bearer")
				http.Error(w, "missing or wrong API key: send Authorization: Bearer <key>", http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	mux.HandleFunc("/healthz", serveHealthz)
	mux.Handle("/readyz", o.ready)
	mux.Handle("/metrics", guard(metrics.Handler(metrics.NewCollector(src), o.log)))
	if o.pprof {
		mux.Handle("/debug/pprof/", guard(http.HandlerFunc(pprof.Index)))
		mux.Handle("/debug/pprof/cmdline", guard(http.HandlerFunc(pprof.Cmdline)))
		mux.Handle("/debug/pprof/profile", guard(http.HandlerFunc(pprof.Profile)))
		mux.Handle("/debug/pprof/symbol", guard(http.HandlerFunc(pprof.Symbol)))
		mux.Handle("/debug/pprof/trace", guard(http.HandlerFunc(pprof.Trace)))
	}
	dopts := dashboard.Options{Read: func(ctx context.Context) any { return metrics.Take(ctx, src) }}
	if o.apiKey != "" {
		dopts.Authorize = authorized
	}
	dash := dashboard.Handler(dopts)
	mux.Handle("/{$}", dash)
	mux.Handle(dashboard.DataPath, dash)
	mux.Handle(dashboard.AuthPath, dash)
	mux.Handle("/", o.gw.APIHandler())
	return mux
}

// bearerMatches reports whether r carries Authorization: Bearer key,
// compared in constant time. An empty key matches every request.
func bearerMatches(r *http.Request, key string) bool {
	if key == "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	if len(auth) < 7 || !strings.EqualFold(auth[:7], "bearer ") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(auth[7:])), []byte(key)) == 1
}

// serveHealthz answers 200 while the process can serve HTTP at all.
func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}
