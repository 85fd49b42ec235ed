package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/panjf2000/gnet/v2"

	"github.com/myriadws/myriad/handshake"
)

// MaxPageBytes bounds a Page's body. Pages are for a small demo or status
// page next to the WebSocket endpoints, answered from memory by the event
// loop; anything larger belongs on a real HTTP server.
const MaxPageBytes = 1 << 20

// Page is a static HTTP response the reactor serves from memory for a
// plain GET or HEAD of its path (Config.Pages): no goroutine, no copy, no
// per-connection state beyond the Conn. The response says Connection:
// close, and the connection is closed once it is written (or, if the
// kernel did not take it all at once, when the client closes or
// CloseTimeout passes).
type Page struct {
	// ContentType is the Content-Type header, e.g. "text/html;
	// charset=utf-8". Required.
	ContentType string
	// Body is the response body. The server keeps its own copy.
	Body []byte
	// CacheControl is the Cache-Control header; empty means "no-cache".
	CacheControl string
}

// errPageMethod answers a method other than GET or HEAD on a page.
var errPageMethod = &httpError{status: http.StatusMethodNotAllowed, reason: "only GET and HEAD are allowed here", header: "Allow: GET, HEAD\r\n"}

// pageResponse is a page's two complete answers, rendered once by New.
type pageResponse struct {
	get  []byte // head and body
	head []byte // head only, for HEAD
}

// renderPage renders p's responses.
func renderPage(p Page) *pageResponse {
	cc := p.CacheControl
	if cc == "" {
		cc = "no-cache"
	}
	var b []byte
	b = append(b, "HTTP/1.1 200 OK\r\nContent-Type: "...)
	b = append(b, p.ContentType...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(p.Body)), 10)
	b = append(b, "\r\nCache-Control: "...)
	b = append(b, cc...)
	b = append(b, "\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"...)
	head := b[:len(b):len(b)]
	return &pageResponse{get: append(append([]byte(nil), head...), p.Body...), head: head}
}

// validatePage checks one entry of Config.Pages.
func validatePage(path string, p Page, routes map[string]Handler) []error {
	var errs []error
	if !strings.HasPrefix(path, "/") {
		errs = append(errs, fmt.Errorf("page %q must start with /", path))
	}
	if _, ok := routes[path]; ok {
		errs = append(errs, fmt.Errorf("page %q is also a route", path))
	}
	if p.ContentType == "" || !headerValueOK(p.ContentType) {
		errs = append(errs, fmt.Errorf("page %q needs a Content-Type without control characters", path))
	}
	if !headerValueOK(p.CacheControl) {
		errs = append(errs, fmt.Errorf("page %q: Cache-Control has control characters", path))
	}
	if len(p.Body) > MaxPageBytes {
		errs = append(errs, fmt.Errorf("page %q: body of %d bytes is over %d", path, len(p.Body), MaxPageBytes))
	}
	return errs
}

// headerValueOK reports whether v may be written as a header value as is.
func headerValueOK(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// servePage answers a request for a page. An upgrade request there is
// refused as on any path without a WebSocket endpoint. When the kernel
// takes the whole response at once the connection is closed now;
// otherwise gnet sends the rest as the socket allows, and the connection
// waits in statePage for the client to close, at most CloseTimeout.
func (l *loop) servePage(c *Conn, pr *pageResponse, req *handshake.Request) gnet.Action {
	if req.Upgrade {
		return l.reject(c, errNotFound)
	}
	var resp []byte
	switch string(req.Method) {
	case http.MethodGet:
		resp = pr.get
	case http.MethodHead:
		resp = pr.head
	default:
		return l.reject(c, errPageMethod)
	}
	l.stats.pages.Add(1)
	c.code = http.StatusOK
	l.writeRaw(c, resp)
	_, _ = c.gc.Discard(-1)
	if c.gc.OutboundBuffered() == 0 {
		l.kill(c)
		return gnet.Close
	}
	c.state = statePage
	now := l.srv.nowMs()
	c.last = uint32(now)
	l.wheel.remove(c)
	l.wheel.add(c, now+l.srv.closeMs)
	return gnet.None
}
