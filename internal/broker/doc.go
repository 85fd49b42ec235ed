// Package broker links myriad nodes through NATS: it runs an embedded
// nats-server for a host's workers and wraps a nats.go connection with what a
// gateway node needs.
//
// Topics map to subjects one to one: SubjectPrefix + "." + an escaped topic
// that is always a single NATS token (see EncodeTopic), so any topic name,
// including ones with dots, is a valid literal subject and never a wildcard.
//
// Interest follows local subscribers: Interest and Disinterest count
// references per topic, and the node holds a NATS subscription only while
// the count is above zero, so a node with no local subscriber of a topic
// receives none of its traffic. They make their nats.go call without the
// client's lock (nats.go may block it on a stuck broker socket), so Stats,
// and with it a metrics scrape, never waits for the broker.
//
// Delivery is through NATS only. A node, the publisher's included, hands its
// local subscribers only what it receives from NATS on the topic's subject;
// it never short-cuts its own publishes. NATS keeps the order of messages
// from one connection on one subject, so every subscriber on every node sees
// one publisher's messages once and in order. The cost is latency: a
// publisher's own local subscribers wait for a round trip through the broker
// (on loopback, tens of microseconds; across hosts, one network round trip)
// instead of being served at once. Message.Origin lets a node recognise its
// own messages, for metrics or for a future local short-cut.
//
// Outages: the client reconnects forever with exponential backoff and
// jitter. While it is down, publishes are kept in nats.go's reconnect buffer
// (Config.ReconnectBuf bytes) and counted as buffered; past that bound, or
// when the buffer is disabled, they fail with the nats.go error and are
// counted as unsent. Buffered messages are sent after the reconnect but may
// still miss nodes that resubscribe later, so they are at most once.
//
// Scatter-gather (Respond, Gather) asks every node a question on a query
// subject and collects the answers that arrive within a bound, for
// cluster-wide statistics and presence. The bound holds over a stuck
// broker link too: nats.go's calls run on a goroutine the caller stops
// waiting for, and Config.MaxGathers bounds how many such goroutines a
// stuck link may hold. Announcements (Announce,
// OnAnnounce) tell every node something without a question: presence
// changes and heartbeats, which each node folds into its own copy.
package broker
