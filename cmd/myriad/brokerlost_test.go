package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// authBroker is a nats-server on loopback that admits one user, so a
// test can refuse a connected node for good.
type authBroker struct {
	ns   *natsserver.Server
	opts natsserver.Options
}

// startAuthBroker runs a broker that admits user "node" with password
// "first"; it is shut down when the test ends.
func startAuthBroker(t *testing.T) *authBroker {
	t.Helper()
	b := &authBroker{opts: natsserver.Options{
		Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, Username: "node", Password: "first", NoLog: true, NoSigs: true,
	}}
	opts := b.opts
	ns, err := natsserver.NewServer(&opts)
	if err != nil {
		t.Fatal(err)
	}
	b.ns = ns
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(ioWait) {
		t.Fatal("nats-server not ready")
	}
	return b
}

// url is the broker's URL with the password the node is let in with.
func (b *authBroker) url() string {
	return fmt.Sprintf("nats://node:first@127.0.0.1:%d", b.ns.Addr().(*net.TCPAddr).Port)
}

// refuse changes the password: the server tells the connected node
// "Authorization Violation" and drops it, and refuses its reconnect the
// same way, which nats.go takes as final (the same error twice in a
// row): it closes the connection for good.
func (b *authBroker) refuse(t *testing.T) {
	t.Helper()
	opts := b.opts
	opts.Password = "second"
	if err := b.ns.ReloadOptions(&opts); err != nil {
		t.Fatal(err)
	}
}

// waitExit waits for the node's run to return and checks its exit code.
func waitExit(t *testing.T, n *runningNode, want int) {
	t.Helper()
	select {
	case <-n.exited:
		if n.code != want {
			t.Fatalf("exit code %d, want %d; stderr: %s", n.code, want, n.stderr.String())
		}
	case <-time.After(ioWait):
		t.Fatalf("no exit; stderr: %s", n.stderr.String())
	}
}

// TestBrokerClosedForGood refuses a serving cluster node's broker login
// so that nats.go closes its connection for good. By default the node
// drains as on SIGTERM (its client gets close 1001) and exits 1, so a
// supervisor starts a fresh process; with --broker-closed=stay it keeps
// serving its clients, and /readyz says why it takes no new ones from a
// load balancer. A node stopped by SIGTERM, whose own shutdown closes
// the broker client, still exits 0.
func TestBrokerClosedForGood(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		event string // "refuse" the login, or "sigterm" the node
		stays bool   // the node keeps serving after a refusal
	}{
		{"exit by default", nil, nil, "refuse", false},
		{"stay", []string{"--broker-closed", "stay"}, nil, "refuse", true},
		{"stay from the environment", nil, map[string]string{"MYRIAD_BROKER_CLOSED": "stay"}, "refuse", true},
		{"own shutdown", nil, nil, "sigterm", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startAuthBroker(t)
			n := startCommand(t, tc.env, append([]string{"--broker", b.url(), "--history-memory", "0"}, tc.args...)...)
			eventually(t, "the broker link", func() bool { s, _ := n.get(t, "/readyz", ""); return s == http.StatusOK })
			c := dialRetry(t, "ws://"+n.addr+"/echo")
			defer c.Close()
			echoOnce(t, c, "before")

			switch {
			case tc.event == "sigterm":
				n.sigs <- syscall.SIGTERM
				expectGoingAway(t, c)
				waitExit(t, n, 0)
			case tc.stays:
				b.refuse(t)
				eventually(t, "/readyz to report the closed broker", func() bool {
					s, body := n.get(t, "/readyz", "")
					return s == http.StatusServiceUnavailable && strings.TrimSpace(body) == "broker closed"
				})
				echoOnce(t, c, "after")
				c2 := dialRetry(t, "ws://"+n.addr+"/echo")
				defer c2.Close()
				echoOnce(t, c2, "new client")
				select {
				case <-n.exited:
					t.Fatalf("node exited with --broker-closed=stay; stderr: %s", n.stderr.String())
				default:
				}
				n.sigs <- syscall.SIGTERM
				expectGoingAway(t, c)
				waitExit(t, n, 0)
			default:
				b.refuse(t)
				expectGoingAway(t, c)
				waitExit(t, n, 1)
				var lines []string
				for _, l := range strings.Split(n.stderr.String(), "\n") {
					if strings.Contains(l, "closed for good") {
						lines = append(lines, l)
					}
				}
				if len(lines) != 1 || !strings.Contains(lines[0], `"level":"error"`) ||
					!strings.Contains(strings.ToLower(lines[0]), `"reason":"nats: authorization violation"`) {
					t.Errorf("want one error line about the closed broker with nats.go's reason; got %q", lines)
				}
				return
			}
			if strings.Contains(n.stderr.String(), "closed for good") {
				t.Errorf("log reports a lost broker: %s", n.stderr.String())
			}
		})
	}
}

// expectGoingAway reads c until the server's close frame and checks it
// is 1001, the drain's.
func expectGoingAway(t *testing.T, c *websocket.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(ioWait))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("got %v, want close 1001", err)
		}
		return
	}
}

// TestBrokerRefusedAtStart starts a node whose broker refuses its login
// from the first attempt: nats.go closes the connection for good right
// away, and the node exits 1 instead of serving cut off from the cluster.
func TestBrokerRefusedAtStart(t *testing.T) {
	b := startAuthBroker(t)
	b.refuse(t)
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"--addr", freePort(t), "--api-addr", freePort(t), "--log-level", "warn",
			"--broker", b.url(), "--history-memory", "0"}, envFrom(nil), io.Discard, &stderr, make(chan os.Signal, 1))
	}()
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(stderr.String(), "broker connection closed for good") {
			t.Fatalf("exit code %d, want 1 after a log of the closed broker; stderr: %s", code, stderr.String())
		}
	case <-time.After(ioWait):
		t.Fatalf("a node whose broker refused it did not exit; stderr: %s", stderr.String())
	}
}
