package server

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// tickStream is a StreamHandler for tests: it answers a chunk-free
// text/plain head, ends at once when the query says "end", refuses
// "deny", and remembers its open streams so the test can write to them
// through their loop.
type tickStream struct {
	mu     sync.Mutex
	open   map[*Conn]bool
	closed int
}

func (h *tickStream) OpenStream(c *Conn, r *UpgradeRequest) error {
	switch r.RawQuery() {
	case "deny":
		return &StatusError{Status: http.StatusForbidden, Reason: "denied"}
	case "end":
		_ = c.SendRaw([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye"), SlowClose)
		c.EndStream()
		return nil
	}
	if err := c.SendRaw([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nhello\n"), SlowClose); err != nil {
		return err
	}
	h.mu.Lock()
	h.open[c] = true
	h.mu.Unlock()
	return nil
}

func (h *tickStream) OnClose(c *Conn, _ CloseInfo) {
	h.mu.Lock()
	delete(h.open, c)
	h.closed++
	h.mu.Unlock()
}

func (h *tickStream) conns() []*Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*Conn
	for c := range h.open {
		out = append(out, c)
	}
	return out
}

func (h *tickStream) closedCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// TestStreams drives Config.Streams over real sockets: the head and first
// bytes, writes posted from another goroutine, heartbeats, EndStream, the
// handler's OnClose, and the refusals (method, upgrade, origin, handler).
func TestStreams(t *testing.T) {
	h := &tickStream{open: map[*Conn]bool{}}
	srv := startServer(t, Config{
		PingInterval:   100 * time.Millisecond,
		CloseTimeout:   300 * time.Millisecond,
		AllowedOrigins: []string{"https://ok.example"},
		Streams:        map[string]Stream{"/s": {Handler: h, Heartbeat: []byte(":\n")}},
	})

	t.Run("refusals", func(t *testing.T) {
		cases := []struct {
			name, request string
			status        int
		}{
			{"post", "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405},
			{"upgrade", upgradeRequest("/s", sampleKey), 404},
			{"bad origin", "GET /s HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n", 403},
			{"handler refuses", "GET /s?deny HTTP/1.1\r\nHost: x\r\n\r\n", 403},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := dialRaw(t, srv)
				c.write([]byte(tc.request))
				resp, err := http.ReadResponse(c.br, nil)
				if err != nil {
					t.Fatalf("read response: %v", err)
				}
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
				}
			})
		}
	})

	t.Run("ended at once", func(t *testing.T) {
		c := dialRaw(t, srv)
		c.write([]byte("GET /s?end HTTP/1.1\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil {
			t.Fatalf("read response: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "bye" {
			t.Fatalf("body %q", body)
		}
		if _, err := c.br.ReadByte(); err != io.EOF {
			t.Fatalf("after the answer: %v, want EOF", err)
		}
	})

	t.Run("held open", func(t *testing.T) {
		before := h.closedCount()
		c := dialRaw(t, srv)
		c.write([]byte("GET /s HTTP/1.1\r\nHost: x\r\nOrigin: https://ok.example\r\n\r\n"))
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("response %v %v", resp, err)
		}
		br := bufio.NewReader(resp.Body)
		expectLine(t, br, "hello")
		expectLine(t, br, ":") // a heartbeat after PingInterval of silence
		var sc *Conn
		waitFor(t, "stream registered", ioTimeout, func() bool {
			if cs := h.conns(); len(cs) == 1 {
				sc = cs[0]
			}
			return sc != nil
		})
		if err := sc.Loop().Post(func() { _ = sc.SendRaw([]byte("event\n"), SlowClose); sc.EndStream() }); err != nil {
			t.Fatalf("post: %v", err)
		}
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if line == "event\n" {
				break
			}
		}
		waitFor(t, "OnClose after EndStream", ioTimeout, func() bool { return h.closedCount() == before+1 })
		if st := srv.Stats(); st.Streams == 0 {
			t.Fatalf("stats count no stream: %+v", st)
		}
	})

	t.Run("client leaves", func(t *testing.T) {
		before := h.closedCount()
		c := dialRaw(t, srv)
		c.write([]byte("GET /s HTTP/1.1\r\nHost: x\r\n\r\n"))
		if _, err := http.ReadResponse(c.br, nil); err != nil {
			t.Fatalf("read response: %v", err)
		}
		_ = c.conn.Close()
		waitFor(t, "OnClose after the client left", ioTimeout, func() bool { return h.closedCount() == before+1 })
	})
}

func expectLine(t *testing.T, br *bufio.Reader, want string) {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil || strings.TrimSuffix(line, "\n") != want {
		t.Fatalf("line %q (%v), want %q", line, err, want)
	}
}

// TestStreamDrain: a drain ends held-open streams (the client sees the
// response end) and runs their handler's OnClose.
func TestStreamDrain(t *testing.T) {
	h := &tickStream{open: map[*Conn]bool{}}
	srv := startServer(t, Config{DrainTimeout: time.Second, Streams: map[string]Stream{"/s": {Handler: h}}})
	c := dialRaw(t, srv)
	c.write([]byte("GET /s HTTP/1.1\r\nHost: x\r\n\r\n"))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	br := bufio.NewReader(resp.Body)
	expectLine(t, br, "hello")
	ch := startDrain(srv)
	if _, err := br.ReadString('\n'); err == nil {
		t.Fatal("the stream went on after the drain")
	}
	r := awaitDrain(t, srv, ch)
	if h.closedCount() != 1 {
		t.Fatalf("OnClose ran %d times, want 1 (report %+v)", h.closedCount(), r.DrainReport)
	}
}
