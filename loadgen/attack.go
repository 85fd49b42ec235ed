package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/myriadws/myriad/frame"
)

// Attack scenarios let operators check their own deployment against the
// abuse the server is built to shed: they open raw TCP connections and
// misbehave on purpose, so they do not use the client reactor. They are
// bounded on purpose too: loopback targets only, at most MaxAttackConns
// connections, at most MaxAttackDuration of holding.
const (
	MaxAttackConns    = 50000
	MaxAttackDuration = 10 * time.Minute
)

// Counters of the attack scenarios.
const (
	CounterAttackOpened  = "attack_opened"           // TCP connections established
	CounterAttackFailed  = "attack_failed"           // dials that failed (refused, timed out)
	CounterAttackClosed  = "attack_closed_by_server" // connections the server closed while attacked
	CounterAttackOpenEnd = "attack_open_at_end"      // connections still open when the attack ended
	CounterAttackProbeOK = "attack_probe_ok"         // 1 if a fresh upgrade succeeded during the attack
)

// attackKind is what each attack connection does.
type attackKind uint8

const (
	attackFlood       attackKind = iota // connect and send nothing
	attackSlowloris                     // trickle the upgrade request a byte at a time
	attackSlowReaders                   // upgrade, then never read
)

// Attack is the flood, slowloris and slow-readers scenarios. Plan.Conns
// connections go to the first target, Plan.Duration is how long they are
// held, and Plan.DialWorkers dial them. At the end it probes the server
// with one fresh upgrade while the attack connections are still open, and
// counts the attack connections the server closed.
type Attack struct {
	kind attackKind
	// Interval is the time between two trickled bytes (slowloris); 0 means
	// one second.
	Interval time.Duration
}

// NewFlood, NewSlowloris and NewSlowReaders return the attack scenarios.
func NewFlood() *Attack       { return &Attack{kind: attackFlood} }
func NewSlowloris() *Attack   { return &Attack{kind: attackSlowloris} }
func NewSlowReaders() *Attack { return &Attack{kind: attackSlowReaders} }

// Name implements Scenario.
func (a *Attack) Name() string {
	switch a.kind {
	case attackSlowloris:
		return "slowloris"
	case attackSlowReaders:
		return "slow-readers"
	}
	return "flood"
}

// errNotLoopback refuses attack targets off this host.
var errNotLoopback = errors.New("attack scenarios only target loopback addresses")

// Check implements Scenario: loopback targets, bounded count and time.
func (a *Attack) Check(p Plan) error {
	if p.Conns > MaxAttackConns {
		return fmt.Errorf("%s: at most %d connections, got %d", a.Name(), MaxAttackConns, p.Conns)
	}
	if p.Duration > MaxAttackDuration {
		return fmt.Errorf("%s: at most %s, got %s", a.Name(), MaxAttackDuration, p.Duration)
	}
	for _, t := range p.Targets {
		u, err := url.Parse(t)
		if err != nil {
			return err
		}
		ips, err := net.LookupIP(u.Hostname())
		if err != nil {
			return err
		}
		for _, ip := range ips {
			if !ip.IsLoopback() {
				return fmt.Errorf("%s: %w (%s is %s)", a.Name(), errNotLoopback, u.Hostname(), ip)
			}
		}
	}
	return nil
}

// Drive implements Scenario.
func (a *Attack) Drive(ctx context.Context, s *Session) error {
	p := s.Plan()
	u, err := url.Parse(p.Targets[0])
	if err != nil {
		return err
	}
	req := []byte(probeRequest(u))
	s.SetPhase("connecting")
	conns := a.open(ctx, s, u.Host, req)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	s.SetPhase("attacking")
	a.hold(ctx, conns, req, p.Duration)
	if probe(u, req, p.HandshakeTimeout) {
		s.Counter(CounterAttackProbeOK).Add(1)
	}
	s.SetPhase("counting")
	closed := closedByServer(conns, a.kind == attackSlowReaders, p.CloseTimeout)
	s.Counter(CounterAttackClosed).Add(int64(closed))
	s.Counter(CounterAttackOpenEnd).Add(int64(len(conns) - closed))
	return nil
}

// open dials Plan.Conns connections with Plan.DialWorkers goroutines and
// starts each one's misbehaviour.
func (a *Attack) open(ctx context.Context, s *Session, addr string, req []byte) []net.Conn {
	p := s.Plan()
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	next := make(chan struct{})
	for range max(p.DialWorkers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				c, err := net.DialTimeout("tcp", addr, p.HandshakeTimeout)
				if err != nil {
					s.Counter(CounterAttackFailed).Add(1)
					continue
				}
				s.Counter(CounterAttackOpened).Add(1)
				if a.kind == attackSlowReaders {
					if tc, ok := c.(*net.TCPConn); ok {
						_ = tc.SetReadBuffer(4 << 10)
					}
					if !upgraded(c, req, p.HandshakeTimeout) {
						s.Counter(CounterAttackFailed).Add(1)
						_ = c.Close()
						continue
					}
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
	}
	for range p.Conns {
		select {
		case next <- struct{}{}:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return conns
}

// hold keeps the attack going for d: slowloris trickles one more byte of
// the request to every connection each Interval; the others only wait.
func (a *Attack) hold(ctx context.Context, conns []net.Conn, req []byte, d time.Duration) {
	end := time.NewTimer(d)
	defer end.Stop()
	if a.kind != attackSlowloris {
		select {
		case <-end.C:
		case <-ctx.Done():
		}
		return
	}
	every := a.Interval
	if every <= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	// The last byte is never sent: the request stays incomplete.
	for sent := 0; ; sent = min(sent+1, len(req)-1) {
		for _, c := range conns {
			_ = c.SetWriteDeadline(time.Now().Add(every))
			_, _ = c.Write(req[sent : sent+1])
		}
		select {
		case <-tick.C:
		case <-end.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// closedByServer polls every connection without blocking until wait has
// passed or all are decided, and counts those the server has closed: EOF
// or reset, or, on an upgraded connection, a close frame (the server may
// still be waiting for our answer to it). A slow reader's close frame is
// queued behind everything it did not read, and a receive window that was
// shut for long may reopen only when the server's persist timer next
// fires, so wait should exceed the server's close timeout.
func closedByServer(conns []net.Conn, upgraded bool, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	scans := make([]frameScan, len(conns))
	pending := make([]int, len(conns))
	for i := range conns {
		// A window that opens by more than a segment is announced at
		// once, so the server sends the rest without waiting.
		if tc, ok := conns[i].(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(1 << 20)
		}
		pending[i] = i
	}
	closed := 0
	buf := make([]byte, 64<<10)
	for len(pending) > 0 {
		left := pending[:0]
		for _, i := range pending {
			gone := drainNow(conns[i], buf, &scans[i])
			if gone || (upgraded && scans[i].sawClose) {
				closed++
				continue
			}
			left = append(left, i)
		}
		pending = left
		if len(pending) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return closed
}

// drainNow reads what c has without blocking into scan and reports whether
// the peer has closed it (EOF or an error other than "nothing yet").
func drainNow(c net.Conn, buf []byte, scan *frameScan) (gone bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	err = rc.Read(func(fd uintptr) bool {
		for {
			n, _, rerr := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
			switch {
			case n > 0:
				_, _ = scan.Write(buf[:n])
				continue
			case rerr == unix.EAGAIN || rerr == unix.EINTR:
			default: // 0 bytes: EOF; or a reset
				gone = true
			}
			return true
		}
	})
	return gone || err != nil
}

// frameScan walks the server frames written to it, keeping only the
// header being parsed, and notes a close frame.
type frameScan struct {
	hdr      []byte
	skip     int64 // payload bytes of the current frame still to skip
	sawClose bool
}

func (f *frameScan) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && !f.sawClose {
		if f.skip > 0 {
			k := min(int64(len(p)), f.skip)
			f.skip -= k
			p = p[k:]
			continue
		}
		f.hdr = append(f.hdr, p[0])
		p = p[1:]
		h, hn, err := frame.ParseHeader(f.hdr)
		if err == frame.ErrShortBuffer {
			continue
		}
		if err != nil || hn != len(f.hdr) {
			return n, nil // not frames (an HTTP answer): ignore the rest
		}
		f.hdr = f.hdr[:0]
		f.skip = h.Length
		f.sawClose = h.OpCode == ws.OpClose
	}
	return n, nil
}

// probeRequest is a complete upgrade request for u.
func probeRequest(u *url.URL) string {
	return "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
}

// upgraded sends req on c and reports whether the server answered 101.
func upgraded(c net.Conn, req []byte, timeout time.Duration) bool {
	_ = c.SetDeadline(time.Now().Add(timeout))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	if _, err := c.Write(req); err != nil {
		return false
	}
	// Read the head a byte at a time: frames may follow it at once, and a
	// buffered reader would take some of them away from the frame scan.
	head := make([]byte, 0, 256)
	one := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if len(head) >= 4096 {
			return false
		}
		if _, err := io.ReadFull(c, one); err != nil {
			return false
		}
		head = append(head, one[0])
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), nil)
	if err != nil {
		return false
	}
	return resp.StatusCode == http.StatusSwitchingProtocols
}

// probe checks that a fresh client can still upgrade.
func probe(u *url.URL, req []byte, timeout time.Duration) bool {
	c, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		return false
	}
	defer c.Close()
	return upgraded(c, req, timeout)
}
