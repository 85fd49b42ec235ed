// Package history keeps each topic's recent messages so that a client
// that reconnects can recover what it missed, or learn that it cannot.
//
// Two stores implement Store: Local, in the memory of one node, and
// JetStream, a NATS JetStream stream shared by every node of a cluster.
// Both number a topic's messages with offsets that only grow, and give the
// topic an epoch that changes whenever its history is lost (restart,
// eviction of everything the topic had, stream purge or recreation). A
// reader's cursor is a Position {Offset, Epoch}: "I have everything up to
// Offset of this epoch". Since answers with what follows, or ok=false when
// the epoch differs or the history no longer reaches back to Offset+1.
//
// # Bounds (Local)
//
// A topic keeps at most Config.Size messages, none older than Config.TTL
// (Expire, run from a ticker, drops the old ones), and all topics
// together, with their metadata, stay within Config.Memory bytes: past it
// the oldest items over all shards go first. An emptied topic stays as a
// tombstone (its epoch and last offset, ~240 bytes) for another TTL, so a
// reader that had everything still recovers with nothing to replay; a
// tombstone is charged to the budget and evicted like a message.
//
// Measured (BenchmarkLocalMemory, 100,000 messages on 1,000 topics): a
// stored message costs its payload plus 82 bytes (146 B for 64-byte
// payloads, 1106 B for 1 KiB), and the charged bytes match the heap.
//
// # JetStream
//
// One stream, memory storage by default, holds every topic on
// Prefix.<encoded topic>; its sequence is the offset, so offsets have gaps
// (other topics' sequences) but are the same on every node. The epoch
// sits in the stream's metadata and changes when the stream is purged
// through the store or recreated; losses inside an epoch are detected by
// sequence (see JetStream.Since). Position is the stream's last sequence,
// a valid cursor for any topic.
//
// # Recovery without gap or duplicate
//
// A message is appended (and gets its offset) before it is fanned out to
// live subscribers, so a reconnecting reader could miss one appended
// between its history read and its subscription, or see one twice. The
// recipe, for a reader with cursor p:
//
//  1. Subscribe to the topic's live messages first, and buffer them
//     instead of delivering (Catchup.Buffer). Every message appended from
//     now on reaches the buffer.
//  2. Read the history: Since(topic, p, limit), repeated from the last
//     returned offset while a page comes back full. Every message appended
//     before step 1 is in it (or gone, and then ok is false).
//  3. If ok, Catchup.Finish(history) returns the history after p, then the
//     buffered live messages with offsets above the last of it: those at
//     or below are the overlap of steps 1 and 2. Deliver that, say
//     "recovered: true", and from then on deliver a live message only if
//     Catchup.Pass accepts it. If not ok, say "recovered: false" and start
//     the Catchup from the cur position Since returned.
//
// The recipe needs live messages of a topic to reach a subscriber in
// offset order. Local.AppendThen hands a message to the fan-out while the
// topic's shard is still locked, so fan-out order is offset order even
// with concurrent publishers. With JetStream, the stream republishes every
// stored message to the live topic subject (JetStreamConfig.Republish) in
// stream order, with the sequence in a header (OffsetOf): every node sees
// the same messages in the same order with the same offsets.
package history
