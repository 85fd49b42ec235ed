package loadgen

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net"
	"os"
	"testing"
	"time"
	"unsafe"

	"github.com/gobwas/ws"
	"go.uber.org/zap"

	"github.com/myriadws/myriad/frame"
)

func TestMain(m *testing.M) {
	// TestProcs re-executes this test binary as its workers.
	if os.Getenv("LOADGEN_TEST_WORKER") == "1" {
		if err := ServeWorker(context.Background(), os.Stdin, os.Stdout, zap.NewNop()); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// wantCounter fails the test if the report's counter differs from want.
func wantCounter(t *testing.T, rep *Report, name string, want int64) {
	t.Helper()
	if got := rep.Counters[name]; got != want {
		t.Errorf("counter %s = %d, want %d (counters %v, failures %v, drops %v)", name, got, want, rep.Counters, rep.Failures, rep.Drops)
	}
}

func TestIdleAgainstGorilla(t *testing.T) {
	const conns, closeEvery = 200, 10
	srv := startGorilla(t, true, closeEvery)
	p := testPlan("idle", conns, srv.URL)
	p.ServerPIDs = []int{os.Getpid()}
	rep := runPlan(t, p)

	wantCounter(t, rep, CounterUpgraded, conns)
	wantCounter(t, rep, CounterFailed, 0)
	eventually(t, "server upgrades", func() bool { return srv.upgraded.Load() == conns })
	// The server pinged every connection, and closed every tenth: the
	// report must have answered every ping and seen each close as a drop.
	wantCounter(t, rep, CounterPings, conns)
	eventually(t, "pongs at the server", func() bool { return srv.pongs.Load() == conns })
	wantCounter(t, rep, CounterDropped, srv.closed.Load())
	if got := rep.Drops[CloseCause(1001)]; got != srv.closed.Load() {
		t.Errorf("drops close_1001 = %d, server closed %d", got, srv.closed.Load())
	}
	wantCounter(t, rep, CounterClosed, conns-srv.closed.Load())
	wantCounter(t, rep, CounterOpenAtEnd, conns-srv.closed.Load())
	eventually(t, "server connections closed", func() bool { return srv.open.Load() == 0 })

	if got := rep.Latency[HistConnect].Summary().Count; got != conns {
		t.Errorf("connect histogram holds %d values, want %d", got, conns)
	}
	if rep.Memory.LoadgenRSSAfter <= 0 || rep.Memory.LoadgenConns <= 0 {
		t.Errorf("loadgen memory not sampled: %+v", rep.Memory)
	}
	if len(rep.Memory.Servers) != 1 || rep.Memory.Servers[0].RSSAfter <= 0 {
		t.Errorf("server memory not sampled: %+v", rep.Memory.Servers)
	}
}

func TestEchoAgainstGorilla(t *testing.T) {
	srv := startGorilla(t, false, 0)
	p := testPlan("echo", 50, srv.URL)
	p.MsgRate = 20
	p.Size = 100
	rep := runPlan(t, p)

	sent, recv := rep.Counters[CounterMsgsOut], rep.Counters[CounterMsgsIn]
	if sent == 0 {
		t.Fatalf("no messages sent: %v", rep.Counters)
	}
	wantCounter(t, rep, CounterUpgraded, 50)
	wantCounter(t, rep, CounterMsgsIn, sent)
	wantCounter(t, rep, CounterBytesOut, sent*100)
	wantCounter(t, rep, CounterBytesIn, sent*100)
	wantCounter(t, rep, CounterEchoGaps, 0)
	wantCounter(t, rep, CounterEchoReordered, 0)
	wantCounter(t, rep, CounterEchoLost, 0)
	eventually(t, "server message counts", func() bool {
		return srv.msgsIn.Load() == sent && srv.msgsOut.Load() == recv
	})
	if got := rep.Latency[HistRTT].Summary().Count; got != recv {
		t.Errorf("rtt histogram holds %d values, want %d", got, recv)
	}
}

func TestChurnAgainstGorilla(t *testing.T) {
	srv := startGorilla(t, false, 0)
	p := testPlan("churn", 10, srv.URL)
	p.Rate = 100 // 100 connections over 1 s, each living 0.1 s
	rep := runPlan(t, p)

	wantCounter(t, rep, CounterPlanned, 100)
	wantCounter(t, rep, CounterUpgraded, 100)
	wantCounter(t, rep, CounterClosed, 100)
	wantCounter(t, rep, CounterDropped, 0)
	wantCounter(t, rep, CounterFailed, 0)
	eventually(t, "server upgrades", func() bool { return srv.upgraded.Load() == 100 })
	eventually(t, "server connections closed", func() bool { return srv.open.Load() == 0 })
	if got := rep.Latency[HistConnect].Summary().Count; got != 100 {
		t.Errorf("connect histogram holds %d values, want 100", got)
	}
}

func TestTwoTargetsRoundRobin(t *testing.T) {
	a, b := startGorilla(t, false, 0), startGorilla(t, false, 0)
	p := testPlan("idle", 101, a.URL, b.URL)
	// One server PID per target: each is charged with its own target's
	// connections (both servers live in this process here).
	p.ServerPIDs = []int{os.Getpid(), os.Getpid()}
	rep := runPlan(t, p)
	wantCounter(t, rep, CounterUpgraded, 101)
	eventually(t, "upgrades spread over both targets", func() bool {
		return a.upgraded.Load() == 51 && b.upgraded.Load() == 50
	})
	if sv := rep.Memory.Servers; len(sv) != 2 || sv[0].Conns != 51 || sv[1].Conns != 50 {
		t.Errorf("server memory samples %+v, want 51 and 50 connections", sv)
	}
}

func TestSourceAddresses(t *testing.T) {
	srv := startGorilla(t, false, 0)
	p := testPlan("idle", 60, srv.URL)
	var err error
	p.Sources, err = ParseSources("127.0.0.2-127.0.0.4")
	if err != nil {
		t.Fatal(err)
	}
	rep := runPlan(t, p)
	wantCounter(t, rep, CounterUpgraded, 60)
	wantCounter(t, rep, CounterFailed, 0)
	// The connections came from the three source addresses, evenly.
	eventually(t, "upgrades from every source", func() bool {
		got := srv.byClientIP()
		return len(got) == 3 && got["127.0.0.2"] == 20 && got["127.0.0.3"] == 20 && got["127.0.0.4"] == 20
	})
}

func TestFailureCauses(t *testing.T) {
	const conns, retries = 20, 1
	tests := []struct {
		name  string
		url   func(t *testing.T) string
		cause string
	}{
		{
			name:  "closed port is refused",
			url:   closedPortURL,
			cause: CauseRefused,
		},
		{
			name: "503 is counted with its status",
			url: func(t *testing.T) string {
				return startRaw(t, func(c net.Conn) {
					if readRequestHead(t, bufio.NewReader(c)) == nil {
						return
					}
					_, _ = io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
					c.Close()
				})
			},
			cause: HTTPCause(503),
		},
		{
			name: "silent server times out",
			url: func(t *testing.T) string {
				return startRaw(t, func(c net.Conn) {
					_, _ = io.Copy(io.Discard, c) // read, never answer
				})
			},
			cause: CauseTimeout,
		},
		{
			name: "server that hangs up is a reset",
			url: func(t *testing.T) string {
				return startRaw(t, func(c net.Conn) {
					_ = c.(*net.TCPConn).SetLinger(0)
					c.Close()
				})
			},
			cause: CauseReset,
		},
		{
			name: "wrong accept value is a protocol failure",
			url: func(t *testing.T) string {
				return startRaw(t, func(c net.Conn) {
					if readRequestHead(t, bufio.NewReader(c)) == nil {
						return
					}
					_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n")
					_, _ = io.Copy(io.Discard, c)
				})
			},
			cause: CauseProtocol,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlan("idle", conns, tc.url(t))
			p.Retries = retries
			p.HandshakeTimeout = 300 * time.Millisecond
			p.Duration = 100 * time.Millisecond
			rep := runPlan(t, p)

			wantCounter(t, rep, CounterUpgraded, 0)
			wantCounter(t, rep, CounterFailed, conns)
			wantCounter(t, rep, CounterRetries, conns*retries)
			wantCounter(t, rep, CounterAttempts, conns*(retries+1))
			if got := rep.Failures[tc.cause]; got != conns*(retries+1) {
				t.Errorf("failures[%s] = %d, want %d (all: %v)", tc.cause, got, conns*(retries+1), rep.Failures)
			}
		})
	}
}

// TestConnSize keeps the per-connection state within one 128-byte size
// class: it is most of what the load generator itself adds per idle
// connection.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 128 {
		t.Fatalf("Conn is %d bytes, budget 128", n)
	}
}

// TestPartialInputFragmentsAndPing has a hand-written server send the 101
// response, a ping and a message in two fragments one byte per write, and
// checks that the load generator parsed all of it and answered the ping.
func TestPartialInputFragmentsAndPing(t *testing.T) {
	pongs := make(chan []byte, 1)
	url := startRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		head := readRequestHead(t, br)
		if head == nil {
			return
		}
		sum := sha1.Sum([]byte(headerValue(head, "Sec-WebSocket-Key") + websocketGUID))
		var out []byte
		out = append(out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
		out = append(out, base64.StdEncoding.EncodeToString(sum[:])+"\r\n\r\n"...)
		out = frame.AppendFrame(out, true, ws.OpPing, []byte("ping!"))
		out = frame.AppendFrame(out, false, ws.OpText, []byte("hello, "))
		out = frame.AppendFrame(out, true, ws.OpContinuation, []byte("world"))
		for i := range out {
			if _, err := c.Write(out[i : i+1]); err != nil {
				return
			}
		}
		// Read the pong: a masked control frame.
		var hdr [2 + 4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		n := int(hdr[1] & 0x7f)
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return
		}
		var mask [4]byte
		copy(mask[:], hdr[2:])
		frame.Unmask(payload, mask, 0)
		if hdr[0]&0x0f == byte(ws.OpPong) {
			pongs <- payload
		}
		_, _ = io.Copy(io.Discard, br)
	})
	p := testPlan("idle", 1, url)
	p.Duration = 300 * time.Millisecond
	p.CloseTimeout = 100 * time.Millisecond // this server never answers a close
	rep := runPlan(t, p)
	wantCounter(t, rep, CounterUpgraded, 1)
	wantCounter(t, rep, CounterCloseTimedOut, 1)
	wantCounter(t, rep, CounterMsgsIn, 1)
	wantCounter(t, rep, CounterBytesIn, int64(len("hello, world")))
	wantCounter(t, rep, CounterPings, 1)
	select {
	case got := <-pongs:
		if string(got) != "ping!" {
			t.Errorf("pong payload %q, want %q", got, "ping!")
		}
	case <-time.After(30 * time.Second):
		t.Error("the server received no pong")
	}
}
