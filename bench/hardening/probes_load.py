"""probes_load: items 1, 2, 4 and 5 of the hardening issue, the attacks that
try to stop the server or stall its event loops."""

import json
import os
import statistics
import threading
import time

from wire import API, upgrade, upgrade_latency

MiB = 1 << 20


def p1_descriptors(ctx):
    """Item 1: under RLIMIT_NOFILE 512, 1,500 idle TCP connections from
    `myriad-loadgen flood`. Is an existing client still served, does the
    process keep running, how many connections were shed."""
    srv = ctx.server(["--log-level", "warn"], nofile=512)
    out = {}
    try:
        keep = upgrade(srv.port, "/echo")
        report = os.path.join(ctx.logdir, f"flood-{srv.port}.json")
        lg = ctx.loadgen("flood", srv.port, "/echo", 1500, "6s", report)
        time.sleep(4)  # the flood is open and held
        out["existing client echoed during flood"] = _echoes(keep)
        lg.wait(60)
        lg.stop()
        counters = _counters(report)
        out["fresh upgrade at end of flood (loadgen probe)"] = "yes" if counters.get("attack_probe_ok") else "no"
        time.sleep(1)
        out["process"] = "running" if srv.alive() else f"exited with status {srv.p.returncode}"
        out["existing client echoed after flood"] = _echoes(keep) if srv.alive() else "no"
        out["fresh upgrade after flood"] = "yes" if srv.alive() and upgrade_latency(srv.port, timeout=5) else "no"
        st = srv.stats()
        out["shed (server count)"] = st.get("shed", "not counted") if st else "no answer"
        out["flood conns the server closed (loadgen)"] = counters.get("attack_closed_by_server", 0)
        keep.close()
    finally:
        srv.stop()
    return out


def _echoes(w):
    try:
        w.send_text("still-there")
        op, p = w.recv(5)
        return "yes" if p == b"still-there" else "no"
    except Exception:  # closed, reset, timed out: not served
        return "no"


def _counters(path):
    try:
        with open(path) as f:
            return json.load(f).get("counters", {})
    except (OSError, ValueError):
        return {}


def p2_amplification(ctx):
    """Item 2: peak RSS of one POST under 1 MiB naming 2,000 topics nobody
    subscribed to, and of one naming 16 topics, each with a reading
    subscriber (the cap's worst case); history off in the new binary, which
    would otherwise keep the 16 messages, as the old one has none."""
    out = {}
    topics = [f"amp.{i:04d}" for i in range(2000)]
    data = "x" * (1_000_000 - 2000 * 11 - 64)
    srv = ctx.server(["--log-level", "warn"])
    try:
        base = srv.settle_rss(1.0)
        st, _, secs = srv.api.publish(topics, data)
        out["2,000 topics: status"] = st
        out["2,000 topics: answer s"] = round(secs, 2)
        out["2,000 topics: peak RSS growth MiB"] = _mib(srv.hwm() - base)
    finally:
        srv.stop()
    srv = ctx.server(["--log-level", "warn"] + ctx.after_only(["--history-memory", "0"]))
    try:
        sub = upgrade(srv.port, "/ws?topics=" + ",".join(topics[:16]))
        got = _reader(sub)
        base = srv.settle_rss(1.0)
        st, _, secs = srv.api.publish(topics[:16], data)
        _wait(lambda: got["bytes"] >= 16 * len(data), 20)
        out["16 topics, 1 reader (history off): status"] = st
        out["16 topics, 1 reader (history off): peak RSS growth MiB"] = _mib(srv.hwm() - base)
        sub.close()
    finally:
        srv.stop()
    return out


def _mib(b):
    return round(b / MiB, 1)


def _reader(w):
    """_reader drains w on a thread and counts what came."""
    got = {"bytes": 0, "frames": 0, "closed": False}

    def run():
        while True:
            try:
                op, p = w.recv(3600)
            except Exception:
                break
            got["bytes"] += len(p)
            got["frames"] += 1
            if op == 8:
                break
        got["closed"] = True

    threading.Thread(target=run, daemon=True).start()
    return got


def _wait(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not pred():
        time.sleep(0.05)
    return pred()


def _pct(xs):
    """_pct is 'p50 / max' in ms of the samples, failures counted."""
    ok = sorted(x for x in xs if x is not None)
    failed = len(xs) - len(ok)
    if not ok:
        return None, None, failed
    return statistics.median(ok) * 1000, ok[-1] * 1000, failed


def p4_presence(ctx):
    """Item 4: with --presence-events and 1,000 subscribers of a topic, one
    client subscribes and unsubscribes as fast as it can for 6 s (and
    reconnects when closed); meanwhile /presence and fresh upgrades are
    timed."""
    srv = ctx.server(["--log-level", "warn", "--presence-events"])
    out = {}
    lg = None
    try:
        lg = ctx.loadgen("idle", srv.port, "/ws?topics=p", 1000, "120s", None)
        _, ok = srv.wait_stat(lambda s: s.get("upgraded", 0) >= 1000, 60)
        if not ok:
            return {"error": "1,000 subscribers did not connect"}
        time.sleep(2)
        stop = threading.Event()
        flap = {"sent": 0, "closed": 0}
        t = threading.Thread(target=_flap, args=(srv.port, stop, flap), daemon=True)
        t.start()
        pres, upg = [], []
        api = API(srv.api_port, timeout=60)
        end = time.monotonic() + 6
        while time.monotonic() < end:
            upg.append(upgrade_latency(srv.port, timeout=30))
            st, _, secs = api.call("GET", "/presence?topic=p")
            pres.append(secs if st == 200 else None)
            time.sleep(0.1)
        stop.set()
        t.join(30)
        api.close()
        out.update(_lat("presence", pres))
        out.update(_lat("fresh upgrade", upg))
        out["flapper messages sent"] = flap["sent"]
        out["flapper closed by server"] = flap["closed"]
    finally:
        if lg:
            lg.stop()
        srv.stop()
    return out


def _lat(name, xs):
    p50, mx, failed = _pct(xs)
    r = {f"{name} p50 ms": None if p50 is None else round(p50, 1),
         f"{name} max ms": None if mx is None else round(mx, 1)}
    if failed:
        r[f"{name} failed"] = failed
    return r


def _flap(port, stop, flap):
    sub = b'{"type":"subscribe","topics":["p"]}'
    unsub = b'{"type":"unsubscribe","topic":"p"}'
    while not stop.is_set():
        try:
            w = upgrade(port, "/ws", timeout=10)
        except (OSError, ConnectionError):
            time.sleep(0.05)
            continue
        got = _reader(w)
        try:
            while not stop.is_set() and not got["closed"]:
                w.send_text(sub)
                w.send_text(unsub)
                flap["sent"] += 2
        except OSError:
            pass
        if got["closed"] or not stop.is_set():
            flap["closed"] += 1
        w.close()


def p5_big_fanout(ctx):
    """Item 5: one 1 MiB publish to 1,000 subscribers that never read
    (`myriad-loadgen slow-readers`); fresh upgrades timed for 6 s from
    the publish."""
    srv = ctx.server(["--log-level", "warn"])
    out = {}
    lg = None
    try:
        lg = ctx.loadgen("slow-readers", srv.port, "/ws?topics=big", 1000, "120s", None)
        _, ok = srv.wait_stat(lambda s: s.get("upgraded", 0) >= 1000, 60)
        if not ok:
            return {"error": "1,000 slow readers did not connect"}
        time.sleep(1)
        res = {}

        def publish():
            api = API(srv.api_port, timeout=120)
            st, js, secs = api.publish(["big"], "y" * 1_000_000)
            res.update(status=st, secs=secs)
            api.close()

        t = threading.Thread(target=publish, daemon=True)
        t.start()
        upg = []
        end = time.monotonic() + 6
        while time.monotonic() < end:
            upg.append(upgrade_latency(srv.port, timeout=30))
            time.sleep(0.05)
        t.join(120)
        out.update(_lat("fresh upgrade", upg))
        out["publish answer s"] = round(res.get("secs", -1), 2)
        out["publish status"] = res.get("status")
    finally:
        if lg:
            lg.stop()
        srv.stop()
    return out
