package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPage is served on 127.0.0.1 and exercised by headless Chromium.
// runTest opens a WebSocket, echoes text and binary messages through it,
// closes with 4001 and resolves to a report of what came back. The page
// only reports; the Go test judges.
const chromiumPage = `<!doctype html>
<meta charset="utf-8">
<title>myriad interop</title>
<script>
function textPayload(n) {
  const runes = ["a", "é", "€", "😀"];
  let s = "", size = 0;
  for (let i = 0; size < n; i++) {
    let r = runes[i % runes.length];
    let b = new TextEncoder().encode(r).length;
    if (size + b > n) { r = "z"; b = 1; }
    s += r; size += b;
  }
  return s;
}

function equal(a, b) {
  if (typeof a === "string" || typeof b === "string") return a === b;
  const x = new Uint8Array(a), y = new Uint8Array(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function size(d) { return typeof d === "string" ? d.length : d.byteLength; }

async function runTest(url, protocols) {
  const report = {opened: false, messages: []};
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const inbox = [], waiting = [];
  ws.onmessage = e => waiting.length ? waiting.shift()(e.data) : inbox.push(e.data);
  const next = () => inbox.length ? Promise.resolve(inbox.shift()) : new Promise(r => waiting.push(r));
  const closed = new Promise(r => ws.onclose = e => r({code: e.code, reason: e.reason, clean: e.wasClean}));
  const opened = await new Promise(r => { ws.onopen = () => r(true); ws.onerror = () => r(false); });
  if (!opened) {
    report.close = await closed;
    return report;
  }
  report.opened = true;
  report.extensions = ws.extensions;
  report.protocol = ws.protocol;

  const random = new Uint8Array(64 * 1024);
  let seed = 12345;
  for (let i = 0; i < random.length; i++) { seed = (seed * 1103515245 + 12345) >>> 0; random[i] = seed >>> 24; }
  const repeated = new Uint8Array(100 * 1024);
  for (let i = 0; i < repeated.length; i++) repeated[i] = i % 7;
  const messages = [
    ["text short", "hello from chromium"],
    ["text 64KiB", textPayload(64 * 1024)],
    ["text 1MiB", textPayload(1024 * 1024)],
    ["binary repeated 100KiB", repeated.buffer],
    ["binary random 64KiB", random.buffer],
    ["text empty", ""],
  ];
  for (const [name, data] of messages) {
    ws.send(data);
    const got = await next();
    report.messages.push({name, sentType: typeof data, gotType: typeof got, sentLen: size(data), gotLen: size(got), equal: equal(data, got)});
  }
  ws.close(4001, "bye");
  report.close = await closed;
  return report;
}
</script>
`

type chromiumReport struct {
	Opened     bool   `json:"opened"`
	Extensions string `json:"extensions"`
	Protocol   string `json:"protocol"`
	Messages   []struct {
		Name     string `json:"name"`
		SentType string `json:"sentType"`
		GotType  string `json:"gotType"`
		SentLen  int    `json:"sentLen"`
		GotLen   int    `json:"gotLen"`
		Equal    bool   `json:"equal"`
	} `json:"messages"`
	Close struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
		Clean  bool   `json:"clean"`
	} `json:"close"`
}

// startChromium runs one headless Chromium for the test, with a fresh
// profile, and returns a context for opening tabs in it.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	profile, err := os.MkdirTemp("", "myriad-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*ioTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser, wait for it to exit, then remove its
		// profile; helper processes may still be writing to it for a
		// moment after the browser process has gone.
		_ = chromedp.Cancel(browserCtx)
		cancelBrowser()
		cancelAlloc()
		cancel()
		waitFor(t, "the Chromium profile to be removed", ioTimeout, func() bool {
			return os.RemoveAll(profile) == nil
		})
	})
	if err := chromedp.Run(browserCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browserCtx
}

// servePage serves chromiumPage on 127.0.0.1 and returns its URL and
// origin.
func servePage(t *testing.T) (url, origin string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	page := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(chromiumPage))
	}))
	_ = page.Listener.Close()
	page.Listener = ln
	page.Start()
	t.Cleanup(page.Close)
	return page.URL + "/", page.URL
}

// TestChromium drives headless Chromium from Debian against the echo
// endpoint. Chromium always offers permessage-deflate
// ("permessage-deflate; client_max_window_bits"), so the server with
// Compression on accepts it and the one without declines it. Origin and
// subprotocol checks see Chromium's real headers.
func TestChromium(t *testing.T) {
	needChromium(t)
	pageURL, origin := servePage(t)
	browser := startChromium(t)
	cases := []struct {
		name      string
		cfg       Config
		protocols []string
		opened    bool
		deflate   bool
		protocol  string
	}{
		{"compression on", Config{Compression: true, MaxMessage: 2 << 20}, nil, true, true, ""},
		{"compression off", Config{MaxMessage: 2 << 20}, nil, true, false, ""},
		{"allowed origin and subprotocol", Config{Compression: true, MaxMessage: 2 << 20, AllowedOrigins: []string{origin},
			Subprotocols: []string{"v2.echo", "echo"}}, []string{"echo", "v2.echo"}, true, true, "v2.echo"},
		{"disallowed origin", Config{AllowedOrigins: []string{"https://elsewhere.test"}}, nil, false, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.cfg)
			tab, cancel := chromedp.NewContext(browser)
			defer cancel()
			protocols := "undefined"
			if tc.protocols != nil {
				protocols = `["` + strings.Join(tc.protocols, `","`) + `"]`
			}
			var r chromiumReport
			script := fmt.Sprintf("runTest(%q, %s)", wsURL(srv, "/echo"), protocols)
			err := chromedp.Run(tab,
				chromedp.Navigate(pageURL),
				chromedp.Evaluate(script, &r, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
					return p.WithAwaitPromise(true)
				}),
			)
			if err != nil {
				t.Fatalf("chromium: %v", err)
			}
			if r.Opened != tc.opened {
				t.Fatalf("opened %v, want %v (close %+v)", r.Opened, tc.opened, r.Close)
			}
			if !tc.opened {
				// The browser reports a refused upgrade as 1006.
				if r.Close.Code != 1006 {
					t.Fatalf("close %+v, want 1006", r.Close)
				}
				waitFor(t, "the rejection count", ioTimeout, func() bool { return srv.Stats().Rejected == 1 })
				return
			}
			wantExt := ""
			if tc.deflate {
				wantExt = deflateResponse
			}
			if r.Extensions != wantExt || r.Protocol != tc.protocol {
				t.Fatalf("extensions %q, protocol %q; want %q, %q", r.Extensions, r.Protocol, wantExt, tc.protocol)
			}
			if len(r.Messages) != 6 {
				t.Fatalf("%d messages exchanged, want 6", len(r.Messages))
			}
			for _, m := range r.Messages {
				if !m.Equal || m.GotType != m.SentType || m.GotLen != m.SentLen {
					t.Errorf("%s: sent %s of %d, got %s of %d back (equal %v)", m.Name, m.SentType, m.SentLen, m.GotType, m.GotLen, m.Equal)
				}
			}
			if r.Close.Code != 4001 || !r.Close.Clean {
				t.Errorf("close %+v, want a clean 4001", r.Close)
			}
			waitFor(t, "the server to drop the connection", ioTimeout, func() bool { return srv.Stats().Open == 0 })
			st := srv.Stats()
			if tc.deflate {
				if st.CompressedIn < 5 || st.CompressedOut < 3 {
					t.Errorf("compressed messages in %d, out %d; want at least 5 and 3", st.CompressedIn, st.CompressedOut)
				}
			} else if st.CompressedIn != 0 || st.CompressedOut != 0 {
				t.Errorf("compressed messages in %d, out %d; want none", st.CompressedIn, st.CompressedOut)
			}
		})
	}
}
