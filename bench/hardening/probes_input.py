"""probes_input: items 7 to 12 of the hardening issue, the answers to bad
input: status codes, close codes, how long a bad client is held."""

import base64
import hashlib
import hmac
import json
import time

from probes_load import _reader, _wait
from wire import API, answer, dial, frame, upgrade, upgrade_request

SECRET = "hardening-probe-secret"


def p7_api_browser(ctx):
    srv = ctx.server(["--log-level", "warn"])
    try:
        body = b'{"topic":"t","data":1}'
        plain, _, _ = srv.api.call("POST", "/publish", body, ctype="text/plain")
        form, _, _ = srv.api.call("POST", "/publish", b"topic=t&data=1",
                                  ctype="application/x-www-form-urlencoded")
        host, _, _ = srv.api.call("GET", "/stats", headers={"Host": "evil.example"})
        return {"publish as text/plain": plain, "publish as a form": form,
                "GET /stats with Host: evil.example": host}
    finally:
        srv.stop()


def p8_utf8(ctx):
    srv = ctx.server(["--log-level", "warn"])
    try:
        w = upgrade(srv.port, "/ws?topics=u")
        frames = []

        def grab():
            try:
                frames.append(w.recv(2))
            except Exception:
                pass

        st, _, _ = srv.api.call("POST", "/publish", b'{"topic":"u","data":"\xff\xfe"}')
        grab()
        bad = any(op == 1 and not _utf8(p) for op, p in frames)
        w.close()
        return {"publish with invalid UTF-8: status": st,
                "subscriber got a non-UTF-8 text frame": "yes" if bad else "no"}
    finally:
        srv.stop()


def _utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def p9_http(ctx):
    srv = ctx.server(["--log-level", "warn"])
    port = srv.port
    try:
        cases = {
            "HTTP/2.0 request line": upgrade_request("/echo", version="HTTP/2.0"),
            "HTTP/9.9 request line": upgrade_request("/echo", version="HTTP/9.9"),
            "NUL in a header value": upgrade_request("/echo", extra=["X-A: a\0b"]),
            "bare CR in a header value": upgrade_request("/echo", extra=["X-A: a\rb"]),
            "Transfer-Encoding: chunked on the upgrade": upgrade_request("/echo", extra=["Transfer-Encoding: chunked"]),
            "Content-Length: 5 on the upgrade": upgrade_request("/echo", extra=["Content-Length: 5"]),
            "absolute-form target": upgrade_request(f"http://127.0.0.1:{port}/echo"),
        }
        out = {}
        for name, raw in cases.items():
            st, _ = answer(port, raw, timeout=5)
            out[name] = st if st is not None else "closed"
        st, secs = answer(port, upgrade_request("/echo", nl="\n"), timeout=15)
        out["bare-LF request: answer"] = st if st is not None else "none"
        out["bare-LF request: seconds"] = round(secs, 2)
        return out
    finally:
        srv.stop()


def _b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(claims):
    """token is an HS256 JWT of claims signed with SECRET."""
    h = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = _b64(json.dumps(claims).encode())
    sig = hmac.new(SECRET.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{_b64(sig)}"


def p10_jwt(ctx):
    srv = ctx.server(["--log-level", "warn", "--jwt-secret", SECRET])
    try:
        soon = int(time.time()) + 3600
        cases = {
            "token with exp (control)": {"sub": "a", "exp": soon},
            "token without exp": {"sub": "a"},
            "token with nbf 1e300": {"sub": "a", "exp": soon, "nbf": 1e300},
        }
        out = {}
        for name, claims in cases.items():
            st, _ = answer(srv.port, upgrade_request("/ws?token=" + token(claims)), timeout=5)
            out[name] = st
        return out
    finally:
        srv.stop()


def p11_messages(ctx):
    flags = ["--log-level", "warn", "--idle-timeout", "10s", "--ping-interval", "5s"]
    flags += ctx.after_only(["--message-timeout", "5s", "--client-rate", "-1"])
    srv = ctx.server(flags)
    out = {}
    try:
        w = upgrade(srv.port, "/echo")
        w.send(1, b"a", fin=False)
        t0 = time.monotonic()
        code = None
        while time.monotonic() - t0 < 20:
            try:
                w.send(0, b"", fin=False)
            except OSError:
                code = 0
                break
            code = w.close_code(0.5)
            if code is not None:
                break
        held = time.monotonic() - t0
        w.close()
        out["empty continuations every 0.5 s: held s"] = f"{held:.1f}" if code is not None else "> 20 (cap)"
        out["empty continuations: close code"] = code if code is not None else "none"
        out.update(_interleaved(srv.port))
    finally:
        srv.stop()
    return out


def _interleaved(port):
    """Bad and good messages alternating: how many bad ones before the
    server closes (cap 40)."""
    w = upgrade(port, "/ws")
    got = _reader(w)
    bad = 0
    try:
        while bad < 40 and not got["closed"]:
            w.send_text(b"{not json")
            w.send_text(b'{"type":"ping"}')
            bad += 1
            time.sleep(0.03)
    except OSError:
        pass
    _wait(lambda: got["closed"], 2)
    w.close()
    return {"bad/good interleaved: bad messages until close": bad if got["closed"] else f"{bad}, still open"}


def p12_misc(ctx):
    out = {}
    srv = ctx.server(["--log-level", "info", "--socket-sndbuf", "4096"])
    try:
        n = 40
        topics = [f"w{i:02d}" for i in range(16)]
        rs = [upgrade(srv.port, "/ws?topics=" + ",".join(topics), rcvbuf=4096) for _ in range(n)]
        srv.wait_stat(lambda s: s.get("upgraded", 0) >= n, 20)
        data = "w" * 200
        for _ in range(2000):
            srv.api.publish(topics, data)
            if srv.stats().get("slow_consumers", 0) >= n:
                break
        st, _ = srv.wait_stat(lambda s: s.get("slow_consumers", 0) >= n, 10)
        time.sleep(1.5)
        out["slow consumers closed"] = st.get("slow_consumers")
        warn, every = _slow_lines(srv.log)
        out["log lines naming them, warn or above"] = warn
        out["log lines naming them, any level"] = every
        for r in rs:
            r.close()
    finally:
        srv.stop()
    srv = ctx.server(["--log-level", "warn"], key="probe-key")
    try:
        st, _, _ = API(srv.api_port).call("GET", "/no-such-path")
        out["unknown API path without the key"] = st
    finally:
        srv.stop()
    out.update(_presence_pages(ctx))
    return out


def _slow_lines(path):
    warn = every = 0
    with open(path, "rb") as f:
        for line in f:
            if b"slow" not in line:
                continue
            every += 1
            if b'"level":"warn"' in line or b'"level":"error"' in line:
                warn += 1
    return warn, every


def _presence_pages(ctx, n=1100):
    """1,100 users on one topic (over the 1,000 of a presence answer): do
    two calls of /presence give the same list."""
    srv = ctx.server(["--log-level", "warn", "--jwt-secret", SECRET])
    soon = int(time.time()) + 3600
    conns = []
    try:
        for i in range(n):
            conns.append(upgrade(srv.port, "/ws?topics=pr&token=" + token({"sub": f"user{i:05d}", "exp": soon})))
        lists = []
        for _ in range(3):
            st, js, _ = srv.api.call("GET", "/presence?topic=pr")
            lists.append(js if isinstance(js, dict) else {})
        users = [tuple(x.get("users", [])) for x in lists]
        return {"/presence of 1,100 users: users listed": len(users[0]),
                "/presence: 3 calls give the same list": "yes" if len(set(users)) == 1 else "no",
                "/presence: cursor to the rest": "yes" if lists[0].get("next") else "no"}
    finally:
        for c in conns:
            c.close()
        srv.stop()
