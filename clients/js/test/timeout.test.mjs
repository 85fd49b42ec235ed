// Request timeouts against the open server, reached directly or through a
// proxy that stops passing what the server sends: the socket stays open
// and no reply ever comes, as behind a stuck proxy or on a half-open link.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterEach, test } from "node:test";
import { fileURLToPath } from "node:url";
import { MyriadClient, MyriadError, TIMEOUT_CLOSE_CODE } from "../myriad.js";
import { apiPublish, env, eventually, inbox, once, stallProxy, topic } from "./helpers.mjs";

const WS = env("MYRIAD_WS_URL");
const API = env("MYRIAD_API_URL");

// A request timeout short enough to wait for, and one no test waits for.
const SHORT = 200;
const HOUR = 3_600_000;

const cleanups = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});
function client(url, opts) {
  const c = new MyriadClient(url, opts);
  cleanups.push(() => c.close());
  return c;
}
async function proxy() {
  const p = await stallProxy(WS);
  cleanups.push(() => p.close());
  return p;
}

// timedOut checks a rejection is the client's timeout for a request of type.
const timedOut = (type) => (e) => e instanceof MyriadError && e.timedOut === true && e.message === `${type} timed out after ${SHORT} ms`;

// timers wraps the real timer functions, recording every delay asked for
// and the timers still pending.
function timers() {
  const asked = [];
  const live = new Set();
  return {
    asked,
    live,
    setTimeout: (fn, ms) => {
      asked.push(ms);
      const h = setTimeout(() => (live.delete(h), fn()), ms);
      live.add(h);
      return h;
    },
    clearTimeout: (h) => (live.delete(h), clearTimeout(h)),
  };
}

test("requests the server never answers reject as timed out, and their late answers are dropped", async () => {
  const p = await proxy();
  const c = client(p.url, { requestTimeout: SHORT, closeOnTimeout: false, reconnect: false });
  const errors = [];
  c.on("error", (e) => errors.push(e));
  await c.connect();
  const t = topic();
  const got = inbox();
  await c.subscribe(t, (d) => got.push(d));
  p.stall();

  const t2 = topic();
  await Promise.all([
    assert.rejects(c.ping(), timedOut("ping")),
    assert.rejects(c.publish(t, "held"), timedOut("publish")),
    assert.rejects(c.subscribe("bad topic"), timedOut("subscribe")), // its late answer is an error
    assert.rejects(c.subscribe(t2, (d) => got.push(d)), timedOut("subscribe")),
  ]);
  assert.ok(c.connected, "without closeOnTimeout the socket stays");
  assert.deepEqual(c.topics, [t, "bad topic", t2], "a timed-out subscribe keeps its topic");

  p.resume();
  // The server answers in order: once this pong is in, so are the late ones.
  assert.ok((await c.ping()) >= 0);
  assert.deepEqual(errors, [], "late answers raise nothing");
  assert.equal(await got.next(), "held", "the message itself was never held back by the client");
  await c.subscribe(t2); // asked again, since the first answer was dropped
  await apiPublish(API, t2, "after");
  assert.equal(await got.next(), "after");
});

test("with closeOnTimeout a timed-out request drops the socket, and the client reconnects and subscribes again", async () => {
  const p = await proxy();
  const c = client(p.url, { requestTimeout: SHORT, reconnect: { minDelay: 20, maxDelay: 100 } });
  await c.connect();
  const t = topic();
  const got = inbox();
  await c.subscribe(t, (d) => got.push(d));
  p.stall();

  const closed = once(c, "close");
  const opened = once(c, "open");
  await assert.rejects(c.ping(), timedOut("ping"));
  assert.deepEqual(await closed, { code: TIMEOUT_CLOSE_CODE, reason: "request timed out", willReconnect: true });
  await opened; // through the proxy again: a new connection is not stalled
  await c.subscribe(t);
  await apiPublish(API, t, "after");
  assert.equal(await got.next(), "after");
});

test("a subscribe that times out rejects as timed out even when the client then gives up", async () => {
  const p = await proxy();
  const c = client(p.url, { requestTimeout: SHORT, reconnect: false });
  await c.connect();
  p.stall();
  const closed = once(c, "close");
  await assert.rejects(c.subscribe(topic()), timedOut("subscribe"));
  assert.deepEqual(await closed, { code: TIMEOUT_CLOSE_CODE, reason: "request timed out", willReconnect: false });
  assert.equal(c.connected, false);
});

test("a request's timer starts when it is sent, not while a subscribe waits for the connection, and ends when it settles", async () => {
  const clock = timers();
  const c = client(WS, { requestTimeout: HOUR, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout });
  const subscribed = c.subscribe(topic());
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(clock.asked, [], "no timer while not connected");
  await c.connect();
  await subscribed;
  await c.ping();
  assert.deepEqual(clock.asked, [HOUR, HOUR]);
  assert.equal(clock.live.size, 0, "answered requests leave no timer");

  const inFlight = c.publish(topic(), 1);
  assert.equal(clock.live.size, 1);
  c.close();
  assert.equal(clock.live.size, 0, "close() clears the timers of what was in flight");
  await assert.rejects(inFlight, /connection closed/);
});

const limits = [
  { name: "default", opts: {}, want: [10000] },
  { name: "0 is none", opts: { requestTimeout: 0 }, want: [] },
  { name: "false is none", opts: { requestTimeout: false }, want: [] },
  { name: "Infinity is none", opts: { requestTimeout: Infinity }, want: [] },
  { name: "past setTimeout's range is none", opts: { requestTimeout: 2 ** 31 }, want: [] },
];
for (const tc of limits) {
  test(`requestTimeout: ${tc.name}`, async () => {
    const clock = timers();
    const c = client(WS, { ...tc.opts, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout });
    await c.connect();
    assert.ok((await c.ping()) >= 0);
    assert.deepEqual(clock.asked, tc.want);
  });
}

test("a Node process whose request timed out exits once its clients are closed", async () => {
  const p = await proxy();
  p.stallAfterUpgrade = true;
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL("timeout-child.mjs", import.meta.url))], {
    env: { ...process.env, STALLED_WS: p.url, LIVE_WS: WS, SHORT: String(SHORT), HOUR: String(HOUR) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  cleanups.push(() => child.kill("SIGKILL"));
  const lines = [];
  createInterface({ input: child.stdout }).on("line", (l) => lines.push(l));
  await eventually(() => lines.includes("closed"), "the child to close its clients", 10000);
  // Node's WebSocket waits for the server's closing handshake with no limit
  // of its own; the link the child gave up on goes, as a dead one does.
  p.cut();
  const held = new Promise((_, reject) => setTimeout(() => reject(new Error("the child did not exit: something holds its event loop")), 10000).unref());
  assert.deepEqual(await Promise.race([exited, held]), { code: 0, signal: null });
});
