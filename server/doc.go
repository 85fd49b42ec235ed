// Package server is myriad's reactor: a gnet event handler that accepts TCP
// connections, performs the WebSocket upgrade and reads and writes every
// frame on the event loop that owns the connection. It knows no
// application protocol; applications are Handlers mounted on paths, and
// the pub/sub gateway (package gateway) is one of them, built on nothing
// but the exported API below.
//
// There is no goroutine per connection. Each connection has one small
// session (64 bytes) stored with gnet's SetContext and touched only by
// its own event loop, so it needs no lock. An idle connection owns no buffer
// and no timer: keepalive pings, idle timeouts, handshake timeouts and the
// close handshake's timeout are all driven by a timing wheel per event loop,
// advanced from gnet's ticker. Input is parsed straight from gnet's buffers;
// large frames are consumed in pieces as they arrive, so a slow sender never
// makes the server buffer more than one message (bounded by MaxMessage).
// Outbound bytes that the kernel does not take at once queue in gnet's
// buffer, bounded per connection by MaxOutbound (one message always fits an
// empty queue): a consumer that falls further behind is sent close 1008
// and closed, never allowed to grow memory.
//
// # What an application gets
//
// Who may call what is part of each method's contract: Conn methods are
// loop-only (from a Handler callback or a function posted to the Conn's
// Loop), except Conn.Loop; Server and Loop methods may be called from any
// goroutine.
//
//   - Handler (OnOpen, OnMessage, OnClose with a CloseInfo) and the
//     optional Authorizer, whose value reaches OnOpen as Conn.Open.
//   - Loop identity: Server.Loops is fixed when New returns and
//     Conn.Loop names a connection's loop, so per-loop application state
//     is a slice indexed by Loop.Index and needs no lock.
//   - Ordered work: Loop.Post runs a function on a loop, after every
//     function posted before it, with a bounded queue (Config.MaxPosted,
//     ErrBusy).
//   - Encode once, write many: Prepare makes an immutable frame that any
//     loop writes to its connections with Conn.SendPrepared, choosing
//     what happens to a slow consumer (SlowClose or SlowDrop);
//     Conn.Buffered tells how far behind a connection is.
//   - Static pages: Config.Pages answers a plain GET or HEAD of a path
//     (a demo or status page beside the WebSocket endpoints) with a
//     Page rendered once and written from memory by the event loop.
//   - Held-open responses: Config.Streams hands a plain GET of a path to a
//     StreamHandler that writes the response head with Conn.SendRaw and
//     keeps writing raw bytes (SSE events, a long poll's answer) under
//     the MaxOutbound bound, with optional heartbeats every PingInterval,
//     until it calls Conn.EndStream or the client leaves.
//   - Shutdown: Drain sends every connection Close 1001 and reports in a
//     DrainReport whether all closed or the timeout ran out.
//   - Counters: Server.Stats, Server.Breakdown (by route, refusal status,
//     close reason and code, handshake time) and Loop.Stats are per-loop
//     atomics that only their own loop writes, summed when asked, so an
//     exporter reading them at scrape time costs the hot path nothing.
//
// permessage-deflate (RFC 7692) is negotiated per connection when
// Config.Compression is on, always with no context takeover in both
// directions, so compression adds one flag bit to a Conn and nothing to an
// idle connection: each event loop owns one inflater and one deflater,
// reset for every message, and a prepared frame is compressed at most once
// for all the connections that want it. An inflated message is bounded by
// MaxMessage as it is produced, so a compression bomb costs no more than an
// honest message. The subprotocol (Config.Subprotocols) is kept as a
// one-byte index, and upgrades from Origins outside Config.AllowedOrigins
// get 403.
//
// # Limits against abuse
//
// Running out of anything sheds load; it never stops the server. gnet
// ends its engine when accept fails with EMFILE, so connections are
// capped below the descriptor limit (MaxConns, by default RLIMIT_NOFILE
// minus a reserve of 256 for the rest of the program and 64 for
// connections just accepted): each loop accepts on its own SO_REUSEPORT
// listener, one connection at a time, and a connection past the cap gets
// 503 from OnOpen and is closed before the loop accepts another. If the engine stops
// anyway, Serve returns ErrEngineStopped. A message must complete within
// MessageTimeout. The bytes buffered by all connections are bounded by
// MaxBuffered, recounted every tick from the connections that have fallen
// behind (idle ones cost nothing); over it the largest holders are closed
// with 1013, and a consumer stuck at MaxOutbound under SlowDrop is closed
// after SlowTimeout. Events that can come by the thousand (shed
// connections, slow consumers) are logged at most once a second, with a
// count.
//
// Long work on a loop, such as a fan-out to many subscribers, runs in
// steps through Loop.PostSliced, which lets the loop's I/O in between.
//
// The server starts nothing beside its listener and makes no process-wide
// choices: HTTP services, signal handling and returning memory to the OS
// belong to the program that embeds it (see cmd/myriad). Package
// servertest helps test such programs.
package server
