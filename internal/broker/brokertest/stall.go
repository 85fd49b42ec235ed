package brokertest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// StallProxy is a TCP proxy in front of a broker whose client-to-broker
// direction can be stopped: the client's writes then fill the socket
// buffers, and nats.go's flusher blocks in its write holding the
// connection's mutex, as on a slow or stuck broker link.
type StallProxy struct {
	ln     net.Listener
	target string
	gate   sync.RWMutex // write-locked while stalled
	mu     sync.Mutex
	conns  []net.Conn
}

// StartStallProxy proxies a loopback port to the broker at brokerURL
// until the test ends.
func StartStallProxy(t testing.TB, brokerURL string) *StallProxy {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &StallProxy{ln: ln, target: u.Host}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// URL is the proxy's broker URL, for clients to connect to.
func (p *StallProxy) URL() string { return "nats://" + p.ln.Addr().String() }

func (p *StallProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		// A fixed receive buffer, so that a stall is felt after a few
		// megabytes instead of the tens autotuning may reach; not below
		// loopback's 64 KiB segments, or the sender's silly-window
		// avoidance trickles the backlog out after the stall.
		_ = c.(*net.TCPConn).SetReadBuffer(256 << 10)
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(c, b) }()
		go p.pump(b, c)
	}
}

// pump copies the client's bytes to the broker, waiting at the gate while
// stalled (and then not reading the client's socket at all).
func (p *StallProxy) pump(dst, src net.Conn) {
	buf := make([]byte, 4<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		p.gate.RLock()
		_, err = dst.Write(buf[:n])
		p.gate.RUnlock()
		if err != nil {
			return
		}
	}
}

// Stall stops the client-to-broker direction until Resume.
func (p *StallProxy) Stall() { p.gate.Lock() }

// Resume restarts the direction Stall stopped; call it once per Stall.
func (p *StallProxy) Resume() { p.gate.Unlock() }

func (p *StallProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
}

// Jam stalls p and makes the client behind it block: a goroutine
// publishes 64 MiB through publish, 32 KiB a call, far past any socket
// buffer, so nats.go's writes block holding the connection's lock, and
// every Subscribe or Unsubscribe waits for it. filled is closed once the
// 64 MiB went out (or a publish failed), which a stalled proxy does not
// allow; release resumes the proxy, and runs at cleanup too, so a failed
// test does not leave it stalled.
func Jam(t testing.TB, p *StallProxy, publish func(b []byte) error) (filled <-chan struct{}, release func()) {
	t.Helper()
	p.Stall()
	var once sync.Once
	release = func() { once.Do(p.Resume) }
	t.Cleanup(release)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pad := make([]byte, 32<<10)
		for range 2048 {
			if publish(pad) != nil {
				return
			}
		}
	}()
	return done, release
}
