package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which `make test` installs.
const chromiumPath = "/usr/bin/chromium"

// needChromium fails the test when MYRIAD_REQUIRE_INTEROP=1 (set by `make
// test`) and Chromium cannot run, and skips it, saying how to run it,
// otherwise, as the server's interop tests do.
func needChromium(t *testing.T) {
	t.Helper()
	err := exec.Command(chromiumPath, "--version").Run()
	if err == nil {
		return
	}
	if os.Getenv("MYRIAD_REQUIRE_INTEROP") == "1" {
		t.Fatalf("chromium is required (MYRIAD_REQUIRE_INTEROP=1) but cannot run: %v", err)
	}
	t.Skipf("chromium cannot run (%v); `make test` installs it and runs this test with MYRIAD_REQUIRE_INTEROP=1", err)
}

// browserOptions starts headless Chromium with a fresh profile and none of
// its background connections, which this host's closed network refuses.
func browserOptions(profile string, width, height int) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true), chromedp.Flag("disable-dev-shm-usage", true),
	}
}
