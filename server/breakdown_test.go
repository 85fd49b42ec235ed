package server

import (
	"net/http"
	"testing"

	"github.com/gobwas/ws"
)

// TestBreakdown drives upgrades that succeed and fail, messages and
// closes over real sockets, and checks each lands in its labelled counter.
func TestBreakdown(t *testing.T) {
	srv := startServer(t, Config{Routes: map[string]Handler{"/echo": Echo{}, "/other": Echo{}}})

	a := upgradeRaw(t, srv, "/echo")
	b := upgradeRaw(t, srv, "/echo")
	upgradeRaw(t, srv, "/other")
	waitFor(t, "three upgrades", ioTimeout, func() bool { return srv.Stats().Upgraded == 3 })
	routes := srv.Breakdown().Routes
	want := []RouteOpen{{"/echo", 2}, {"/other", 1}}
	if len(routes) != 2 || routes[0] != want[0] || routes[1] != want[1] {
		t.Fatalf("routes %+v, want %+v", routes, want)
	}

	a.send(true, ws.OpText, []byte("hello"))
	a.expectMessage(ws.OpText, []byte("hello"))
	// The echo is counted just after it is written: poll.
	waitFor(t, "5 bytes in and out", ioTimeout, func() bool {
		st := srv.Stats()
		return st.BytesIn == 5 && st.BytesOut == 5
	})

	refusals := []struct {
		name   string
		req    string
		status int
	}{
		{"unknown path", upgradeRequest("/nowhere", "dGhlIHNhbXBsZSBub25jZQ=="), http.StatusNotFound},
		{"not GET", "POST /echo HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusMethodNotAllowed},
		{"garbage", "\x00\x01 nonsense\r\n\r\n", http.StatusBadRequest},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, srv)
			c.write([]byte(tc.req))
			c.expectStatus(tc.status)
		})
	}

	a.send(true, ws.OpClose, closeBody(1000, "bye"))
	a.expectClose(1000)
	b.send(true, ws.OpClose, closeBody(4321, "app"))
	b.expectClose(4321)
	waitFor(t, "two closes", ioTimeout, func() bool { return srv.Stats().Upgraded == 1 })

	bd := srv.Breakdown()
	gotRefusals := map[int]uint64{}
	for _, r := range bd.Refusals {
		gotRefusals[r.Status] = r.Count
	}
	for _, tc := range refusals {
		if gotRefusals[tc.status] != 1 {
			t.Errorf("refusals %v: want one %d", gotRefusals, tc.status)
		}
	}
	gotCloses := map[CloseCount]bool{}
	for _, c := range bd.Closes {
		gotCloses[c] = true
	}
	for _, c := range []CloseCount{{ReasonPeerClose, 1000, 1}, {ReasonPeerClose, OtherCode, 1}} {
		if !gotCloses[c] {
			t.Errorf("closes %+v: want %+v", bd.Closes, c)
		}
	}
	if bd.Routes[0].Open != 0 || bd.Routes[1].Open != 1 {
		t.Errorf("routes after closes %+v", bd.Routes)
	}
	var n uint64
	for _, c := range bd.Handshake.Counts {
		n += c
	}
	if n != 3 || len(bd.Handshake.Counts) != len(bd.Handshake.Bounds)+1 {
		t.Errorf("handshake histogram %+v: want 3 observations", bd.Handshake)
	}
	// The loops' shares add up to the server's count once the refused
	// connections have gone.
	waitFor(t, "the loops' connection counts", ioTimeout, func() bool {
		var open int64
		for _, l := range srv.Loops() {
			open += l.Stats().Open
		}
		return open == 1 && srv.Stats().Open == 1
	})
}
