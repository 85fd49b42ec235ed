package server

import (
	"hash/crc32"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"
)

// slicedHandler starts a long sliced job when a connection sends "job"
// and echoes anything else. Each step does a fixed amount of CPU work.
type slicedHandler struct {
	steps    int
	finished *atomic.Int32 // jobs done
	stepped  *atomic.Int64 // steps run, all jobs
}

func (h slicedHandler) OnOpen(*Conn)             {}
func (h slicedHandler) OnClose(*Conn, CloseInfo) {}
func (h slicedHandler) work(buf []byte) uint32   { return crc32.ChecksumIEEE(buf) }
func (h slicedHandler) OnMessage(c *Conn, op ws.OpCode, p []byte) {
	if string(p) != "job" {
		_ = c.Send(op, p)
		return
	}
	buf := make([]byte, 64<<10)
	i := 0
	err := c.Loop().PostSliced(func() bool {
		buf[0] = byte(h.work(buf))
		h.stepped.Add(1)
		i++
		if i < h.steps {
			return false
		}
		h.finished.Add(1)
		_ = c.Send(ws.OpText, []byte("done"))
		return true
	})
	if err != nil {
		c.Close(ws.StatusInternalServerError, err.Error())
	}
}

// TestPostSlicedYields runs two long sliced jobs on a server's only loop
// and, meanwhile, echoes on another connection of that loop: the echo
// must come back while the jobs are still running (they yield to I/O
// between steps), and each job must run exactly its number of steps.
func TestPostSlicedYields(t *testing.T) {
	const steps = 2000
	h := slicedHandler{steps: steps, finished: new(atomic.Int32), stepped: new(atomic.Int64)}
	srv := startServer(t, Config{Loops: 1, Routes: map[string]Handler{"/echo": h}})
	a, b, other := upgradeRaw(t, srv, "/echo"), upgradeRaw(t, srv, "/echo"), upgradeRaw(t, srv, "/echo")
	a.send(true, ws.OpText, []byte("job"))
	b.send(true, ws.OpText, []byte("job"))
	waitFor(t, "the jobs to start", ioTimeout, func() bool { return h.stepped.Load() > 0 })
	other.send(true, ws.OpText, []byte("still here"))
	other.expectMessage(ws.OpText, []byte("still here"))
	if f := h.finished.Load(); f != 0 {
		t.Fatalf("%d jobs of %d steps finished before an echo on the same loop came back: the loop did not yield", f, steps)
	}
	fresh := upgradeRaw(t, srv, "/echo") // an upgrade is served meanwhile too
	fresh.send(true, ws.OpText, []byte("new"))
	fresh.expectMessage(ws.OpText, []byte("new"))
	a.expectMessage(ws.OpText, []byte("done"))
	b.expectMessage(ws.OpText, []byte("done"))
	if got := h.stepped.Load(); got != 2*steps {
		t.Fatalf("%d steps run, want %d", got, 2*steps)
	}
}
