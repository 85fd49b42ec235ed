package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"
)

// maxJWKSBytes bounds a JWKS document: a few keys take a few KiB.
const maxJWKSBytes = 1 << 20

// DefaultJWKSRefresh is how often a JWKSFetcher reloads its document
// unless told otherwise.
const DefaultJWKSRefresh = 5 * time.Minute

// JWKSFetcher keeps a KeySet's JWKS keys current: it loads a JWK Set from
// an http(s) URL or a file path, at once and then every Refresh, on one
// goroutine for the whole process (Run), never per connection. A failed
// load keeps the keys it had, so an identity provider's outage does not
// lock every client out; it is logged.
type JWKSFetcher struct {
	// Source is an http:// or https:// URL, or a file path.
	Source string
	// Refresh is the time between loads; zero is DefaultJWKSRefresh.
	Refresh time.Duration
	// Client fetches URLs; nil is a client with a 10 s timeout.
	Client *http.Client
	// Keys receives the keys (KeySet.SetJWKS).
	Keys *KeySet
	// Log reports failed loads and key rotations; nil logs nothing.
	Log *zap.Logger
}

// Load fetches the document once and installs its keys. Any goroutine
// may call it.
func (f *JWKSFetcher) Load(ctx context.Context) error {
	doc, err := f.read(ctx)
	if err != nil {
		return err
	}
	return f.Keys.SetJWKS(doc)
}

func (f *JWKSFetcher) read(ctx context.Context) ([]byte, error) {
	if !strings.HasPrefix(f.Source, "http://") && !strings.HasPrefix(f.Source, "https://") {
		fh, err := os.Open(f.Source)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		return io.ReadAll(io.LimitReader(fh, maxJWKSBytes))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.Source, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	cl := f.Client
	if cl == nil {
		cl = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", f.Source, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
}

// Run reloads the document every Refresh until ctx ends. Call it on one
// goroutine; it does not load at once (call Load first to fail fast).
func (f *JWKSFetcher) Run(ctx context.Context) {
	log := f.Log
	if log == nil {
		log = zap.NewNop()
	}
	every := f.Refresh
	if every <= 0 {
		every = DefaultJWKSRefresh
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := f.Load(ctx); err != nil && ctx.Err() == nil {
			log.Warn("jwks reload failed; keeping the previous keys", zap.String("source", f.Source), zap.Error(err))
		}
	}
}
