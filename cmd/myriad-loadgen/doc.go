// Command myriad-loadgen is an event-loop WebSocket load generator: it
// opens, holds and drives tens of thousands of connections per process
// against myriad or any WebSocket server and reports connect and message
// latency (HDR percentiles), failures by cause, drops, and memory per
// connection on both sides.
//
//	myriad-loadgen SCENARIO --url ws://host:port/path --conns N [flags]
//	myriad-loadgen broadcast --url ws://host:port --api http://host:port/publish --conns N --pub-rate R [flags]
//	myriad-loadgen sse --url ws://host:port [--mode broadcast --api http://host:port/publish] --conns N [flags]
//	myriad-loadgen reconnect --url ws://host:port --api http://host:port/publish --conns N --pub-rate R --wave-at D [flags]
//	myriad-loadgen merge a.json b.json ... [--json out.json]
//	myriad-loadgen help
//
// This package only turns flags into a loadgen.Plan, prints progress and
// the report, and raises RLIMIT_NOFILE; everything else is in package
// loadgen. With --procs N it re-executes itself N times in a hidden worker
// mode to get past the per-process file descriptor limit.
package main
