package server

import (
	"strconv"
	"testing"

	"github.com/gobwas/ws"
)

// sinkConn is a memConn whose writes are counted and dropped, so that a
// fan-out to thousands of stand-in connections holds no output.
type sinkConn struct {
	memConn
	wrote int
}

func (s *sinkConn) Write(b []byte) (int, error) { s.wrote += len(b); return len(b), nil }

// fanoutConns upgrades n /echo connections on one loop of a fresh server
// and returns them with their stand-ins.
func fanoutConns(tb testing.TB, n int) ([]*Conn, []*sinkConn) {
	tb.Helper()
	srv, err := New(Config{Loops: 1, Routes: map[string]Handler{"/echo": Echo{}}})
	if err != nil {
		tb.Fatal(err)
	}
	h := &handler{srv: srv}
	el := &memLoop{}
	conns := make([]*Conn, n)
	sinks := make([]*sinkConn, n)
	for i := range conns {
		s := &sinkConn{memConn: memConn{el: el, in: []byte(memRequest)}}
		h.OnOpen(s)
		h.OnTraffic(s)
		c, ok := s.ctx.(*Conn)
		if !ok || c.state != stateOpen {
			tb.Fatalf("connection %d not upgraded", i)
		}
		s.wrote = 0
		conns[i], sinks[i] = c, s
	}
	return conns, sinks
}

// fanout writes p to every connection, as a loop's share of a publish
// does (the gateway runs it in steps of SliceItems).
func fanout(tb testing.TB, conns []*Conn, p *PreparedFrame) {
	for _, c := range conns {
		if err := c.SendPrepared(p, SlowClose); err != nil {
			tb.Fatalf("SendPrepared: %v", err)
		}
	}
}

// BenchmarkFanout is the publish path below any application: one message
// encoded once (Prepare) and written to N connections of one loop
// (SendPrepared). allocs/op are Prepare's, the frame and its handle, and
// do not grow with N; ns/sub is the cost per subscriber.
func BenchmarkFanout(b *testing.B) {
	data := []byte(`{"topic":"bench","data":{"n":1,"text":"a small message"}}`)
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run("subs="+strconv.Itoa(n), func(b *testing.B) {
			conns, _ := fanoutConns(b, n)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				fanout(b, conns, Prepare(ws.OpText, data))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/sub")
		})
	}
}

// TestFanoutAllocations checks that writing a prepared frame to many
// connections allocates nothing per subscriber, and that each got the
// whole frame once.
func TestFanoutAllocations(t *testing.T) {
	const n = 500
	conns, sinks := fanoutConns(t, n)
	data := []byte("hello, subscribers")
	p := Prepare(ws.OpText, data)
	const runs = 20
	if a := testing.AllocsPerRun(runs, func() { fanout(t, conns, p) }); a != 0 {
		t.Errorf("a fan-out to %d connections allocated %v times, want 0", n, a)
	}
	frameLen := 2 + len(data)
	for i, s := range sinks {
		if s.wrote != (runs+1)*frameLen { // AllocsPerRun runs f once more to warm up
			t.Fatalf("connection %d was written %d bytes, want %d", i, s.wrote, (runs+1)*frameLen)
		}
	}
	if got := conns[0].loop.stats.messagesOut.Load(); got != uint64((runs+1)*n) {
		t.Errorf("messages out %d, want %d", got, (runs+1)*n)
	}
}
