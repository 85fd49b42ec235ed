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
//   - echo: Config.EchoConns connections each sending Config.EchoRate
//     messages per second (myriad-loadgen's echo is open-loop); received
//     messages per second and round-trip p50, p99, p99.9.
//   - broadcast: Config.Conns subscribers on /ws, Config.PubRate messages a
//     second posted to the publish API; the median over messages of the
//     time until the last subscriber had it.
//
// # Upgrades per second
//
// The load generator's report has no duration of its connect phase. With
// --rate 0 every attempt is due at once, so connect_schedule_lag_max_ms is
// when the last attempt entered the dial queue (DialWorkers deep); what is
// left then is that queue and the last connections' upgrade time. Upgrades
// per second are therefore taken as
//
//	(upgraded - DialWorkers) / (schedule lag + connect p50)
//
// Checked against the rate at which a server's descriptor count grew
// (2,000 connections to myriad, three runs) it read 4-10% lower, the
// difference being accepts not yet upgraded; that is close enough to
// compare servers measured the same way. It is to be replaced by the
// connect phase's own duration once the load generator reports it.
package bench
