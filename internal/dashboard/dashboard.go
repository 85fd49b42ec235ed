package dashboard

import (
	"context"
	_ "embed"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

//go:embed static/index.html
var page string

// Paths the Handler answers; everything else is the caller's.
const (
	PagePath = "/"
	DataPath = "/dashboard/data"
	AuthPath = "/dashboard/auth"
)

// readingTimeout bounds one reading: a node too busy to answer within it
// is shown as unreachable for that second rather than stacking requests.
const readingTimeout = 2 * time.Second

// Options configure a Handler. Read is required.
type Options struct {
	// Read returns the reading the page plots, marshalled as JSON. It is
	// called once per poll of every open page, on the request goroutine.
	Read func(ctx context.Context) any
	// Authorize reports whether a data request carries the right key;
	// nil lets every request through.
	Authorize func(r *http.Request) bool
}

// Handler serves the page on PagePath, the readings on DataPath and, on
// AuthPath, whether the readings need a key (so the page asks for one
// before its first poll instead of after a refusal). Other paths get 404.
// Any goroutine may call it.
func Handler(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		switch r.URL.Path {
		case PagePath:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:")
			_, _ = io.WriteString(w, page)
		case AuthPath:
			writeJSON(w, http.StatusOK, map[string]bool{"required": o.Authorize != nil})
		case DataPath:
			if o.Authorize != nil && !o.Authorize(r) {
				w.Header().Set("WWW-Authenticate", "Bearer")
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong API key"})
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), readingTimeout)
			defer cancel()
			writeJSON(w, http.StatusOK, o.Read(ctx))
		default:
			http.NotFound(w, r)
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the reading failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
