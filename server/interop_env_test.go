package server

import (
	"os"
	"os/exec"
	"testing"
)

// requireInteropEnv is the variable that turns a missing interop client
// into a test failure. `make test` sets it after installing the clients.
const requireInteropEnv = "MYRIAD_REQUIRE_INTEROP"

// Paths of the Debian-packaged clients the interop tests drive. Python is
// the system interpreter on purpose: python3-websockets is installed for
// it, not for whatever python3 comes first on PATH.
const (
	systemPython = "/usr/bin/python3"
	chromiumPath = "/usr/bin/chromium"
)

// needClient checks that an external client can run: probe returns nil
// when it can. Otherwise the test fails when MYRIAD_REQUIRE_INTEROP=1 and
// is skipped, saying how to run it, when not. This is the only place an
// interop test may skip.
func needClient(t *testing.T, name string, probe func() error) {
	t.Helper()
	err := probe()
	if err == nil {
		return
	}
	if os.Getenv(requireInteropEnv) == "1" {
		t.Fatalf("%s is required (%s=1) but cannot run: %v", name, requireInteropEnv, err)
	}
	t.Skipf("%s cannot run (%v); `make test` installs it and runs this test with %s=1", name, err, requireInteropEnv)
}

// needPythonWebsockets requires the Debian python3-websockets package.
func needPythonWebsockets(t *testing.T) {
	t.Helper()
	needClient(t, "python3-websockets", func() error {
		return exec.Command(systemPython, "-c", "import websockets").Run()
	})
}

// needChromium requires the Debian chromium package.
func needChromium(t *testing.T) {
	t.Helper()
	needClient(t, "chromium", func() error {
		return exec.Command(chromiumPath, "--version").Run()
	})
}
