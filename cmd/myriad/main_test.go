package main

import (
	"os"
	"testing"

	"github.com/myriadws/myriad/internal/supervisor"
)

// testMainEnv makes the test binary run as the myriad command.
const testMainEnv = "MYRIAD_TEST_RUN_MAIN"

// TestMain lets the test binary stand in for the myriad binary: the
// supervisor of `myriad --workers` starts its own executable, which under
// go test is this binary, with the worker environment set. Such a process
// runs the command's real main, not the tests; so does one started with
// testMainEnv set (a restart's new process inherits it).
func TestMain(m *testing.M) {
	if os.Getenv(supervisor.EnvWorker) != "" || os.Getenv(testMainEnv) != "" {
		main()
	}
	os.Exit(m.Run())
}
