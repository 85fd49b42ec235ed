// Package bench is the side-by-side benchmark harness: it builds myriad,
// myriad-loadgen and the Go peers (bench/cmd/peer-nbio, peer-gws,
// peer-gorilla), then measures each server with the same client, driving
// every binary only through its command line so that it does not depend on
// internal APIs.
//
// # Method
//
// Each kind of run (idle, echo, broadcast) is repeated Config.Rounds times
// with the servers interleaved (A B C D, A B C D, ...), each measurement on
// a fresh server process listening on fresh ports, so drift on a shared
// machine spreads over every server instead of favouring one. The table
// gives each metric's median over the rounds, its spread (lowest and
// highest) and the ratio of the median to myriad's.
//
//   - idle: Config.Conns connections opened as fast as Config.DialWorkers
//     dial workers go (myriad-loadgen idle --rate 0), the server's VmRSS
//     read before connecting and Config.Settle after the last upgrade
//     (myriad with --memory-release=-1s, so nothing is forcibly returned).
//     It gives RSS per idle connection and upgrades per second.
//   - echo: Config.EchoConns connections in a closed loop, each keeping
//     Config.EchoInFlight messages outstanding (myriad-loadgen echo
//     --in-flight); echoes per second over the sending time (the report's
//     echo_answered_while_sending / echo_sending_max_ms) and round-trip
//     p50, p99, p99.9.
//   - broadcast: Config.Conns subscribers on /ws, Config.PubRate messages a
//     second posted to the publish API; the median over messages of the
//     time until the last subscriber had it.
//
// # Upgrades per second
//
// Upgrades per second are the load generator report's own figure,
// connect_phase.upgrades_per_s: upgrades divided by the time from the
// first scheduled attempt (all due at once with --rate 0) to the last
// upgrade or final failure.
package bench
