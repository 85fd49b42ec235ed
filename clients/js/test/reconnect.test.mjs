// Reconnection: backoff arithmetic, the retry schedule against a port
// nobody listens on, and a myriad of our own that is killed and restarted.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { backoffDelay, MyriadClient } from "../myriad.js";
import { apiPublish, env, eventually, inbox, once, startMyriad, topic } from "./helpers.mjs";

const BIN = env("MYRIAD_BIN");

const delays = [
  { name: "no jitter grows by factor", policy: { minDelay: 100, maxDelay: 10000, factor: 2, jitter: 0 }, random: 0.3, want: [100, 200, 400, 800] },
  { name: "capped at maxDelay", policy: { minDelay: 100, maxDelay: 300, factor: 2, jitter: 0 }, random: 0.3, want: [100, 200, 300, 300] },
  { name: "full jitter scales the cap", policy: { minDelay: 100, maxDelay: 10000, factor: 3, jitter: 1 }, random: 0.5, want: [50, 150, 450, 1350] },
  { name: "full jitter can be zero", policy: { minDelay: 100, maxDelay: 10000, factor: 2, jitter: 1 }, random: 0, want: [0, 0, 0, 0] },
  { name: "half jitter keeps half", policy: { minDelay: 100, maxDelay: 10000, factor: 2, jitter: 0.5 }, random: 0, want: [50, 100, 200, 400] },
  { name: "jitter above 1 is 1", policy: { minDelay: 100, maxDelay: 10000, factor: 2, jitter: 7 }, random: 0.25, want: [25, 50, 100, 200] },
];
for (const tc of delays) {
  test(`backoffDelay: ${tc.name}`, () => {
    const got = [0, 1, 2, 3].map((a) => backoffDelay(a, tc.policy, () => tc.random));
    assert.deepEqual(got, tc.want);
  });
}

// freePort returns a loopback port nothing listens on.
async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// fakeClock records the delays the client asks for and runs each timer at
// once, so the schedule is checked without waiting for it.
function fakeClock() {
  const asked = [];
  const timers = [];
  return {
    asked,
    timers,
    setTimeout: (fn, ms) => (asked.push(ms), timers.push(fn), setTimeout(fn, 0)),
    clearTimeout: (t) => clearTimeout(t),
  };
}

test("failed attempts back off exponentially with the injected jitter, then give up", async () => {
  const port = await freePort();
  const clock = fakeClock();
  const draws = [0.9, 0.1, 0.5, 0.7];
  const c = new MyriadClient(`ws://127.0.0.1:${port}/ws`, {
    reconnect: { minDelay: 100, maxDelay: 500, factor: 2, maxRetries: 4 },
    random: () => draws.shift(),
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  await assert.rejects(c.connect(), /connection closed/);
  assert.deepEqual(clock.asked, [90, 20, 200, 350]);
});

test("close() during a backoff wait cancels the next attempt", async () => {
  const port = await freePort();
  const asked = [];
  let made = 0;
  const c = new MyriadClient(`ws://127.0.0.1:${port}/ws`, {
    reconnect: { minDelay: 100 },
    setTimeout: (fn) => (asked.push(fn), asked.length), // never fires by itself
    clearTimeout: () => {},
    WebSocket: class extends WebSocket {
      constructor(url) {
        super(url);
        made++;
      }
    },
  });
  const connecting = c.connect();
  await eventually(() => asked.length === 1, "a scheduled retry");
  c.close();
  await assert.rejects(connecting, /connection closed/);
  asked[0](); // the timer firing late must not dial again
  await new Promise((r) => setImmediate(r));
  assert.equal(made, 1);
});

test("after the server is killed and restarted the client reconnects, subscribes again and receives", async (t) => {
  let srv = await startMyriad(BIN);
  t.after(() => srv.stop());
  const port = new URL(srv.ws).port;
  const c = new MyriadClient(srv.ws, { reconnect: { minDelay: 20, maxDelay: 200 } });
  t.after(() => c.close());
  const opens = [];
  c.on("open", () => opens.push(Date.now()));
  await c.connect();
  const tp = topic("live");
  const got = inbox();
  await c.subscribe(tp, (d) => got.push(d));
  await apiPublish(srv.api, tp, "before");
  assert.equal(await got.next(), "before");

  const lost = once(c, "close");
  await srv.stop();
  const e = await lost;
  assert.equal(e.willReconnect, true);
  await assert.rejects(c.publish(tp, 1), /not connected/);

  srv = await startMyriad(BIN, [], port);
  await eventually(() => opens.length === 2, "a second open");
  // The subscribe is sent right after open; poll until the server holds it.
  await eventually(async () => (await apiPublish(srv.api, tp, "after")).delivered === 1, "re-subscription");
  assert.equal(await got.next(), "after");
  assert.deepEqual(c.topics, [tp]);

  // close() detaches the socket at once: killing the server now is no
  // longer a lost connection, so nothing is scheduled.
  const retries = [];
  c.on("reconnecting", (e) => retries.push(e));
  c.close();
  await srv.stop();
  assert.deepEqual(retries, []);
  assert.equal(c.connected, false);
});
