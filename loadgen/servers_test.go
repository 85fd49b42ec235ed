package loadgen

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// gorillaServer is a WebSocket echo server written with gorilla/websocket,
// which this package did not write, counting what it sees so tests can
// compare the load generator's report with the server's own numbers.
type gorillaServer struct {
	URL string

	// pingFirst makes the server ping each connection once after the
	// upgrade; closeEvery > 0 makes it close every closeEvery-th
	// connection with 1001 right after that.
	pingFirst  bool
	closeEvery int64

	upgraded atomic.Int64 // upgrades completed
	open     atomic.Int64 // connections currently upgraded
	msgsIn   atomic.Int64 // data messages read
	msgsOut  atomic.Int64 // data messages echoed
	pongs    atomic.Int64
	closed   atomic.Int64 // connections the server closed with 1001

	mu      sync.Mutex
	remotes map[string]int // upgrades per client IP
}

// byClientIP returns the number of upgrades from each client address.
func (s *gorillaServer) byClientIP() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.remotes {
		out[k] = v
	}
	return out
}

func startGorilla(t *testing.T, pingFirst bool, closeEvery int64) *gorillaServer {
	t.Helper()
	s := &gorillaServer{pingFirst: pingFirst, closeEvery: closeEvery, remotes: map[string]int{}}
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			s.mu.Lock()
			s.remotes[host]++
			s.mu.Unlock()
		}
		n := s.upgraded.Add(1)
		s.open.Add(1)
		defer s.open.Add(-1)
		c.SetPongHandler(func(string) error {
			s.pongs.Add(1)
			return nil
		})
		deadline := time.Now().Add(5 * time.Second)
		if s.pingFirst {
			if err := c.WriteControl(websocket.PingMessage, []byte("are you there"), deadline); err != nil {
				return
			}
		}
		if s.closeEvery > 0 && n%s.closeEvery == 0 {
			msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye")
			if err := c.WriteControl(websocket.CloseMessage, msg, deadline); err != nil {
				return
			}
			s.closed.Add(1)
			// Read until the client's close reply (pongs first).
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			s.msgsIn.Add(1)
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
			s.msgsOut.Add(1)
		}
	}))
	t.Cleanup(hs.Close)
	s.URL = "ws" + strings.TrimPrefix(hs.URL, "http") + "/echo"
	return s
}

// rawServer accepts TCP connections on 127.0.0.1:0 and hands each to
// handle in its own goroutine. Everything is closed at cleanup.
type rawServer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startRaw(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &rawServer{ln: ln}
	rs.wg.Add(1)
	go func() {
		defer rs.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			rs.mu.Lock()
			rs.conns = append(rs.conns, c)
			rs.mu.Unlock()
			rs.wg.Add(1)
			go func() {
				defer rs.wg.Done()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		rs.mu.Lock()
		for _, c := range rs.conns {
			c.Close()
		}
		rs.mu.Unlock()
		rs.wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/"
}

// readRequestHead reads an HTTP request head and returns its header lines.
func readRequestHead(t *testing.T, br *bufio.Reader) []string {
	var lines []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return lines
		}
		lines = append(lines, line)
	}
}

func headerValue(lines []string, name string) string {
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// closedPortURL returns a ws:// URL on a loopback port nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "ws://" + addr + "/"
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if waitFor(ctx, 10*time.Millisecond, cond) != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// testPlan is a small plan with short phases for tests.
func testPlan(scenario string, conns int, urls ...string) Plan {
	return Plan{
		Scenario:         scenario,
		Targets:          urls,
		Conns:            conns,
		Duration:         time.Second,
		Settle:           100 * time.Millisecond,
		HandshakeTimeout: 5 * time.Second,
		CloseTimeout:     5 * time.Second,
		DialWorkers:      8,
	}
}

func runPlan(t *testing.T, p Plan) *Report {
	t.Helper()
	sc, err := NewScenario(p.Scenario)
	if err != nil {
		t.Fatal(err)
	}
	return runScenario(t, p, sc)
}

// runScenario runs sc, configured by the caller, according to p.
func runScenario(t *testing.T, p Plan, sc Scenario) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, p, sc, Options{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}
