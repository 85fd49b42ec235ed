"""probes_mem: item 3 of the hardening issue, what each limit costs in
resident bytes, whether the process-wide budget holds, and whether the
memory comes back after the attack."""

import json
import time

from probes_load import _mib, _reader, _wait
from wire import dial, frame, upgrade

MiB = 1 << 20
KiB = 1 << 10
TOPICS = [f"s{i:02d}" for i in range(16)]
SMALL = "z" * 64  # data of each small message


def _frame_size(srv):
    """_frame_size is the wire size of one small message frame, read by a
    subscriber of its own (the envelope differs between versions)."""
    w = upgrade(srv.port, "/ws?topics=probe")
    got = _reader(w)
    srv.api.publish(["probe"], SMALL)
    _wait(lambda: got["frames"] >= 1, 5)
    w.close()
    if not got["frames"]:
        return 0
    return got["bytes"] + (2 if got["bytes"] < 126 else 4)


def _slow_readers(srv, n):
    """_slow_readers upgrades n subscribers of all of TOPICS that never
    read, with a 4 KiB receive buffer so the kernel takes little."""
    rs = [upgrade(srv.port, "/ws?topics=" + ",".join(TOPICS), rcvbuf=4096) for _ in range(n)]
    srv.wait_stat(lambda s: s.get("upgraded", 0) >= n, 30)
    return rs


def _fill(srv, per_reader, fsize):
    """_fill publishes small messages to all of TOPICS until each reader
    was sent per_reader bytes (the excess is dropped or sheds it)."""
    count = int(per_reader / (len(TOPICS) * fsize)) + 1
    for _ in range(count):
        srv.api.publish(TOPICS, SMALL)
    return count


def outbound(ctx, n=32, budget=None):
    """outbound: n slow readers each sent 6 MiB of small frames under
    --slow-policy drop, so each queue stays at --max-outbound (4 MiB)."""
    flags = ["--log-level", "warn", "--slow-policy", "drop", "--socket-sndbuf", "4096",
             "--memory-release", "2s"]
    flags += ctx.after_only(["--slow-timeout", "-1s"])
    if budget:
        flags += ctx.after_only(["--max-buffered", budget])
    srv = ctx.server(flags)
    out = {}
    try:
        fsize = _frame_size(srv)
        rs = _slow_readers(srv, n)
        base = srv.settle_rss(1.0)
        _fill(srv, 6 * MiB, fsize)
        full = srv.settle_rss(2.0)
        peak = srv.hwm()
        st = srv.stats()
        tag = f"{n} slow readers" + (f", budget {budget}" if budget else "")
        out[f"{tag}: frame bytes"] = fsize
        if budget:
            out[f"{tag}: peak RSS growth MiB"] = _mib(peak - base)
            out[f"{tag}: closed 1013 (over_budget)"] = st.get("over_budget", "no budget")
        else:
            out[f"{tag}: RSS per full 4 MiB queue MiB"] = round((full - base) / n / MiB, 2)
            if "buffered" in st:
                out[f"{tag}: server-counted bytes per queue MiB"] = round(st["buffered"] / n / MiB, 2)
        for r in rs:
            r.close()
        srv.wait_stat(lambda s: s.get("upgraded", 1) <= 0, 20)
        time.sleep(6)  # past --memory-release
        out[f"{tag}: RSS 6 s after readers left, above before MiB"] = _mib(srv.rss() - base)
    finally:
        srv.stop()
    return out


def header(ctx, n=400, size=8100):
    """header: n connections each send `size` bytes of an upgrade head
    (under the 8 KiB limit) and never finish it."""
    srv = ctx.server(["--log-level", "warn", "--handshake-timeout", "60s"])
    out = {}
    try:
        base = srv.settle_rss(1.0)
        conns = [dial(srv.port) for _ in range(n)]
        idle = srv.settle_rss(1.5)
        pad = size - 40
        head = (f"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: {'p' * pad}\r\n").encode()[:size]
        for c in conns:
            c.sendall(head)
        held = srv.settle_rss(2.0)
        out["idle TCP conn KiB"] = round((idle - base) / n / KiB, 1)
        out[f"pending handshake with {size} B head KiB"] = round((held - base) / n / KiB, 1)
        for c in conns:
            c.close()
    finally:
        srv.stop()
    return out


def message(ctx, n=24, fragments=True):
    """message: n /echo connections each hold an unfinished ~1 MiB message
    (--max-message 1 MiB): 15 fragments of 64 KiB, or one frame whose last
    10,000 bytes never come."""
    srv = ctx.server(["--log-level", "warn"])
    out = {}
    try:
        ws = [upgrade(srv.port, "/echo") for _ in range(n)]
        base = srv.settle_rss(1.0)
        chunk = b"m" * (64 * KiB)
        for w in ws:
            if fragments:
                w.s.sendall(frame(2, chunk, fin=False) + frame(0, chunk, fin=False) * 14)
            else:
                hdr = frame(2, b"m" * 1_000_000)
                w.s.sendall(hdr[:-10_000])
        held = srv.settle_rss(2.0)
        st = srv.stats()
        kind = "15 x 64 KiB fragments" if fragments else "one 1,000,000 B frame, last 10 KB missing"
        out[f"1 MiB message in progress ({kind}) MiB"] = round((held - base) / n / MiB, 2)
        if "buffered" in st:
            out[f"  server-counted ({kind}) MiB"] = round(st["buffered"] / n / MiB, 2)
        for w in ws:
            w.close()
    finally:
        srv.stop()
    return out


def p3_memory(ctx):
    out = {}
    out.update(outbound(ctx))
    out.update(header(ctx))
    out.update(message(ctx, fragments=True))
    out.update(message(ctx, fragments=False))
    out.update(outbound(ctx, n=48, budget="64MiB"))
    return out
