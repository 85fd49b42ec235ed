package history

import (
	"context"
	"errors"
	"time"
)

// Entry is one stored message of a topic.
type Entry struct {
	// Offset is the message's position in its topic: strictly increasing
	// per topic and epoch. The Local store numbers 1, 2, 3, ... with no
	// gap; the JetStream store uses the stream sequence, which increases
	// per topic but skips the sequences of other topics.
	Offset uint64
	// Time is when the store accepted the message.
	Time time.Time
	// Payload is shared with the store and with every other reader: it
	// must not be modified.
	Payload []byte
}

// Position is a cursor in a topic's history: the offset of the last
// message a reader has, in the epoch it belongs to. The zero Position
// matches no epoch.
type Position struct {
	Offset uint64
	Epoch  string
}

// Store is what the gateway needs from a history store, Local on one node
// or JetStream in a cluster. All methods may be called from any goroutine.
type Store interface {
	// Append stores payload as the topic's next message and returns its
	// position. It returns once the message is stored (Local: at once;
	// JetStream: after the publish acknowledgement). The store does not
	// keep payload itself: Local copies it, JetStream sends it.
	Append(ctx context.Context, topic string, payload []byte) (Position, error)
	// Since returns up to limit messages after since.Offset, oldest first
	// (limit <= 0: all retained). ok is false, and msgs empty, when
	// since.Epoch is not the topic's epoch or the history no longer reaches
	// back to the message after since.Offset: the reader has missed
	// messages that are gone ("recovered: false"). cur is the topic's
	// position now, from which a reader that could not recover goes on.
	// The caller reads again from the last returned offset to get more.
	Since(ctx context.Context, topic string, since Position, limit int) (msgs []Entry, ok bool, cur Position, err error)
	// Position returns the topic's current position: the offset of its
	// last message (or the point a first message will follow) and its
	// epoch. It never returns an empty epoch, so a reader that subscribes
	// to a quiet topic can still recover its first messages.
	Position(ctx context.Context, topic string) (Position, error)
	// Close releases the store; later calls fail with ErrClosed.
	Close() error
}

// Sentinel errors of the package.
var (
	// ErrConfig is wrapped by Validate errors.
	ErrConfig = errors.New("history: invalid config")
	// ErrClosed is returned by calls on a closed store.
	ErrClosed = errors.New("history: store closed")
	// ErrTooLarge is returned by Append for a message whose stored cost
	// alone exceeds the memory budget.
	ErrTooLarge = errors.New("history: message larger than the memory budget")
	// ErrBadTopic is returned for an empty topic.
	ErrBadTopic = errors.New("history: empty topic")
)
