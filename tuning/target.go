package tuning

import (
	"errors"
	"fmt"
	"strings"
)

// Role says which side of the connections a process is: the server accepts
// them, the load generator dials them. The roles need different settings: only
// a dialler runs out of ephemeral ports, only a listener needs deep accept
// queues. The zero value is Server.
type Role int

const (
	// Server accepts connections on a listening port.
	Server Role = iota
	// Loadgen dials connections to one or more servers.
	Loadgen
)

// String returns "server" or "loadgen", the spelling ParseRole accepts.
func (r Role) String() string {
	switch r {
	case Server:
		return "server"
	case Loadgen:
		return "loadgen"
	default:
		return fmt.Sprintf("Role(%d)", int(r))
	}
}

// ParseRole parses "server" or "loadgen" (case-insensitive).
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "server":
		return Server, nil
	case "loadgen":
		return Loadgen, nil
	default:
		return 0, fmt.Errorf("unknown role %q: want server or loadgen", s)
	}
}

// Severity grades a Finding. The order matters: a larger value is worse, so
// the worst finding of a report is the maximum.
type Severity int

const (
	// OK means the setting already supports the target.
	OK Severity = iota
	// Warn means the target is reachable but something degrades: a burst is
	// dropped, memory is tight, a port can be taken by another socket.
	Warn
	// Fail means the target cannot be reached with this setting.
	Fail
)

// String returns "ok", "warn" or "fail".
func (s Severity) String() string {
	switch s {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	case Fail:
		return "fail"
	default:
		return fmt.Sprintf("Severity(%d)", int(s))
	}
}

const (
	// KernelBytesPerConn is the kernel memory one idle, established TCP
	// socket costs, in bytes. Measured on this project's Linux 6.18 test host
	// by opening 9,000 loopback connection pairs (18,000 sockets, each
	// registered with epoll) and diffing /proc/slabinfo before and after:
	// TCP 2,358 + sock_inode_cache 825 + dentry 191 + filp 190 +
	// eventpoll_epi 128 + lsm caches 86 + small kmallocs 65 = 3,843 bytes.
	// /proc/meminfo SUnreclaim grew by 2,910 bytes per socket (the inode and
	// dentry parts count as reclaimable but stay pinned while the socket is
	// open). It is the same for the accepting and the dialling side. Idle
	// sockets hold no buffer pages: /proc/net/sockstat "TCP mem" did not
	// move. The figure varies with kernel version and LSMs; see
	// server-host.md for how to measure it.
	KernelBytesPerConn = 3843

	// DefaultUserBytesPerConn is the user-space memory per connection
	// assumed when Target.UserBytesPerConn is zero: the design budget of the
	// server is under one kilobyte per idle connection.
	DefaultUserBytesPerConn = 1024

	// FDHeadroom is how many descriptors beyond one per connection a
	// process needs: listeners, epoll and eventfd descriptors of each event
	// loop, log files, and the descriptors an accept briefly holds.
	FDHeadroom = 1024

	// MaxEphemeralPorts is the size of the widest usable ephemeral range,
	// 1024-65535: ports below 1024 are privileged and never handed out.
	MaxEphemeralPorts = 65535 - 1024 + 1

	// busyConnPages is how many pages of the kernel's TCP memory budget
	// (tcp_mem) one connection holds while a small message is queued on
	// it, which is every connection during a broadcast. Measured like
	// KernelBytesPerConn: 9,000 sockets each holding 125 unread bytes raised
	// /proc/net/sockstat "TCP mem" by 8,448 pages, 1,000 bytes the same,
	// 4,000 bytes twice that.
	busyConnPages = 1

	// systemFDHeadroom is the part of fs.file-max left for everything else
	// on the host.
	systemFDHeadroom = 65536
)

// Target is what a host is checked against: how many connections one
// process must hold and from which side. The zero value is invalid because
// Conns must be positive; every other zero field takes a default.
type Target struct {
	// Conns is the number of connections one process must hold at once.
	Conns int
	// Role is the side of the connections this process is on.
	Role Role
	// Port is the server's listening port. When it lies inside the
	// ephemeral range and is not reserved, an outgoing connection can take
	// it while the server is down. Zero skips that check.
	Port int
	// Sources is how many local addresses a load generator spreads its
	// connections over (for example 127.0.0.1-127.0.0.16). Zero means 1.
	Sources int
	// Destinations is how many distinct server address:port pairs a load
	// generator dials. Zero means 1.
	Destinations int
	// UserBytesPerConn is the process's own memory per connection. Zero
	// means DefaultUserBytesPerConn.
	UserBytesPerConn int
	// Assumed marks a target nobody asked for, such as the server's
	// "whatever the descriptor limit allows" when --max-conns is unset.
	// Check judges it the same way, but LogShortfalls logs its shortfalls
	// at debug level: a plain start must not warn about a million-socket
	// host setup the user never wanted. The zero value, a target the user
	// set, keeps the warnings.
	Assumed bool
}

// withDefaults fills the zero fields that have defaults.
func (t Target) withDefaults() Target {
	if t.Sources == 0 {
		t.Sources = 1
	}
	if t.Destinations == 0 {
		t.Destinations = 1
	}
	if t.UserBytesPerConn == 0 {
		t.UserBytesPerConn = DefaultUserBytesPerConn
	}
	return t
}

// Validate reports the first field that makes the target meaningless.
func (t Target) Validate() error {
	switch {
	case t.Conns <= 0:
		return errors.New("tuning: Conns must be positive")
	case t.Role != Server && t.Role != Loadgen:
		return fmt.Errorf("tuning: unknown role %d", int(t.Role))
	case t.Port < 0 || t.Port > 65535:
		return fmt.Errorf("tuning: port %d out of range 0-65535", t.Port)
	case t.Sources < 0:
		return errors.New("tuning: Sources must not be negative")
	case t.Destinations < 0:
		return errors.New("tuning: Destinations must not be negative")
	case t.UserBytesPerConn < 0:
		return errors.New("tuning: UserBytesPerConn must not be negative")
	}
	return nil
}

// noFileNeeded is the RLIMIT_NOFILE a process holding t.Conns connections
// needs.
func (t Target) noFileNeeded() uint64 {
	return uint64(t.Conns) + FDHeadroom
}
