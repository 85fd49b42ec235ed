package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
)

// Variables of TestDashboardScreenshot, which is a tool rather than a
// check: it saves a picture of the dashboard of a node that is already
// running (under load), for the README.
const (
	screenshotEnv    = "MYRIAD_DASHBOARD_SCREENSHOT" // PNG file to write
	screenshotAPIEnv = "MYRIAD_DASHBOARD_API"        // host:port of the node's API listener
	screenshotKeyEnv = "MYRIAD_DASHBOARD_KEY"        // its API key, if any
)

// startBrowser runs one headless Chromium with a fresh profile and
// returns a tab, with the console errors and uncaught exceptions the page
// produces collected into the returned function's result.
func startBrowser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	profile := t.TempDir()
	opts := browserOptions(profile, 1280, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), 3*ioWait)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		_ = chromedp.Cancel(tab)
		cancelTab()
		cancelAlloc()
		cancel()
	})
	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(tab, func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeWarning {
				p = fmt.Sprintf("console.%s: %v", ev.Type, ev.Args)
			}
		case *runtime.EventExceptionThrown:
			p = "exception: " + ev.ExceptionDetails.Error()
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.LevelError || ev.Entry.Level == cdplog.LevelWarning {
				p = fmt.Sprintf("log %s: %s (%s)", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
			}
		}
		if p != "" {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
		}
	})
	if err := chromedp.Run(tab); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return tab, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// pageNumber evaluates a JavaScript expression on the page.
func pageEval[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	var v T
	if err := chromedp.Run(tab, chromedp.Evaluate(expr, &v)); err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// publishNews posts one message to topic "news" through the API.
func publishNews(t *testing.T, n *runningNode, key string, i int) {
	t.Helper()
	body := fmt.Sprintf(`{"topic":"news","data":{"n":%d}}`, i)
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

// TestDashboardInChromium logs in to the dashboard with the API key in
// headless Chromium, then opens connections and publishes: the numbers
// on the page follow, and the page logs no error.
func TestDashboardInChromium(t *testing.T) {
	needChromium(t)
	const key = "dashboard-test-key"
	n := startCommand(t, map[string]string{"MYRIAD_API_KEY": key}, "--loops", "2")
	tab, problems := startBrowser(t)

	err := chromedp.Run(tab,
		chromedp.Navigate("http://"+n.apiAddr+"/"),
		chromedp.WaitVisible("#key", chromedp.ByID),
		chromedp.SendKeys("#key", key, chromedp.ByID),
		chromedp.Click(`#login button`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	eventually(t, "two readings", func() bool { return pageEval[int](t, tab, "dashboardState.polls") >= 2 })
	if got := pageEval[string](t, tab, `document.getElementById("open").textContent`); got != "0" {
		t.Fatalf("open connections shown as %q before any client, want 0", got)
	}

	const clients = 5
	for range clients {
		c := dialRetry(t, "ws://"+n.addr+"/ws?topics=news")
		defer c.Close()
		go drain(c)
	}
	eventually(t, "the page to show the clients", func() bool {
		return pageEval[string](t, tab, `document.getElementById("open").textContent`) == fmt.Sprint(clients)
	})
	// Publish until one reading sees messages going out, so the rate
	// shown is non-zero, and the topic tops the table.
	i := 0
	eventually(t, "a non-zero outbound rate on the page", func() bool {
		i++
		publishNews(t, n, key, i)
		return pageEval[bool](t, tab, `dashboardState.last.rates.out > 0 && document.getElementById("out-rate").textContent !== "0.0"`)
	})
	top := pageEval[string](t, tab, `document.getElementById("top").textContent`)
	if !strings.Contains(top, "news") || !strings.Contains(top, fmt.Sprint(clients)) {
		t.Errorf("top topics %q, want news with %d subscribers", top, clients)
	}
	if loops := pageEval[int](t, tab, `document.querySelectorAll("#c-loops rect").length`); loops != 2 {
		t.Errorf("%d loop bars, want 2", loops)
	}
	if p := problems(); len(p) > 0 {
		t.Fatalf("the page logged problems:\n%s", strings.Join(p, "\n"))
	}
}

// drain reads c until it fails, so the server never sees a slow consumer.
func drain(c *websocket.Conn) {
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

// TestDashboardWrongKey logs in with a wrong key: the page asks again and
// shows no reading. The refused request is the one error Chromium logs,
// which also shows that the error collection the test above relies on
// sees such errors.
func TestDashboardWrongKey(t *testing.T) {
	needChromium(t)
	n := startCommand(t, map[string]string{"MYRIAD_API_KEY": "the-right-key"})
	tab, problems := startBrowser(t)
	err := chromedp.Run(tab,
		chromedp.Navigate("http://"+n.apiAddr+"/"),
		chromedp.WaitVisible("#key", chromedp.ByID),
		chromedp.SendKeys("#key", "a-wrong-key", chromedp.ByID),
		chromedp.Click(`#login button`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	eventually(t, "the login form to come back", func() bool {
		return pageEval[string](t, tab, `document.getElementById("login-err").textContent`) == "wrong key"
	})
	if polls := pageEval[int](t, tab, "dashboardState.polls"); polls != 0 {
		t.Fatalf("%d readings shown with a wrong key", polls)
	}
	if stored := pageEval[bool](t, tab, `sessionStorage.getItem("myriad-api-key") === null`); !stored {
		t.Error("the wrong key was kept in sessionStorage")
	}
	eventually(t, "Chromium to log the refused request", func() bool {
		for _, p := range problems() {
			if strings.Contains(p, "401") {
				return true
			}
		}
		return false
	})
}

// TestDashboardScreenshot saves a screenshot of a running node's
// dashboard once it has plotted 15 readings. It runs only when
// asked to (see screenshotEnv): it checks nothing, and says so by skipping.
func TestDashboardScreenshot(t *testing.T) {
	path, api := os.Getenv(screenshotEnv), os.Getenv(screenshotAPIEnv)
	if path == "" || api == "" {
		t.Skipf("a tool, not a check: set %s and %s to save a screenshot", screenshotEnv, screenshotAPIEnv)
	}
	needChromium(t)
	tab, _ := startBrowser(t)
	actions := []chromedp.Action{chromedp.Navigate("http://" + api + "/")}
	if key := os.Getenv(screenshotKeyEnv); key != "" {
		actions = append(actions,
			chromedp.WaitVisible("#key", chromedp.ByID),
			chromedp.SendKeys("#key", key, chromedp.ByID),
			chromedp.Click(`#login button`, chromedp.ByQuery))
	}
	if err := chromedp.Run(tab, actions...); err != nil {
		t.Fatal(err)
	}
	eventually(t, "15 readings", func() bool { return pageEval[int](t, tab, "dashboardState.polls") >= 15 })
	var png []byte
	if err := chromedp.Run(tab, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", path)
}
