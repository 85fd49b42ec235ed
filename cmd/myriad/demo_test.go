package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startDemoBrowser runs headless Chromium for one demo test.
func startDemoBrowser(t *testing.T) context.Context {
	t.Helper()
	profile := t.TempDir()
	opts := browserOptions(profile, 900, 640)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	if err := chromedp.Run(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		_ = chromedp.Cancel(browser)
		cancelBrowser()
		cancelAlloc()
		cancel()
	})
	return browser
}

// demoState is what the demo page reports through window.demo.state().
type demoState struct {
	Connected  bool     `json:"connected"`
	CanPublish bool     `json:"canPublish"`
	Present    []string `json:"present"`
	Note       string   `json:"note"`
	Messages   []struct {
		Name string `json:"name"`
		Text string `json:"text"`
	} `json:"messages"`
}

// pageState polls one page until cond holds for its state.
func pageState(t *testing.T, tab context.Context, what string, cond func(demoState) bool) demoState {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var st demoState
		err := chromedp.Run(tab, chromedp.Evaluate(`window.demo ? window.demo.state() : {}`, &st))
		if err == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: last state %+v (%v)", what, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDemoPage runs the command with its demo page, opens the page in two
// Chromium tabs, and checks that each sees the other arrive and that a
// message typed into one appears in the other. It saves a screenshot;
// with MYRIAD_WRITE_SCREENSHOT=1 it writes it to docs/demo.png.
func TestDemoPage(t *testing.T) {
	needChromium(t)
	addr, apiAddr := freePort(t), freePort(t)
	sigs := make(chan os.Signal, 2)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"--addr", addr, "--api-addr", apiAddr, "--client-publish", "--drain-timeout", "2s"},
			envFrom(nil), &stdout, &stderr, sigs)
	}()
	t.Cleanup(func() {
		sigs <- syscall.SIGTERM
		<-done
	})
	dialRetry(t, "ws://"+addr+"/echo").Close()

	browser := startDemoBrowser(t)
	ann, cancelAnn := chromedp.NewContext(browser)
	defer cancelAnn()
	bob, cancelBob := chromedp.NewContext(browser)
	defer cancelBob()
	base := "http://" + addr + demoPath
	for _, p := range []struct {
		tab  context.Context
		name string
	}{{ann, "ann"}, {bob, "bob"}} {
		if err := chromedp.Run(p.tab, chromedp.Navigate(base+"?name="+p.name)); err != nil {
			t.Fatalf("open the demo as %s: %v", p.name, err)
		}
	}
	both := func(st demoState) bool {
		return st.Connected && st.CanPublish && strings.Join(st.Present, ",") == "ann,bob"
	}
	pageState(t, ann, "ann sees bob", both)
	pageState(t, bob, "bob sees ann", both)

	if err := chromedp.Run(ann,
		chromedp.SendKeys("#text", "hello from ann", chromedp.ByID),
		chromedp.Click("#go", chromedp.ByID),
	); err != nil {
		t.Fatalf("send from ann: %v", err)
	}
	got := pageState(t, bob, "bob gets ann's message", func(st demoState) bool { return len(st.Messages) > 0 })
	if m := got.Messages[0]; m.Name != "ann" || m.Text != "hello from ann" {
		t.Fatalf("bob got %+v, want ann: hello from ann", got.Messages)
	}
	if err := chromedp.Run(bob,
		chromedp.SendKeys("#text", "hi ann", chromedp.ByID),
		chromedp.Click("#go", chromedp.ByID),
	); err != nil {
		t.Fatalf("send from bob: %v", err)
	}
	pageState(t, ann, "ann gets bob's answer", func(st demoState) bool { return len(st.Messages) == 2 && st.Messages[1].Text == "hi ann" })

	var png []byte
	if err := chromedp.Run(ann, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	if os.Getenv("MYRIAD_WRITE_SCREENSHOT") == "1" {
		out := filepath.Join("..", "..", "docs", "demo.png")
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", out, len(png))
	}
	if !strings.Contains(stderr.String(), fmt.Sprintf(`"url":"%s"`, base)) {
		t.Errorf("start-up log does not give the demo URL %s:\n%s", base, stderr.String())
	}
}

// TestDemoPageReadOnly opens the demo on a server that does not let
// clients without a token publish: the page still connects and listens,
// and says what would let it chat.
func TestDemoPageReadOnly(t *testing.T) {
	needChromium(t)
	addr := freePort(t)
	sigs := make(chan os.Signal, 1)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"--addr", addr, "--api-addr=", "--drain-timeout", "2s", "--log-level", "warn"},
			envFrom(nil), &stdout, &stderr, sigs)
	}()
	t.Cleanup(func() {
		sigs <- syscall.SIGTERM
		<-done
	})
	dialRetry(t, "ws://"+addr+"/echo").Close()
	tab, cancel := chromedp.NewContext(startDemoBrowser(t))
	defer cancel()
	if err := chromedp.Run(tab, chromedp.Navigate("http://"+addr+demoPath+"/")); err != nil {
		t.Fatalf("open the demo: %v", err)
	}
	st := pageState(t, tab, "the page to find it may not publish", func(st demoState) bool {
		return st.Connected && !st.CanPublish && st.Note != ""
	})
	if !strings.Contains(st.Note, "--client-publish") || !strings.Contains(st.Note, "pub_topics") {
		t.Fatalf("note %q does not say what allows publishing", st.Note)
	}
}
