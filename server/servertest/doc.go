// Package servertest helps test applications built on package server, as
// net/http/httptest does for net/http: Start runs a server on a free
// loopback port for the length of a test, Dial opens a hand-driven
// WebSocket client over a plain TCP connection (to send what well-behaved
// client libraries never send), and Eventually polls a condition instead
// of sleeping.
//
// Every blocking step is bounded by IOTimeout, a guard against a hung
// test, not an expectation about speed. The helpers fail the test through
// t and may be used from the test's goroutine only.
//
// Package server's own tests cannot import this package (it would be an
// import cycle) and keep their own copies of these helpers.
package servertest
