package server

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sendFlags: never block the loop, and report a peer that has gone as
// EPIPE instead of raising SIGPIPE.
const sendFlags = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL

// put writes b to c's socket and reports whether the connection is still
// usable (an error means gnet has closed it). When nothing of c's is
// queued, b goes to the kernel with one send(2), which costs less than
// the write(2) gnet's Write makes (no file-position or file-notify
// work); whatever the kernel does not take, or all of b when bytes are
// already queued or the send failed, goes through gnet's Write, which
// queues it behind the queued bytes in order or, on a broken
// connection, closes it as it would have for its own write. A gnet.Conn
// without a descriptor (Fd below 0: an in-memory stand-in) always goes
// through Write. b is not retained. Loop-only.
func (l *loop) put(c *Conn, b []byte) error {
	if fd := c.gc.Fd(); fd >= 0 && len(b) > 0 && c.gc.OutboundBuffered() == 0 {
		if n := sendNow(fd, b); n > 0 {
			if b = b[n:]; len(b) == 0 {
				return nil
			}
		}
	}
	_, err := c.gc.Write(b)
	return err
}

// sendNow makes one non-blocking send(2) of b on fd and returns how many
// bytes the kernel took: 0 when it took none, for whatever reason (a full
// socket buffer, an interrupted call, a broken connection), which the
// caller's fallback to gnet's Write meets again and handles. b must not
// be empty.
func sendNow(fd int, b []byte) int {
	n, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), sendFlags, 0, 0)
	if errno != 0 {
		return 0
	}
	return int(n)
}
