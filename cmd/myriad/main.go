// Command myriad serves WebSocket connections from a gnet event-loop
// reactor. Every flag can also be set as a MYRIAD_* environment variable
// (--max-conns is MYRIAD_MAX_CONNS); a flag on the command line wins.
//
//	myriad [flags]          serve (echo on /echo, pub/sub on /ws, API on --api-addr)
//	myriad tune [flags]     judge this host against a connection target
//	myriad restart [flags]  restart the server named by --pid-file (SIGHUP)
//	myriad version          print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr, sigs))
}

// run is the whole program, minus process globals, so tests can drive it.
// It returns the exit code.
func run(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	if len(args) > 0 {
		switch args[0] {
		case "tune":
			return runTune(args[1:], stdout, stderr)
		case "restart":
			return runRestart(ctx, args[1:], env, stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, versionString())
			return 0
		case "help":
			args = []string{"-h"}
		}
	}
	return serve(ctx, args, env, stdout, stderr, sigs)
}
