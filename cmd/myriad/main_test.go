package main

import (
	"os"
	"testing"

	"github.com/myriadws/myriad/internal/supervisor"
)

// TestMain lets the test binary stand in for the myriad binary: the
// supervisor of `myriad --workers` starts its own executable, which under
// go test is this binary, with the worker environment set. Such a process
// runs the command's real main, not the tests; so does a child started
// with childEnv, which a test runs under its own descriptor limit (or
// restarts: the new process inherits it).
func TestMain(m *testing.M) {
	if os.Getenv(supervisor.EnvWorker) != "" || os.Getenv(childEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}
