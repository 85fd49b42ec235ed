package handover

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// fdOf is the descriptor of a listener opened by listen.
func fdOf(t *testing.T, ln net.Listener) int {
	t.Helper()
	sc, err := ln.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	if err := sc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		t.Fatal(err)
	}
	return fd
}

// blocks opens n blocks of size listeners each on addr, one block after
// the other as a supervisor starts its workers, and returns their
// descriptors by block, with the port resolved.
func blocks(t *testing.T, addr string, n, size int) ([][]net.Listener, string) {
	t.Helper()
	var out [][]net.Listener
	for range n {
		var lns []net.Listener
		lns, addr = listen(t, addr, size)
		out = append(out, lns)
	}
	return out, addr
}

// dialN makes n connections to addr and keeps them open until the test
// ends; each sits in some listener's accept queue once Dial returns.
func dialN(t *testing.T, addr string, n int) {
	t.Helper()
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
}

// queuedBlock is the accept-queue total of a block's listeners.
func queuedBlock(t *testing.T, lns []net.Listener) int {
	t.Helper()
	var fds []int
	for _, ln := range lns {
		fds = append(fds, fdOf(t, ln))
	}
	return queued(t, fds)
}

// TestSteerAroundSkipsOneBlock plays a supervisor's port: three workers'
// blocks of two listeners, then a replacement's block appended. Steered
// around the middle block, no connection lands there, and every other
// block, the new one included, gets some.
func TestSteerAroundSkipsOneBlock(t *testing.T) {
	const size, conns = 2, 120
	bs, addr := blocks(t, "127.0.0.1:0", 4, size)
	if err := SteerAround(fdOf(t, bs[3][0]), 1*size, size, 3*size); err != nil {
		t.Fatal(err)
	}
	dialN(t, addr, conns)
	total := 0
	for i, b := range bs {
		n := queuedBlock(t, b)
		total += n
		switch {
		case i == 1 && n != 0:
			t.Errorf("skipped block got %d connections", n)
		case i != 1 && n == 0:
			t.Errorf("block %d got no connection of %d", i, conns)
		}
	}
	if total != conns {
		t.Errorf("%d connections queued, want %d", total, conns)
	}
}

// TestClosedBlockIsFilledByTheLastOne checks the kernel fact the
// supervisor's layout rests on: when a block's listeners close, the last
// members of the group move into their places, so the last block takes
// over the closed block's indices. A range program over those indices
// then reaches only the moved block.
func TestClosedBlockIsFilledByTheLastOne(t *testing.T) {
	const size, conns = 3, 60
	cases := []struct {
		name   string
		closed int
	}{
		{"first block", 0},
		{"middle block", 1},
		{"last block", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bs, addr := blocks(t, "127.0.0.1:0", 4, size)
			for _, ln := range bs[tc.closed] {
				_ = ln.Close()
			}
			mover := len(bs) - 1 // the last block fills the hole
			if tc.closed == mover {
				mover = -1 // nothing moves: the hole was the end
			}
			live := bs[(tc.closed+1)%len(bs)][0]
			if mover < 0 {
				// The group is blocks 0..2 in place: index 0..size-1 is block 0.
				if err := Steer(fdOf(t, live), 0, size); err != nil {
					t.Fatal(err)
				}
				dialN(t, addr, conns)
				if n := queuedBlock(t, bs[0]); n != conns {
					t.Fatalf("block 0 queued %d of %d", n, conns)
				}
				return
			}
			if err := Steer(fdOf(t, live), tc.closed*size, size); err != nil {
				t.Fatal(err)
			}
			dialN(t, addr, conns)
			if n := queuedBlock(t, bs[mover]); n != conns {
				t.Fatalf("the last block queued %d of %d connections steered to the closed block's indices", n, conns)
			}
		})
	}
}

// TestUnsteerSpreadsOverEveryListener steers everything to one block,
// then gives the group back to the kernel's hash: every block gets
// connections again.
func TestUnsteerSpreadsOverEveryListener(t *testing.T) {
	const size, conns = 1, 120
	bs, addr := blocks(t, "127.0.0.1:0", 3, size)
	fd := fdOf(t, bs[0][0])
	if err := Steer(fd, 2, 1); err != nil {
		t.Fatal(err)
	}
	if err := Unsteer(fd); err != nil {
		t.Fatal(err)
	}
	dialN(t, addr, conns)
	for i, b := range bs {
		if n := queuedBlock(t, b); n == 0 {
			t.Errorf("block %d got no connection of %d after Unsteer", i, conns)
		}
	}
}

func TestSteerAroundRejectsBadRanges(t *testing.T) {
	bs, _ := blocks(t, "127.0.0.1:0", 1, 1)
	fd := fdOf(t, bs[0][0])
	for _, tc := range []struct {
		name                   string
		skipFirst, skip, total int
	}{
		{"negative start", -1, 1, 2},
		{"empty skip", 0, 0, 2},
		{"no members left", 0, 1, 0},
		{"start past the end", 3, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := SteerAround(fd, tc.skipFirst, tc.skip, tc.total); err != ErrRange {
				t.Fatalf("SteerAround(%d, %d, %d) = %v, want ErrRange", tc.skipFirst, tc.skip, tc.total, err)
			}
		})
	}
}
