// Subscribe, publish and presence against the open server: --client-publish
// and --presence-events, no token.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { MyriadClient, MyriadError } from "../myriad.js";
import { apiPublish, env, eventually, inbox, once, topic } from "./helpers.mjs";

const WS = env("MYRIAD_WS_URL");
const API = env("MYRIAD_API_URL");

const clients = [];
function client(opts = {}) {
  const c = new MyriadClient(WS, { reconnect: { minDelay: 20, maxDelay: 100 }, ...opts });
  clients.push(c);
  return c;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

test("a message published through the HTTP API reaches the subscriber's handler", async () => {
  const c = client();
  await c.connect();
  const t = topic();
  const got = inbox();
  await c.subscribe(t, (data, msg) => got.push({ data, msg }));
  assert.deepEqual(await apiPublish(API, t, { headline: "hello" }), { delivered: 1 });
  const { data, msg } = await got.next();
  assert.deepEqual(data, { headline: "hello" });
  assert.equal(msg.topic, t);
});

test("topics given at construction are subscribed on connect", async () => {
  const t = topic();
  const c = client({ topics: [t] });
  const got = inbox();
  c.on("message", (m) => got.push(m));
  const subscribed = c.subscribe(t); // resolves once the server confirmed it
  await c.connect();
  await subscribed;
  await apiPublish(API, t, 42);
  const m = await got.next();
  assert.deepEqual({ type: m.type, topic: m.topic, data: m.data }, { type: "message", topic: t, data: 42 });
  assert.equal(m.offset, 1); // the topic's first message in its history
  assert.equal(typeof m.epoch, "string");
});

test("a client publish resolves and reaches other subscribers", async () => {
  const [pub, sub] = [client(), client()];
  await Promise.all([pub.connect(), sub.connect()]);
  const t = topic("chat");
  const got = inbox();
  await sub.subscribe(t, (d) => got.push(d));
  await pub.publish(t, { text: "hi", n: [1, 2] });
  assert.deepEqual(await got.next(), { text: "hi", n: [1, 2] });
});

test("unsubscribe leaves the topic on the server", async () => {
  const c = client();
  await c.connect();
  const t = topic();
  const h1 = () => {};
  const h2 = () => {};
  await c.subscribe(t, h1);
  await c.subscribe(t, h2);
  await c.unsubscribe(t, h1);
  assert.deepEqual(await apiPublish(API, t, 1), { delivered: 1 }, "one handler left keeps the subscription");
  await c.unsubscribe(t, h2);
  assert.deepEqual(c.topics, []);
  assert.deepEqual(await apiPublish(API, t, 2), { delivered: 0 });
});

test("presence events report joins and leaves", async () => {
  const t = topic("room");
  const a = client();
  await a.connect();
  const seen = inbox();
  a.on("presence", (e) => e.topic === t && seen.push(e.type));
  await a.subscribe(t);
  assert.equal(await seen.next("own join"), "join");
  const b = client();
  await b.connect();
  await b.subscribe(t);
  assert.equal(await seen.next("b's join"), "join");
  b.close();
  assert.equal(await seen.next("b's leave"), "leave");
});

const badTopics = [
  { name: "space", topic: "has space" },
  { name: "too long", topic: "x".repeat(129) },
  { name: "quote", topic: 'a"b' },
];
for (const tc of badTopics) {
  test(`subscribing to an invalid topic rejects and drops it: ${tc.name}`, async () => {
    const c = client();
    await c.connect();
    const errors = inbox();
    c.on("error", (e) => errors.push(e));
    await assert.rejects(c.subscribe(tc.topic, () => {}), (e) => e instanceof MyriadError && /topic/.test(e.message));
    assert.deepEqual(c.topics, []);
    assert.ok((await errors.next()) instanceof MyriadError);
    assert.ok((await c.ping()) >= 0, "the connection stays usable");
  });
}

test("publish without a connection rejects at once", async () => {
  const c = client();
  await assert.rejects(c.publish(topic(), 1), /not connected/);
});

test("repeated invalid requests make the server close with 1008, and the client does not retry", async () => {
  const c = client();
  await c.connect();
  const reconnecting = [];
  c.on("reconnecting", (e) => reconnecting.push(e));
  const closed = once(c, "close");
  for (let i = 0; i < 8; i++) await assert.rejects(c.publish("bad topic", i), MyriadError);
  const e = await closed;
  assert.equal(e.code, 1008);
  assert.equal(e.willReconnect, false);
  assert.deepEqual(reconnecting, []);
  assert.equal(c.connected, false);
});

test("handler exceptions become error events and do not stop delivery", async () => {
  const c = client();
  await c.connect();
  const t = topic();
  const errors = inbox();
  const got = inbox();
  c.on("error", (e) => errors.push(e));
  await c.subscribe(t, () => {
    throw new Error("boom");
  });
  await c.subscribe(t, (d) => got.push(d));
  await apiPublish(API, t, "x");
  assert.equal((await errors.next()).message, "boom");
  assert.equal(await got.next(), "x");
  await eventually(() => c.connected, "still connected");
});

test("the server answers a subscribe carrying since, as the client sends it for recovery", async () => {
  // The client adds since: {offset, epoch} once messages carry an offset;
  // a cursor of an epoch the topic never had cannot be honoured.
  const t = topic();
  const ws = new WebSocket(WS);
  await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
  const answer = new Promise((resolve) => (ws.onmessage = (e) => resolve(JSON.parse(e.data))));
  ws.send(JSON.stringify({ type: "subscribe", topic: t, since: { offset: 41, epoch: "e1" }, ref: 7 }));
  const a = await answer;
  const got = { type: a.type, topics: a.topics, ref: a.ref, recovered: a.recovered };
  assert.deepEqual(got, { type: "subscribed", topics: [t], ref: 7, recovered: false });
  assert.equal(a.positions[t].offset, 0);
  ws.close();
});

test("connect() called again while connecting or connected makes no second socket", async () => {
  let made = 0;
  const c = client({
    WebSocket: class extends WebSocket {
      constructor(url) {
        super(url);
        made++;
      }
    },
  });
  await Promise.all([c.connect(), c.connect()]);
  await c.connect();
  assert.equal(made, 1);
  assert.ok(c.connected);
});

test("an http:// URL is dialled as ws://", async () => {
  const c = new MyriadClient(WS.replace(/^ws:/, "http:"), { reconnect: false });
  clients.push(c);
  await c.connect();
  assert.ok((await c.ping()) >= 0);
});

test("after a dropped connection the client recovers what was published meanwhile, once and in order", async () => {
  const sockets = [];
  const c = client({
    WebSocket: class extends WebSocket {
      constructor(url) {
        super(url);
        sockets.push(this);
      }
    },
  });
  await c.connect();
  const t = topic();
  const got = inbox();
  await c.subscribe(t, (d) => got.push(d));
  await apiPublish(API, t, 1);
  assert.equal(await got.next(), 1);
  sockets[0].close(4000, "network gone");
  for (const n of [2, 3, 4]) await apiPublish(API, t, n);
  for (const n of [2, 3, 4]) assert.equal(await got.next(), n);
  await eventually(() => sockets.length === 2 && c.connected, "the reconnect");
  await apiPublish(API, t, 5);
  assert.equal(await got.next(), 5);
});
