// Package gateway is myriad's real-time pub/sub application: clients
// connect over WebSocket, subscribe to topics and receive what is
// published to them, from other clients or from the HTTP publish API.
// PROTOCOL.md describes the wire protocol and the API.
//
// It stands only on package server's exported API, like any application
// would. Its subscriptions are kept per event loop, in shards indexed by
// server.Loop.Index and touched only by their loop, so a publish takes no
// global lock: it is prepared once as a complete frame (server.Prepare),
// posted to each loop once (server.Loop.Post, which keeps the order of
// publishes), and each loop writes the same bytes to its own subscribers
// under the server's MaxOutbound bound, with the configured slow policy.
// A topic with more subscribers on a loop than one step writes
// (server.SliceItems, fewer for large frames) is written in bounded steps
// (server.Loop.PostSliced, fanout.go), so accepts and other connections
// keep their latency during a large fan-out; later deliveries on that
// loop queue behind it, so order holds.
// Gateway state per connection lives in those loop-owned maps, and only
// while there is some: an idle connection costs the gateway nothing.
//
// A Gateway is a single node unless JoinCluster links it to other nodes
// through a broker (package internal/broker, NATS): then the node holds
// broker interest in exactly the topics it has local subscribers for,
// every publish goes through the broker, and each node delivers what the
// broker hands back (Receive) through the same per-loop path. The link is
// the small Cluster interface, in cluster*.go; the rest of the package
// only calls it at a topic's first and last subscriber and at publish.
// A client's publish is not sent from its event loop (the broker client
// may block): it goes through a bounded queue to one publisher goroutine
// per node, which keeps its order, and a full queue refuses it
// (cluster_publisher.go). Nor are the node's broker interest changes: the
// registry queues each topic's net state for one interest goroutine per
// node (cluster_interest.go). With presence events, each node announces its
// own users' arrivals and departures and a heartbeat, and keeps every
// node's users, so join and leave are once per user over the cluster
// (presence_state.go, presence_peers.go, presence_cluster.go).
//
// With a history store (UseHistory: history.Local on one node,
// history.JetStream in a cluster) every message is stored before it is
// delivered and carries its offset and epoch; a subscriber that comes
// back with a cursor recovers what it missed (recover.go, following the
// package history recipe: buffer live messages while reading history,
// then merge by offset). The same subscriptions serve Server-Sent Events
// and long polls (Streams: sse.go, poll.go) on server's held-open HTTP
// responses, so those clients cost no goroutine either; cursors in URLs
// and SSE ids are "<epoch>/<offset>" (cursor.go).
//
// Tokens are JWTs (Claims), HS256 with a shared secret or RS256/ES256
// with public keys from PEM or a JWKS (KeySet, JWKSFetcher), that name the
// user and the topics it may subscribe and publish to.
//
// Everything a client or publisher can make the gateway do is bounded:
// frames are built only for topics with subscribers and at most
// MaxPublishTopics per publish (and counted), clients have a message rate
// (a token bucket kept only while it is not full), presence events are
// coalesced per interval and skipped for big topics, publish ids are kept
// in a capped FIFO, and the API refuses what a web page could send it.
//
// The Gateway serves its API as an http.Handler (APIHandler) and runs no
// listener: the embedder mounts it.
package gateway
