package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func TestParseStreamHead(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nConnection: close\r\n\r\n"
	cases := []struct {
		name    string
		in      string
		n       int
		status  int
		wantErr error
	}{
		{name: "event stream", in: ok + "data: 1\n\n", n: len(ok), status: 200},
		{name: "header case and blanks", in: "HTTP/1.1 200 OK\r\ncontent-type:  Text/Event-Stream\r\n\r\n", n: 53, status: 200},
		{name: "incomplete", in: ok[:30], wantErr: io.ErrShortBuffer},
		{name: "refused", in: "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", n: 45, status: 403},
		{name: "200 not a stream", in: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n", wantErr: errStreamHead},
		{name: "200 without type", in: "HTTP/1.1 200 OK\r\n\r\n", wantErr: errStreamHead},
		{name: "type only in a value", in: "HTTP/1.1 200 OK\r\nX-Note: Content-Type: text/event-stream\r\n\r\n", wantErr: errStreamHead},
		{name: "not http", in: "SSH-2.0-OpenSSH\r\n\r\n", wantErr: errBadStatusLine},
		{name: "short status line", in: "HTTP/1.1 20\r\n\r\n", wantErr: errBadStatusLine},
		{name: "status not a number", in: "HTTP/1.1 2x0 OK\r\n\r\n", wantErr: errBadStatusLine},
		{name: "endless head", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: b\r\n", 2000), wantErr: errResponseTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, status, err := parseStreamHead([]byte(tc.in))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (n != tc.n || status != tc.status) {
				t.Errorf("n, status = %d, %d, want %d, %d", n, status, tc.n, tc.status)
			}
		})
	}
}

func TestSSEURL(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{name: "ws root", in: "ws://127.0.0.1:8080/", want: "http://127.0.0.1:8080/sse?topics=bench"},
		{name: "ws gateway path", in: "ws://127.0.0.1:8080/ws", want: "http://127.0.0.1:8080/sse?topics=bench"},
		{name: "no path", in: "ws://h:1", want: "http://h:1/sse?topics=bench"},
		{name: "own path and topics kept", in: "http://h:1/events?topics=a,b", want: "http://h:1/events?topics=a,b"},
		{name: "token kept", in: "ws://h:1/?token=x", want: "http://h:1/sse?token=x&topics=bench"},
		{name: "wss refused", in: "wss://h:1/"},
		{name: "other scheme refused", in: "ftp://h:1/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SSEURL(tc.in, "bench")
			if tc.want == "" {
				if err == nil {
					t.Fatalf("SSEURL(%q) = %q, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("SSEURL(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// eventLog is a scenario that opens its connections and keeps every event
// they receive, until want events arrived or the connections ended.
type eventLog struct {
	NopHandler
	want int

	mu     sync.Mutex
	events []string // "message:<data>" or "<name>:<data>"
}

func (*eventLog) Name() string     { return "sse" }
func (*eventLog) Check(Plan) error { return nil }

func (e *eventLog) Drive(ctx context.Context, s *Session) error {
	p := s.Plan()
	if err := s.Connect(ctx, ConnectSpec{Count: p.Conns}); err != nil {
		return err
	}
	s.Wait(ctx, p.CloseTimeout, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.events) >= e.want || s.Open() == 0
	})
	return nil
}

func (e *eventLog) Message(_ *Conn, _ ws.OpCode, payload []byte, _ int64) {
	e.add("message:" + string(payload))
}

func (e *eventLog) Event(_ *Conn, name, data []byte, _ int64) {
	e.add(string(name) + ":" + string(data))
}

func (e *eventLog) add(s string) {
	e.mu.Lock()
	e.events = append(e.events, s)
	e.mu.Unlock()
}

// serveRaw answers every connection on a loopback port with body, written
// in pieces of at most chunk bytes, then holds the connection until the
// client closes it. It returns the http:// URL of /sse.
func serveRaw(t *testing.T, body string, chunk int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				if _, err := c.Read(buf); err != nil {
					return
				}
				for b := body; len(b) > 0; {
					n := min(chunk, len(b))
					if _, err := c.Write([]byte(b[:n])); err != nil {
						return
					}
					b = b[n:]
				}
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/sse?topics=t"
}

// TestSSEStreamParsing feeds the stream reader crafted streams over a real
// socket, in small pieces: events split anywhere, CRLF line ends,
// multi-line data, comments, named events, ids and fields it does not
// know, and streams it must refuse.
func TestSSEStreamParsing(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
	cases := []struct {
		name       string
		body       string
		want       []string
		heartbeats int64
		failed     string // failure cause of a refused stream
		dropped    string // drop cause of a stream ended for its content
	}{
		{
			name:       "events in pieces",
			body:       head + "retry: 2000\n\n: hb\n\nid: e/1\ndata: {\"a\":1}\n\n:\n\nid: e/2\r\ndata: two\r\n\r\nevent: recovery\ndata: {\"topic\":\"t\",\"recovered\":false}\n\ndata: line1\ndata: line2\ndata:line3\nfoo: bar\n\n",
			want:       []string{`message:{"a":1}`, "message:two", `recovery:{"topic":"t","recovered":false}`, "message:line1\nline2\nline3"},
			heartbeats: 2,
		},
		{name: "not found", body: "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", failed: "http_404"},
		{name: "not an event stream", body: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>", failed: CauseProtocol},
		{name: "websocket answer", body: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", failed: "http_101"},
		{name: "event without end", body: head + "data: " + strings.Repeat("x", 80<<10), dropped: CauseProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := serveRaw(t, tc.body, 7)
			p := testPlan("sse", 1, u)
			p.MaxMessage = 64 << 10
			p.CloseTimeout = 2 * time.Second
			sc := &eventLog{want: len(tc.want)}
			if tc.want == nil {
				sc.want = 1 << 30
			}
			rep := runScenario(t, p, sc)
			sc.mu.Lock()
			got := append([]string(nil), sc.events...)
			sc.mu.Unlock()
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("events %q, want %q", got, tc.want)
			}
			if tc.want != nil {
				wantCounter(t, rep, CounterSSEHeartbeats, tc.heartbeats)
				wantCounter(t, rep, CounterSSENamedEvents, 1)
			}
			if tc.failed != "" && rep.Failures[tc.failed] != 1 {
				t.Errorf("failures %v, want one %s", rep.Failures, tc.failed)
			}
			if tc.dropped != "" && rep.Drops[tc.dropped] != 1 {
				t.Errorf("drops %v, want one %s", rep.Drops, tc.dropped)
			}
		})
	}
}
