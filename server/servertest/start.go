package servertest

import (
	"testing"
	"time"

	"github.com/myriadws/myriad/server"
)

// IOTimeout bounds every wait of these helpers, so that a broken server
// fails a test instead of hanging it.
const IOTimeout = 20 * time.Second

// Start runs a server with cfg on a free loopback port and returns it with
// its address (host:port). Without routes it mounts server.Echo on /echo.
// Each setup function runs after server.New and before Serve, for what
// needs the server's loops (a gateway's Attach, per-loop state); an error
// fails the test. The server is closed when the test ends, and the test
// fails if Serve then reports an error or does not return.
func Start(t testing.TB, cfg server.Config, setup ...func(*server.Server) error) (*server.Server, string) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Routes == nil {
		cfg.Routes = map[string]server.Handler{"/echo": server.Echo{}}
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	for _, fn := range setup {
		if err := fn(srv); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case <-srv.Ready():
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	case <-time.After(IOTimeout):
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		_ = srv.Close()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(IOTimeout):
			t.Error("Serve did not return after Close")
		}
	})
	return srv, srv.Addr().String()
}

// Eventually polls cond until it holds, and fails the test with msg if it
// does not within IOTimeout.
func Eventually(t testing.TB, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(IOTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", msg)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
