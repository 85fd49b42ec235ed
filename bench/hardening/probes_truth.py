"""probes_truth: item 6 of the hardening issue, whether a publish answer
tells the truth: retries with one id, and what a SIGTERM drain delivers of
what it answered for."""

import json
import threading
import time

from probes_load import _reader, _wait
from wire import upgrade

KiB = 1 << 10


def p6_dedup(ctx):
    """Three POSTs of one message with the same "id" (a publisher
    retrying): how many the subscriber gets."""
    srv = ctx.server(["--log-level", "warn"])
    try:
        w = upgrade(srv.port, "/ws?topics=d")
        got = _reader(w)
        srv.wait_stat(lambda s: s.get("upgraded", 0) >= 1, 10)
        answers = []
        for _ in range(3):
            st, js, _ = srv.api.publish(["d"], {"n": 1}, pid="retry-1")
            answers.append(f"{st} {json.dumps(js, separators=(',', ':'))}")
        _wait(lambda: got["frames"] >= 3, 2)
        time.sleep(0.5)
        w.close()
        return {"same id x3: deliveries": got["frames"], "same id x3: answers": " / ".join(answers)}
    finally:
        srv.stop()


def p6_drain(ctx, n=20, msgs=100, size=16 * KiB, rate=200_000):
    """n subscribers that do not read are published msgs messages of size
    bytes (1.6 MB each, under --max-outbound); then SIGTERM, and only then
    do they read, at rate bytes/s (8 s for their backlog, longer than the
    5 s --close-timeout, shorter than the 20 s --drain-timeout). Messages
    answered as delivered minus messages read."""
    srv = ctx.server(["--log-level", "warn", "--drain-timeout", "20s", "--socket-sndbuf", "4096"])
    out = {}
    try:
        subs = [upgrade(srv.port, "/ws?topics=dr", rcvbuf=4096) for _ in range(n)]
        srv.wait_stat(lambda s: s.get("upgraded", 0) >= n, 20)
        answered = 0
        data = "q" * size
        for _ in range(msgs):
            st, js, _ = srv.api.publish(["dr"], data)
            if st == 200 and isinstance(js, dict):
                answered += int(js.get("delivered", 0))
        t0 = time.monotonic()
        srv.p.send_signal(15)
        counts = [0] * n
        for w in subs:
            w.rate = rate
        threads = [threading.Thread(target=_count, args=(w, i, counts), daemon=True)
                   for i, w in enumerate(subs)]
        for t in threads:
            t.start()
        code = srv.wait_exit(60)
        for t in threads:
            t.join(30)
        out["answered delivered (sum)"] = answered
        out["read by subscribers"] = sum(counts)
        out["answered then lost at drain"] = answered - sum(counts)
        out["drain exit s"] = round(time.monotonic() - t0, 1)
        out["drain exit status"] = code
        for w in subs:
            w.close()
    finally:
        srv.stop()
    return out


def _count(w, i, counts):
    while True:
        try:
            op, p = w.recv(40)
        except Exception:
            return
        if op == 8:
            return
        if op == 1 and b'"message"' in p[:40]:
            counts[i] += 1
