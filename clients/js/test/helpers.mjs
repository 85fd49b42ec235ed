// Shared helpers of the Node tests: environment, tokens, the HTTP API, and
// starting a myriad process of our own for the tests that kill it.
import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { connect, createServer } from "node:net";
import { createInterface } from "node:readline";

/** env returns a variable the Go harness (js_test.go) must have set. */
export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through go test ./clients/js/`);
  return v;
}

/** topic returns a fresh topic name, so test files sharing a server do not meet. */
export function topic(prefix = "t") {
  return `${prefix}.${randomBytes(6).toString("hex")}`;
}

const b64url = (b) => Buffer.from(b).toString("base64url");

/** hs256 signs claims into a JWT with secret. */
export function hs256(secret, claims) {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" })) + "." + b64url(JSON.stringify(claims));
  return head + "." + createHmac("sha256", secret).update(head).digest("base64url");
}

/** apiPublish posts data to topic on the HTTP API and returns its answer. */
export async function apiPublish(api, topic, data) {
  const res = await fetch(api + "/publish", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ topic, data }) });
  const body = await res.json();
  if (!res.ok) throw new Error(`publish: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** eventually polls fn until it returns a truthy value, or fails after timeout ms. */
export async function eventually(fn, what, timeout = 5000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** inbox collects what a handler receives; next() resolves with the next item. */
export function inbox() {
  const items = [];
  const waiting = [];
  return {
    push: (x) => (waiting.length ? waiting.shift()(x) : items.push(x)),
    next: (what = "a message", timeout = 5000) =>
      new Promise((resolve, reject) => {
        if (items.length) return resolve(items.shift());
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeout);
        waiting.push((x) => (clearTimeout(t), resolve(x)));
      }),
  };
}

/** once resolves with the next event of type from client. */
export function once(client, type, timeout = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => (off(), reject(new Error(`timed out waiting for ${type}`))), timeout);
    const off = client.on(type, (e) => (clearTimeout(t), off(), resolve(e)));
  });
}

/**
 * startMyriad runs the myriad binary on loopback with args, on port for
 * the WebSocket listener (0: any), and resolves once it has logged both
 * bound addresses: {ws, api, stop()}.
 */
export function startMyriad(bin, args = [], port = 0) {
  const envNoMyriad = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MYRIAD_")));
  const proc = spawn(bin, ["--addr", `127.0.0.1:${port}`, "--api-addr", "127.0.0.1:0", "--loops", "1",
    "--log-level", "info", "--log-format", "json", ...args], { env: envNoMyriad, stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise((r) => proc.once("exit", r));
  const log = [];
  return new Promise((resolve, reject) => {
    const s = { ws: "", api: "", log, stop: () => (proc.kill("SIGKILL"), exited) };
    const t = setTimeout(() => (s.stop(), reject(new Error("myriad did not start:\n" + log.join("\n")))), 10000);
    proc.once("exit", (code) => (clearTimeout(t), reject(new Error(`myriad exited ${code}:\n` + log.join("\n")))));
    createInterface({ input: proc.stderr }).on("line", (line) => {
      log.push(line);
      let m;
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      if (!m.addr || !String(m.msg).includes("listening")) return;
      if (String(m.msg).includes("api")) s.api = "http://" + m.addr;
      else s.ws = "ws://" + m.addr + "/ws";
      if (s.ws && s.api) clearTimeout(t), resolve(s);
    });
  });
}

/**
 * stallProxy forwards TCP connections to the server of wsURL, and can stop
 * passing what the server sends while still passing what the client sends,
 * as a stuck proxy or a half-open link does: replies never come and no
 * socket event says so. stall() holds the server's bytes on every open
 * connection from now on; with stallAfterUpgrade set, a connection made
 * later passes the server's upgrade answer and holds what follows it.
 * resume() sends what was held and lets everything through again; cut()
 * drops every connection, as a dead link finally is. It resolves with
 * {url, stallAfterUpgrade, stall(), resume(), cut(), close()}.
 */
export async function stallProxy(wsURL) {
  const target = new URL(wsURL);
  const conns = new Set();
  const p = { url: "", stallAfterUpgrade: false };
  const srv = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    // held: null while passing, else what the server sent since (null for its end).
    const c = { client, upstream, held: null, head: p.stallAfterUpgrade ? Buffer.alloc(0) : null };
    conns.add(c);
    upstream.on("data", (b) => {
      if (c.held) return c.held.push(b);
      if (c.head === null) return client.write(b);
      c.head = Buffer.concat([c.head, b]);
      const end = c.head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.write(c.head.subarray(0, end + 4));
      c.held = [c.head.subarray(end + 4)];
      c.head = null;
    });
    upstream.on("end", () => (c.held ? c.held.push(null) : client.end()));
    client.on("data", (b) => upstream.write(b));
    client.on("end", () => upstream.end());
    const drop = () => (conns.delete(c), client.destroy(), upstream.destroy());
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const u = new URL(wsURL);
  u.host = `127.0.0.1:${srv.address().port}`;
  p.url = u.toString();
  p.stall = () => {
    for (const c of conns) c.held ??= [];
  };
  p.resume = () => {
    for (const c of conns) {
      const held = c.held ?? (c.head ? [c.head] : []);
      c.held = c.head = null;
      for (const b of held) b === null ? c.client.end() : c.client.write(b);
    }
  };
  p.cut = () => {
    for (const c of conns) c.client.destroy(), c.upstream.destroy();
    conns.clear();
  };
  p.close = () => (p.cut(), new Promise((r) => srv.close(r)));
  return p;
}
