package server

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// pageConfig mounts a small page and a large one (larger than a socket's
// send buffer takes at once) beside /echo.
func pageConfig() Config {
	return Config{
		CloseTimeout: 300 * time.Millisecond,
		Pages: map[string]Page{
			"/demo":     {ContentType: "text/html; charset=utf-8", Body: []byte("<!doctype html><p>hi</p>\n")},
			"/demo/big": {ContentType: "application/octet-stream", Body: bytes.Repeat([]byte("0123456789abcdef"), 64<<10), CacheControl: "max-age=60"},
		},
	}
}

// TestPages requests the pages over real sockets: GET gets the body, HEAD
// the same head without it, other methods 405, an upgrade 404, and the
// server closes the connection after each answer.
func TestPages(t *testing.T) {
	srv := startServer(t, pageConfig())
	cases := []struct {
		name, request string
		status        int
		body          string // "" checks nothing
		contentLength string
		cacheControl  string
		allow         string
	}{
		{name: "get", request: "GET /demo HTTP/1.1\r\nHost: x\r\n\r\n", status: 200,
			body: "<!doctype html><p>hi</p>\n", contentLength: "25", cacheControl: "no-cache"},
		{name: "get with query", request: "GET /demo?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", status: 200,
			body: "<!doctype html><p>hi</p>\n"},
		{name: "head", request: "HEAD /demo HTTP/1.1\r\nHost: x\r\n\r\n", status: 200, contentLength: "25"},
		{name: "post", request: "POST /demo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", status: 405, allow: "GET, HEAD"},
		{name: "upgrade on a page", request: upgradeRequest("/demo", sampleKey), status: 404},
		{name: "unknown path", request: "GET /demo/nope HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
		{name: "http/1.0", request: "GET /demo HTTP/1.0\r\n\r\n", status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, srv)
			c.write([]byte(tc.request))
			// The request's method tells ReadResponse whether a body follows.
			method, _, _ := strings.Cut(tc.request, " ")
			resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
			if err != nil {
				t.Fatalf("read response: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.body != "" && string(body) != tc.body {
				t.Fatalf("body %q, want %q", body, tc.body)
			}
			if strings.HasPrefix(tc.request, "HEAD") && len(body) != 0 {
				t.Fatalf("HEAD answered with a body %q", body)
			}
			for h, want := range map[string]string{"Content-Length": tc.contentLength, "Cache-Control": tc.cacheControl, "Allow": tc.allow} {
				if got := resp.Header.Get(h); want != "" && got != want {
					t.Fatalf("%s %q, want %q", h, got, want)
				}
			}
			if !resp.Close {
				t.Fatal("response without Connection: close")
			}
			c.expectEOF()
		})
	}
	if st := srv.Stats(); st.Pages != 3 {
		t.Fatalf("stats count %d pages, want 3", st.Pages)
	}
}

// TestPageLarge fetches a page larger than the socket takes at once with
// net/http: every byte arrives, though the answer is still being sent
// when the event loop returns.
func TestPageLarge(t *testing.T) {
	srv := startServer(t, pageConfig())
	want := pageConfig().Pages["/demo/big"].Body
	cl := http.Client{Timeout: ioTimeout}
	resp, err := cl.Get("http://" + srv.Addr().String() + "/demo/big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, want) || resp.Header.Get("Cache-Control") != "max-age=60" {
		t.Fatalf("got %d bytes (%v), Cache-Control %q; want %d bytes", len(got), err, resp.Header.Get("Cache-Control"), len(want))
	}
	waitFor(t, "the connection to close", ioTimeout, func() bool { return srv.Stats().Open == 0 })
}

// TestPageUnreadClosed requests the large page and never reads it: the
// server closes the connection after CloseTimeout rather than keep it.
// (What the client then reads of the truncated answer depends on the
// kernels' windows, so only the server's count is checked.)
func TestPageUnreadClosed(t *testing.T) {
	srv := startServer(t, pageConfig())
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	if _, err := conn.Write([]byte("GET /demo/big HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server to answer", ioTimeout, func() bool { return srv.Stats().Pages == 1 })
	waitFor(t, "the unread connection to be closed", ioTimeout, func() bool { return srv.Stats().Open == 0 })
}

// TestPageValidate refuses pages that cannot be served.
func TestPageValidate(t *testing.T) {
	html := "text/html"
	cases := []struct {
		name  string
		pages map[string]Page
		want  string
	}{
		{"relative path", map[string]Page{"demo": {ContentType: html}}, "must start with /"},
		{"also a route", map[string]Page{"/echo": {ContentType: html}}, "also a route"},
		{"no content type", map[string]Page{"/demo": {}}, "Content-Type"},
		{"header injection", map[string]Page{"/demo": {ContentType: "text/html\r\nSet-Cookie: a=b"}}, "Content-Type"},
		{"cache control injection", map[string]Page{"/demo": {ContentType: html, CacheControl: "x\ny"}}, "Cache-Control"},
		{"too large", map[string]Page{"/demo": {ContentType: html, Body: make([]byte, MaxPageBytes+1)}}, "over"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Routes: map[string]Handler{"/echo": Echo{}}, Pages: tc.pages}
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
