// Package server is myriad's reactor: a gnet event handler that accepts TCP
// connections, performs the WebSocket upgrade and reads and writes every
// frame on the event loop that owns the connection.
//
// There is no goroutine per connection. Each connection has one small
// session (about 64 bytes) stored with gnet's SetContext and touched only by
// its own event loop, so it needs no lock. An idle connection owns no buffer
// and no timer: keepalive pings, idle timeouts, handshake timeouts and the
// close handshake's timeout are all driven by a timing wheel per event loop,
// advanced from gnet's ticker. Input is parsed straight from gnet's buffers;
// large frames are consumed in pieces as they arrive, so a slow sender never
// makes the server buffer more than one message (bounded by MaxMessage).
// Outbound bytes that the kernel does not take at once queue in gnet's
// buffer, bounded per connection by MaxOutbound: a consumer that falls
// further behind is closed, never allowed to grow memory.
//
// permessage-deflate (RFC 7692) is negotiated per connection when
// Config.Compression is on, always with no context takeover in both
// directions, so compression adds one flag bit to a Conn and nothing to an
// idle connection: each event loop owns one inflater and one deflater,
// reset for every message. An inflated message is bounded by MaxMessage as
// it is produced, so a compression bomb costs no more than an honest
// message. The subprotocol (Config.Subprotocols) is kept as a one-byte
// index, and upgrades from Origins outside Config.AllowedOrigins get 403.
//
// Applications plug in as Handlers mounted on paths (the echo handler on
// /echo by default) and see only complete messages. A Handler may also
// implement Authorizer to accept or refuse upgrades with an HTTP status.
//
// Gateway is the pub/sub application (mounted on /ws by the myriad
// command; PROTOCOL.md describes its wire protocol and HTTP API). Its
// subscriptions are kept per event loop, in maps owned by that loop, so
// a publish takes no global lock: it is encoded once as a complete frame
// and handed to each loop's FIFO mailbox once, and each loop writes the
// same bytes to its own subscribers under the MaxOutbound bound. Gateway
// state per connection lives in those loop-owned maps, not in the session,
// and only while there is some: an idle connection costs the gateway
// nothing.
package server
