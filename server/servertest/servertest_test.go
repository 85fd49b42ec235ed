package servertest_test

import (
	"net/http"
	"testing"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// TestStartAndDial runs the default echo route, upgrades with the raw
// client, echoes a frame, refuses an unknown path, and closes cleanly.
func TestStartAndDial(t *testing.T) {
	srv, addr := servertest.Start(t, server.Config{})
	c := servertest.Dial(t, addr, "/echo")
	c.Send(true, ws.OpText, []byte("hello"))
	c.ExpectMessage(ws.OpText, []byte("hello"))
	c.Send(true, ws.OpClose, []byte{0x03, 0xe8})
	c.ExpectClose(ws.StatusNormalClosure)
	servertest.Eventually(t, func() bool { return srv.Stats().Open == 0 }, "the connection to close")

	bad := servertest.DialTCP(t, addr)
	bad.Write([]byte(servertest.UpgradeRequest("/nowhere", servertest.NewKey(t))))
	if resp := bad.ReadResponse(); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
}
