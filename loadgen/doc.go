// Package loadgen is an event-loop WebSocket load generator: it opens,
// holds and drives tens of thousands of client connections per process
// against myriad or any other WebSocket server, and reports what it saw.
//
// # Shape
//
// A Session owns one gnet client reactor. A bounded pool of dial workers
// (Plan.DialWorkers, never one goroutine per connection) dials with
// net.Dialer and enrolls each socket into the reactor; from then on the
// connection belongs to its event loop. The handshake request is written from
// OnOpen, the 101 response is parsed from gnet's input buffer (partial input
// is normal), and every frame is read and written on the loop with package
// frame. Per-connection state is one small Conn struct stored with
// SetContext: there is no goroutine, timer or buffer per idle connection.
// Time-driven work (handshake timeouts, close timeouts, scheduled sends,
// connection lifetimes) lives in a timing wheel per event loop that a single
// pacer goroutine advances by running a task on each loop.
//
// # Scenarios
//
// A Scenario drives a Session through its phases (Connect, Settle, Hold,
// Each) and may implement ConnHandler to act on each connection's events on
// the loop. idle, echo, churn, broadcast, sse, reconnect and capacity are built in;
// Scenarios lists them. capacity ramps connections in steps until an SLO
// breaks and reports the largest count held. broadcast subscribes connections to a pub/sub gateway's topic and
// drives it from one HTTP publisher, measuring fan-out latency per delivery
// and per message (until the last subscriber has it) and counting lost,
// duplicated and reordered deliveries per subscriber. sse holds Server-Sent
// Events streams (http:// targets, read by the same reactor) idle or under
// broadcast; reconnect drops every subscriber in a wave while publishing and
// checks that each, resumed from its last offset (Session.Redial), recovers
// what it missed once and in order. New
// scenarios register their own counters and latency histograms with the
// Session so they appear in reports without any change to the report format.
//
// # Results
//
// A Report holds counters, failures by cause, drops by cause, latency
// histograms (HDR, microseconds, exported as hdrhistogram snapshots so they
// can be merged exactly), memory samples and warnings. Reports from several
// processes or hosts merge with Merge. Progress snapshots are produced about
// once a second while a run is going; SeriesWriter turns them into a
// per-second CSV series that package chart draws. AutoSize works out the
// worker processes and source addresses a plan needs on this host.
//
// # Several processes
//
// One process may hold only as many sockets as RLIMIT_NOFILE allows.
// RunProcs re-executes the binary as N workers, each running its share of
// the plan and the scenario's own parameters with ServeWorker and streaming
// progress and its final report as JSON lines; the parent merges them. A
// scenario with a part to play in the parent implements Coordinated: its
// Coordinator watches the workers' progress, may send them control lines
// (Session.Control) and adds its results to the merged report, reading the
// parts the workers' scenarios left in theirs (Report.Parts). Broadcast is
// the one built in: the parent publishes, once all workers report their
// subscribers in place, and then tells each worker how many messages to
// expect.
package loadgen
