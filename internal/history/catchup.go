package history

// Catchup joins a reader's history with its live messages so that it gets
// every message after its position exactly once and in order. It is the
// recovery recipe of the package documentation in code.
//
// Use: subscribe to live messages first; while catching up, hand each live
// message to Buffer; read history with Store.Since from the reader's
// position; then call Finish with what Since returned, deliver its result,
// and from then on deliver a live message only if Pass says so.
//
// A Catchup is not safe for concurrent use: the caller serialises calls,
// for example on the connection's event loop.
type Catchup struct {
	last     uint64
	buffered []Entry
	done     bool
}

// NewCatchup starts a catch-up after offset, the last offset the reader
// already has (its recovered position, or the current one when it could
// not recover).
func NewCatchup(offset uint64) *Catchup { return &Catchup{last: offset} }

// Buffer keeps a live message that arrived before Finish. Live messages
// must be handed over in offset order, as the store assigned them.
func (c *Catchup) Buffer(e Entry) { c.buffered = append(c.buffered, e) }

// Finish takes the history read after the subscription and returns what
// to deliver, in order: the history after the reader's offset, then the
// buffered live messages newer than the last of it. Messages at or below
// an offset already delivered are the duplicates between the two and are
// dropped.
func (c *Catchup) Finish(history []Entry) []Entry {
	out := make([]Entry, 0, len(history)+len(c.buffered))
	for _, src := range [][]Entry{history, c.buffered} {
		for _, e := range src {
			if e.Offset > c.last {
				out = append(out, e)
				c.last = e.Offset
			}
		}
	}
	c.buffered, c.done = nil, true
	return out
}

// Pass reports whether a live message after Finish is new to the reader,
// and if so records it as delivered.
func (c *Catchup) Pass(e Entry) bool {
	if e.Offset <= c.last {
		return false
	}
	c.last = e.Offset
	return true
}

// Done reports whether Finish has been called.
func (c *Catchup) Done() bool { return c.done }

// Last is the offset of the last message delivered through the Catchup.
func (c *Catchup) Last() uint64 { return c.last }
