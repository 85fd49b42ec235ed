package server

import (
	"strings"
	"testing"
)

// TestSecondServerOnPort checks that the loops' SO_REUSEPORT listeners do
// not let a second server take the port by mistake: without ReusePort it
// fails with "address in use"; with ReusePort on both, both serve it.
func TestSecondServerOnPort(t *testing.T) {
	cases := []struct {
		name      string
		reusePort bool
		wantErr   string
	}{
		{name: "exclusive", reusePort: false, wantErr: "address in use"},
		{name: "shared on purpose", reusePort: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first := startServer(t, Config{ReusePort: tc.reusePort, Loops: 2})
			second, err := New(Config{Addr: first.Addr().String(), ReusePort: tc.reusePort, Loops: 1,
				Routes: map[string]Handler{"/echo": Echo{}}})
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- second.Serve() }()
			select {
			case err := <-errc:
				if tc.wantErr == "" || err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("second Serve: %v, want an error with %q", err, tc.wantErr)
				}
			case <-second.Ready():
				_ = second.Close()
				<-errc
				if tc.wantErr != "" {
					t.Fatalf("second server listened on %s, want %q", first.Addr(), tc.wantErr)
				}
			}
		})
	}
}
