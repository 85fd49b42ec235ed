package gateway

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/myriadws/myriad/internal/history"
	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// startHistoryGateway runs a gateway with a Local history of hcfg, its
// WebSocket route, SSE and long-poll streams and its API.
func startHistoryGateway(t *testing.T, cfg server.Config, gcfg Config, hcfg history.Config) (*server.Server, *Gateway) {
	t.Helper()
	g, err := New(gcfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	st, err := history.NewLocal(hcfg)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	if err := g.UseHistory(st); err != nil {
		t.Fatalf("UseHistory: %v", err)
	}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	cfg.Routes = map[string]server.Handler{"/ws": g}
	cfg.Streams = g.Streams()
	srv, _ := servertest.Start(t, cfg, g.Attach)
	startAPI(t, g)
	t.Cleanup(func() { _ = st.Close() })
	return srv, g
}

// histMsg is a message with its history position, as any transport
// carries it.
type histMsg struct {
	Type      string                  `json:"type"`
	Topic     string                  `json:"topic"`
	Offset    uint64                  `json:"offset"`
	Epoch     string                  `json:"epoch"`
	Data      json.RawMessage         `json:"data"`
	Error     string                  `json:"error"`
	Recovered *bool                   `json:"recovered"`
	Positions map[string]positionJSON `json:"positions"`
}

// readHist reads one message of a gorilla client with its position.
func (c *gwClient) readHist() histMsg {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	_, b, err := c.c.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m histMsg
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("message %q: %v", b, err)
	}
	return m
}

// sseClient is a raw HTTP client of GET /sse: the request written by hand
// and the event stream parsed line by line, as curl would show it.
type sseClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	resp *http.Response
}

// sseEvent is one event of a stream.
type sseEvent struct {
	id, event, data string
}

// dialSSE requests path (with its query) with extra header lines and
// returns the client once the response head is read.
func dialSSE(t *testing.T, srv *server.Server, pathQuery string, header ...string) *sseClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr().String(), ioTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	req := "GET " + pathQuery + " HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n"
	for _, h := range header {
		req += h + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		t.Fatalf("write: %v", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return &sseClient{t: t, conn: conn, br: bufio.NewReader(resp.Body), resp: resp}
}

// next reads the next event, skipping comments and the retry field.
func (c *sseClient) next() sseEvent {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	var ev sseEvent
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read event: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.data != "" {
				return ev
			}
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry:"):
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		default:
			c.t.Fatalf("unexpected line %q", line)
		}
	}
}

// message decodes an event's data as a message.
func (e sseEvent) message(t *testing.T) histMsg {
	t.Helper()
	var m histMsg
	if err := json.Unmarshal([]byte(e.data), &m); err != nil {
		t.Fatalf("event data %q: %v", e.data, err)
	}
	return m
}

// pollAnswer is the body of GET /poll.
type pollAnswer struct {
	Messages  []histMsg         `json:"messages"`
	Next      map[string]string `json:"next"`
	Recovered *bool             `json:"recovered"`
}

// poll makes one long poll with net/http and decodes the answer.
func poll(t *testing.T, srv *server.Server, query string) (int, pollAnswer) {
	t.Helper()
	cl := &http.Client{Timeout: ioTimeout}
	resp, err := cl.Get("http://" + srv.Addr().String() + "/poll?" + query)
	if err != nil {
		t.Errorf("poll: %v", err)
		return 0, pollAnswer{}
	}
	defer resp.Body.Close()
	var a pollAnswer
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Errorf("poll answer: %v", err)
		}
	}
	return resp.StatusCode, a
}

// startAPI serves g's API on a free loopback port for apiCall.
func startAPI(t *testing.T, g *Gateway) {
	t.Helper()
	api := httptest.NewServer(g.APIHandler())
	t.Cleanup(api.Close)
	apiURLs.Store(g, api.URL)
	t.Cleanup(func() { apiURLs.Delete(g) })
}
