package server

import (
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// slowConfig makes a consumer that does not read fill every buffer on the
// way quickly: small socket buffers and a 64 KiB outbound bound. A slow
// consumer is sent close 1008 and given CloseTimeout to answer; a short
// one keeps the tests whose clients never answer quick.
func slowConfig() Config {
	return Config{
		CloseTimeout:     300 * time.Millisecond,
		MaxOutbound:      64 << 10,
		SocketSendBuffer: 4 << 10,
		SocketRecvBuffer: 4 << 10,
	}
}

// heapWatch samples the heap in use until stopped and reports the largest
// growth over the level when it started.
type heapWatch struct {
	base uint64
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func watchHeap() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w := &heapWatch{base: ms.HeapInuse, stop: make(chan struct{}), done: make(chan struct{})}
	w.peak.Store(ms.HeapInuse)
	go func() {
		defer close(w.done)
		var ms runtime.MemStats
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > w.peak.Load() {
				w.peak.Store(ms.HeapInuse)
			}
			runtime.Gosched()
		}
	}()
	return w
}

// growth stops the watch and returns the peak growth in bytes.
func (w *heapWatch) growth() uint64 {
	close(w.stop)
	<-w.done
	return w.peak.Load() - w.base
}

// heapBound is a generous ceiling on heap growth while one slow consumer
// is being served with a 64 KiB outbound bound: the queue, one message
// being read, and the test's own buffers fit many times over.
const heapBound = 16 << 20

// TestSlowConsumerEcho has a client send large messages to /echo and never
// read the echoes. The echoes pile up until the outbound bound is reached,
// and the server closes the connection instead of buffering more.
func TestSlowConsumerEcho(t *testing.T) {
	cfg := slowConfig()
	// A small receive buffer would only slow the client's sending down:
	// the server reads all it gets.
	cfg.SocketRecvBuffer = 0
	srv := startServer(t, cfg)
	c := upgradeRaw(t, srv, "/echo")
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	msg := c.frameBytes(true, ws.OpBinary, binaryPayload(16<<10, 4))

	heap := watchHeap()
	writeErr := make(chan error, 1)
	go func() {
		for {
			if _, err := c.conn.Write(msg); err != nil {
				writeErr <- err
				return
			}
		}
	}()
	waitFor(t, "the slow consumer to be closed", ioTimeout, func() bool {
		st := srv.Stats()
		return st.SlowConsumers >= 1 && st.Open == 0
	})
	grew := heap.growth()
	// The client's writes fail once the server has closed the connection.
	if err := <-writeErr; err == nil {
		t.Fatal("write succeeded after close")
	}
	// Whatever was in flight can be read, then the connection ends.
	if _, err := io.Copy(io.Discard, c.conn); err != nil && !isConnReset(err) {
		t.Fatalf("reading after close: %v", err)
	}
	st := srv.Stats()
	if st.SlowConsumers != 1 {
		t.Fatalf("SlowConsumers = %d, want 1", st.SlowConsumers)
	}
	if grew > heapBound {
		t.Fatalf("heap grew by %d bytes serving one slow consumer, bound %d", grew, heapBound)
	}
	t.Logf("heap growth %d KiB, %d messages in, %d out", grew>>10, st.MessagesIn, st.MessagesOut)
}

// pushHandler hands each opened connection to the test.
type pushHandler struct {
	opened chan *Conn
	closed chan *Conn
}

func (h pushHandler) OnOpen(c *Conn)                     { h.opened <- c }
func (h pushHandler) OnMessage(*Conn, ws.OpCode, []byte) {}
func (h pushHandler) OnClose(c *Conn, _ CloseInfo)       { h.closed <- c }

// TestSlowConsumerPush pushes messages to a client that never reads from
// another goroutine, through Execute, without waiting for each to run, as
// a broadcaster does. The connection is closed once, counted once, and
// sends queued behind the closing one fail instead of writing more.
func TestSlowConsumerPush(t *testing.T) {
	h := pushHandler{opened: make(chan *Conn, 1), closed: make(chan *Conn, 1)}
	cfg := slowConfig()
	cfg.Routes = map[string]Handler{"/push": h}
	srv := startServer(t, cfg)
	c := upgradeRaw(t, srv, "/push")
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	conn := <-h.opened
	chunk := binaryPayload(8<<10, 5)

	var (
		mu      sync.Mutex
		results = map[error]int{}
		ran     int
	)
	heap := watchHeap()
	const maxPushes = 20000
	pushes := 0
	for closed := false; !closed && pushes < maxPushes; {
		select {
		case <-h.closed:
			closed = true
			continue
		default:
		}
		err := srv.Execute(conn, func() {
			err := conn.Send(ws.OpBinary, chunk)
			mu.Lock()
			results[err]++
			ran++
			mu.Unlock()
		})
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
		pushes++
	}
	waitFor(t, "the slow consumer to be closed", ioTimeout, func() bool { return srv.Stats().Open == 0 })
	waitFor(t, "every push to run", ioTimeout, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return ran == pushes
	})
	grew := heap.growth()

	st := srv.Stats()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d pushes: %v; heap growth %d KiB", pushes, results, grew>>10)
	if st.SlowConsumers != 1 {
		t.Fatalf("SlowConsumers = %d, want 1", st.SlowConsumers)
	}
	if results[ErrSlowConsumer] != 1 {
		t.Fatalf("Send returned ErrSlowConsumer %d times, want once", results[ErrSlowConsumer])
	}
	for err, n := range results {
		if err != nil && err != ErrSlowConsumer && err != ErrClosed {
			t.Fatalf("Send returned %v %d times", err, n)
		}
	}
	if grew > heapBound {
		t.Fatalf("heap grew by %d bytes serving one slow consumer, bound %d", grew, heapBound)
	}
	if _, err := io.Copy(io.Discard, c.conn); err != nil && !isConnReset(err) {
		t.Fatalf("reading after close: %v", err)
	}
}
