package gateway

import (
	"errors"
	"sync/atomic"
)

// ErrPublishQueueFull refuses a client publish on a cluster node whose
// earlier publishes have not reached the broker yet (the broker
// connection is slow or stuck, or JetStream is slow to acknowledge):
// nothing was published, and the client may retry.
var ErrPublishQueueFull = errors.New("publish queue full: the broker is not keeping up; nothing was published, retry later")

// pubItem is one client publish waiting for the broker.
type pubItem struct {
	topics []string
	data   []byte
}

// publishQueue hands client publishes from the event loops to the node's
// one publisher goroutine. nats.go's Publish takes the connection's
// mutex, which its flusher holds while it writes to the broker's socket,
// and writes inline itself when its buffer is full: on a slow or stuck
// broker connection it blocks for as long as the write does (up to
// nats.go's one-minute flusher timeout), and a loop must never block. So
// a loop only queues, bounded in messages and in bytes, and a full queue
// refuses the publish at once. One goroutine takes the queue in order, so
// one client's publishes reach the broker in the order it sent them.
type publishQueue struct {
	ch       chan pubItem
	bytes    atomic.Int64 // data bytes queued
	maxBytes int64
}

func newPublishQueue(n int, maxBytes int64) *publishQueue {
	return &publishQueue{ch: make(chan pubItem, n), maxBytes: maxBytes}
}

// enqueue queues a publish, or refuses it with ErrPublishQueueFull
// without waiting. Any goroutine may call it, including an event loop.
func (cl *clusterLink) enqueue(topics []string, data []byte) error {
	q := cl.queue
	n := int64(len(data))
	if q.bytes.Add(n) > q.maxBytes {
		q.bytes.Add(-n)
		cl.queueFull.Add(1)
		return ErrPublishQueueFull
	}
	select {
	case q.ch <- pubItem{topics: topics, data: data}:
		return nil
	default:
		q.bytes.Add(-n)
		cl.queueFull.Add(1)
		return ErrPublishQueueFull
	}
}

// runPublisher sends the queued client publishes to the broker, one
// after another, until done; what is still queued then (publishes already
// answered "published") goes out before it returns.
func (cl *clusterLink) runPublisher(g *Gateway, done <-chan struct{}) {
	for {
		select {
		case it := <-cl.queue.ch:
			cl.send1(g, it)
		case <-done:
			for {
				select {
				case it := <-cl.queue.ch:
					cl.send1(g, it)
				default:
					return
				}
			}
		}
	}
}

// send1 publishes one queued item and releases its bytes.
func (cl *clusterLink) send1(g *Gateway, it pubItem) {
	_, _ = cl.publish(g, it.topics, it.data)
	cl.queue.bytes.Add(-int64(len(it.data)))
}
