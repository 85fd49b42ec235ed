"""wire: loopback WebSocket and HTTP primitives for the hardening probes.

Raw sockets on purpose: the probes send what no well-behaved client library
would (HTTP/2.0 request lines, bare LF, unfinished heads and messages) and
must see exactly what the server answers, byte for byte and in time.
"""

import http.client
import json
import socket
import time

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
HOST = "127.0.0.1"


def dial(port, rcvbuf=None, timeout=10.0):
    """dial opens a TCP connection; rcvbuf is set before connecting so the
    window it announces is small from the first segment."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((HOST, port))
    return s


def upgrade_request(path, host=None, extra=(), version="HTTP/1.1", nl="\r\n"):
    """upgrade_request is a complete upgrade request head, with extra
    header lines and a chosen version and line ending."""
    lines = [f"GET {path} {version}", f"Host: {host or HOST}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13"]
    lines += list(extra)
    return (nl.join(lines) + nl + nl).encode("latin-1")


def read_head(s, timeout=10.0):
    """read_head reads an HTTP response head. It returns (status, rest,
    seconds): status None when the server closed or stayed silent until
    timeout, rest the bytes after the head."""
    t0 = time.monotonic()
    buf = b""
    s.settimeout(timeout)
    while b"\r\n\r\n" not in buf:
        left = timeout - (time.monotonic() - t0)
        if left <= 0:
            return None, b"", time.monotonic() - t0
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except (socket.timeout, ConnectionError):
            return None, b"", time.monotonic() - t0
        if not b:
            return None, b"", time.monotonic() - t0
        buf += b
    head, rest = buf.split(b"\r\n\r\n", 1)
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        status = None
    return status, rest, time.monotonic() - t0


def answer(port, raw, timeout=12.0):
    """answer sends raw bytes on a fresh connection and returns the
    response status (None: closed or silent) and the seconds it took."""
    s = dial(port, timeout=timeout)
    try:
        s.sendall(raw)
        status, _, secs = read_head(s, timeout)
        return status, secs
    finally:
        s.close()


def frame(op, payload=b"", fin=True):
    """frame is a client frame; the mask key is zero, which RFC 6455
    allows and which leaves the payload as it is (cheap for big ones)."""
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    if n < 126:
        hdr = bytes([b0, 0x80 | n])
    elif n < 65536:
        hdr = bytes([b0, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        hdr = bytes([b0, 0x80 | 127]) + n.to_bytes(8, "big")
    return hdr + b"\0\0\0\0" + payload


class WS:
    """WS is an upgraded client connection that reads server frames."""

    def __init__(self, sock, rest=b""):
        self.s = sock
        self.buf = rest
        self.rate = 0  # bytes per second to read at (0: as fast as they come)

    def send(self, op, payload=b"", fin=True):
        self.s.sendall(frame(op, payload, fin))

    def send_text(self, text):
        self.send(1, text.encode() if isinstance(text, str) else text)

    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout
            self.s.settimeout(left)
            b = self.s.recv(16384 if self.rate else 1 << 20)
            if not b:
                raise EOFError
            self.buf += b
            if self.rate:
                time.sleep(len(b) / self.rate)

    def recv(self, timeout=5.0):
        """recv returns (opcode, payload) of the next frame; EOFError when
        the server closed the TCP connection, socket.timeout when none came."""
        deadline = time.monotonic() + timeout
        self._need(2, deadline)
        n = self.buf[1] & 0x7F
        off = 2
        if n == 126:
            self._need(4, deadline)
            n, off = int.from_bytes(self.buf[2:4], "big"), 4
        elif n == 127:
            self._need(10, deadline)
            n, off = int.from_bytes(self.buf[2:10], "big"), 10
        self._need(off + n, deadline)
        op = self.buf[0] & 0x0F
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return op, payload

    def close_code(self, timeout=5.0):
        """close_code reads until a close frame or EOF and returns the code
        (0: EOF without a close frame, None: still open at timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                op, p = self.recv(max(deadline - time.monotonic(), 0.001))
            except EOFError:
                return 0
            except socket.timeout:
                return None
            except OSError:
                return 0
            if op == 8:
                return int.from_bytes(p[:2], "big") if len(p) >= 2 else 1005

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def upgrade(port, path, rcvbuf=None, extra=(), timeout=10.0):
    """upgrade dials and upgrades; it raises ConnectionError unless 101."""
    s = dial(port, rcvbuf, timeout)
    s.sendall(upgrade_request(path, extra=extra))
    status, rest, _ = read_head(s, timeout)
    if status != 101:
        s.close()
        raise ConnectionError(f"upgrade {path}: status {status}")
    return WS(s, rest)


def upgrade_latency(port, path="/echo", timeout=15.0):
    """upgrade_latency is the seconds from connect to the 101 of a fresh
    client, or None when it failed within timeout."""
    t0 = time.monotonic()
    try:
        w = upgrade(port, path, timeout=timeout)
    except (OSError, ConnectionError):
        return None
    w.close()
    return time.monotonic() - t0


class API:
    """API is one kept-alive HTTP connection to the server's API."""

    def __init__(self, port, key=None, timeout=60.0):
        self.port, self.key, self.timeout = port, key, timeout
        self.c = None

    def call(self, method, path, body=None, ctype="application/json", headers=None):
        """call returns (status, parsed JSON or raw text, seconds)."""
        h = dict(headers or {})
        if body is not None:
            h.setdefault("Content-Type", ctype)
        if self.key:
            h.setdefault("Authorization", "Bearer " + self.key)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        t0 = time.monotonic()
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
                break
            except (OSError, http.client.HTTPException):
                self.c.close()
                self.c = None
                if attempt:
                    return None, None, time.monotonic() - t0
        secs = time.monotonic() - t0
        try:
            return r.status, json.loads(data), secs
        except ValueError:
            return r.status, data.decode("latin-1"), secs

    def publish(self, topics, data, pid=None):
        body = {"topics": list(topics), "data": data}
        if pid is not None:
            body["id"] = pid
        return self.call("POST", "/publish", body)

    def stats(self):
        st, js, _ = self.call("GET", "/stats")
        return js if st == 200 and isinstance(js, dict) else {}

    def close(self):
        if self.c:
            self.c.close()
            self.c = None
