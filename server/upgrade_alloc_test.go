package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/panjf2000/gnet/v2"
)

// The upgrade path's allocations are counted on the reactor's own
// callbacks, driven with an in-memory stand-in for the one gnet
// connection they touch: over real sockets, gnet's accept, the client
// and the runtime would allocate in the same process and hide whether
// myriad's code does. The stand-in holds the request as gnet's inbound
// buffer would and keeps what is written.

// memConn is the part of gnet.Conn the reactor uses on the upgrade path;
// any other method panics (the embedded interface is nil).
type memConn struct {
	gnet.Conn
	el   gnet.EventLoop
	in   []byte
	out  bytes.Buffer
	ctx  any
	shut bool
}

func (m *memConn) Peek(n int) ([]byte, error) {
	if n < 0 || n > len(m.in) {
		return m.in, nil
	}
	return m.in[:n], nil
}

func (m *memConn) Discard(n int) (int, error) {
	if n < 0 || n > len(m.in) {
		n = len(m.in)
	}
	m.in = m.in[n:]
	return n, nil
}

func (m *memConn) Write(b []byte) (int, error) { return m.out.Write(b) }
func (m *memConn) OutboundBuffered() int       { return 0 }

// Fd is -1: a stand-in has no socket, so the loop writes to it with Write.
func (m *memConn) Fd() int                   { return -1 }
func (m *memConn) Context() any              { return m.ctx }
func (m *memConn) SetContext(v any)          { m.ctx = v }
func (m *memConn) EventLoop() gnet.EventLoop { return m.el }
func (m *memConn) Close() error              { m.shut = true; return nil }
func (m *memConn) Writev(bs [][]byte) (int, error) {
	n := 0
	for _, b := range bs {
		k, _ := m.out.Write(b)
		n += k
	}
	return n, nil
}

// memLoop stands for one gnet event loop: only its identity is used.
type memLoop struct{ gnet.EventLoop }

const memRequest = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// upgradeOnce runs one connection through accept, upgrade and close on
// h, reusing m, and reports whether the 101 was written.
func upgradeOnce(h *handler, m *memConn, req []byte) bool {
	m.in, m.ctx, m.shut = req, nil, false
	m.out.Reset()
	h.OnOpen(m)
	h.OnTraffic(m)
	ok := bytes.HasPrefix(m.out.Bytes(), []byte("HTTP/1.1 101 "))
	h.OnClose(m, nil)
	return ok
}

// TestUpgradeAllocations checks that an upgrade allocates nothing in the
// reactor beyond the connection's own 64-byte Conn, made in OnOpen and
// kept while the connection lives: parsing the request, the accept key,
// the 101 written from the loop's buffer, the timing wheel, the Handler's
// OnOpen and OnClose. A subprotocol and permessage-deflate offer take
// the negotiation paths too.
func TestUpgradeAllocations(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		req  string
		want []string // in the 101
	}{
		{name: "plain", req: memRequest, want: []string{"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"}},
		{
			name: "subprotocol and deflate",
			cfg:  Config{Subprotocols: []string{"chat", "v2"}, Compression: true},
			req: strings.Replace(memRequest, "\r\n\r\n", "\r\nSec-WebSocket-Protocol: x, v2\r\n"+
				"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n", 1),
			want: []string{"Sec-WebSocket-Protocol: v2\r\n", "permessage-deflate"},
		},
		{
			name: "origin checked",
			cfg:  Config{AllowedOrigins: []string{"https://*.example.com"}},
			req:  strings.Replace(memRequest, "\r\n\r\n", "\r\nOrigin: https://app.example.com\r\n\r\n", 1),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Loops = 1
			cfg.Routes = map[string]Handler{"/echo": Echo{}}
			srv, err := New(cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			h := &handler{srv: srv}
			m := &memConn{el: &memLoop{}}
			req := []byte(tc.req)
			if !upgradeOnce(h, m, req) {
				t.Fatalf("no 101; wrote %q", m.out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(m.out.String(), w) {
					t.Errorf("the 101 lacks %q: %q", w, m.out.String())
				}
			}
			if n := testing.AllocsPerRun(200, func() { upgradeOnce(h, m, req) }); n != 1 {
				t.Errorf("accept+upgrade+close allocated %v times, want 1 (the Conn)", n)
			}
			// The upgrade alone, on connections already accepted.
			const runs = 200
			ms := make([]*memConn, runs+1)
			for i := range ms {
				ms[i] = &memConn{el: m.el, in: req}
				ms[i].out.Grow(512) // the stand-in's own buffer, not counted
				h.OnOpen(ms[i])
			}
			next := 0
			if n := testing.AllocsPerRun(runs, func() { h.OnTraffic(ms[next]); next++ }); n != 0 {
				t.Errorf("the upgrade allocated %v times, want 0", n)
			}
			for _, m := range ms {
				if c := m.ctx.(*Conn); c.state != stateOpen {
					t.Errorf("state %v after the upgrade", c.state)
				}
				h.OnClose(m, nil)
			}
			if st := srv.Stats(); st.Upgrades == 0 || st.Open != 0 {
				t.Errorf("stats after the runs: upgrades %d, open %d", st.Upgrades, st.Open)
			}
		})
	}
}

// BenchmarkUpgrade runs accept, upgrade and close of one connection
// through the reactor's callbacks (see memConn): the one allocation per
// op is the Conn.
func BenchmarkUpgrade(b *testing.B) {
	srv, err := New(Config{Loops: 1, Routes: map[string]Handler{"/echo": Echo{}}})
	if err != nil {
		b.Fatal(err)
	}
	h := &handler{srv: srv}
	m := &memConn{el: &memLoop{}}
	req := []byte(memRequest)
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		if !upgradeOnce(h, m, req) {
			b.Fatalf("no 101: %q", m.out.String())
		}
	}
}
