package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// cutProxy forwards TCP connections to a backend and can cut every one of
// them at once, the way a network drop does, while accepting new ones.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startCutProxy(t *testing.T, backend string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(b, c); _ = b.Close() }()
			go func() { _, _ = io.Copy(c, b); _ = c.Close() }()
		}
	}()
	return p
}

// cut closes every connection made so far.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// sseScript opens an EventSource on the page's own origin and keeps what
// it sees in window.sse for the test to read.
const sseScript = `window.sse = {opens: 0, events: [], recoveries: []};
const es = new EventSource("/sse?topics=tv");
es.onopen = () => window.sse.opens++;
es.onmessage = e => window.sse.events.push({id: e.lastEventId, data: JSON.parse(e.data).data});
es.addEventListener("recovery", e => window.sse.recoveries.push(JSON.parse(e.data)));
true`

// TestSSEInChromium follows /sse with headless Chromium's EventSource
// through a proxy that cuts the connection: the browser reconnects by
// itself with Last-Event-ID and receives, through the recovery path,
// exactly the messages published while it was away.
func TestSSEInChromium(t *testing.T) {
	needChromium(t)
	n := startCommand(t, nil, "--api-key", "k")
	proxy := startCutProxy(t, n.addr)
	browser, _ := startBrowser(t)
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	// A page of the node's own origin that runs nothing: the script below
	// is the only client.
	if err := chromedp.Run(tab, chromedp.Navigate("http://"+proxy.ln.Addr().String()+demoPath+"/myriad.js")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	pageEval[bool](t, tab, sseScript)
	eventually(t, "EventSource open", func() bool { return pageEval[int](t, tab, "window.sse.opens") == 1 })
	eventually(t, "the subscription", func() bool {
		_, body := n.get(t, "/stats", "k")
		return jsonHas(body, `"subscriptions":1`)
	})
	for i := range 3 {
		publishTopic(t, n, "k", "tv", i)
	}
	eventually(t, "three events", func() bool { return pageEval[int](t, tab, "window.sse.events.length") == 3 })
	proxy.cut()
	eventually(t, "the server to see the stream gone", func() bool {
		_, body := n.get(t, "/stats", "k")
		return jsonHas(body, `"subscriptions":0`)
	})
	for i := 3; i < 6; i++ {
		publishTopic(t, n, "k", "tv", i)
	}
	eventually(t, "the reconnect", func() bool { return pageEval[int](t, tab, "window.sse.opens") == 2 })
	eventually(t, "six events", func() bool { return pageEval[int](t, tab, "window.sse.events.length") >= 6 })
	type event struct {
		ID   string `json:"id"`
		Data int    `json:"data"`
	}
	events := pageEval[[]event](t, tab, "window.sse.events")
	if len(events) != 6 {
		t.Fatalf("events %+v, want 6", events)
	}
	for i, e := range events {
		if e.Data != i || e.ID == "" {
			t.Fatalf("event %d: %+v (all %+v)", i, e, events)
		}
	}
	recs := pageEval[[]map[string]any](t, tab, "window.sse.recoveries")
	if len(recs) != 1 || recs[0]["recovered"] != true {
		t.Fatalf("recoveries %v, want one recovered: true", recs)
	}
}

// jsonHas reports whether a compact JSON answer contains fragment.
func jsonHas(body, fragment string) bool { return strings.Contains(body, fragment) }

// publishTopic posts {"n": i} to topic through the API.
func publishTopic(t *testing.T, n *runningNode, key, topic string, i int) {
	t.Helper()
	body := fmt.Sprintf(`{"topic":%q,"data":%d}`, topic, i)
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.apiAddr+"/publish", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: ioWait}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
}
