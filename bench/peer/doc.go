// Package peer holds what the benchmark peers (bench/cmd/peer-nbio,
// peer-gws, peer-gorilla) share, so that they differ only in the
// WebSocket library under test: the HTTP publish endpoint that the load
// generator's broadcast scenario posts to, and raising the descriptor
// limit. Each peer serves the same tiny application:
//
//   - /echo writes every message back with its opcode;
//   - /ws subscribes every connection to the one topic;
//   - POST /publish on a second listener sends the request body, as it
//     is, in a text message to every /ws connection and answers
//     {"delivered":N} once the message has been handed to each of them.
//
// The body is what myriad-loadgen posts to myriad's API,
// {"topic":...,"data":{"seq":...,"ts":...}}; the load generator reads the
// sequence number and send time from the "data" member of what arrives,
// so forwarding the body unchanged is enough, and the topic is ignored.
package peer
