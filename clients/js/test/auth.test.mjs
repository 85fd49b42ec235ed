// Token authentication against the server started with --jwt-secret.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { MyriadClient, MyriadError } from "../myriad.js";
import { apiPublish, env, hs256, inbox, topic } from "./helpers.mjs";

const WS = env("MYRIAD_AUTH_WS_URL");
const API = env("MYRIAD_AUTH_API_URL");
const SECRET = env("MYRIAD_JWT_SECRET");

const now = () => Math.floor(Date.now() / 1000);
const clients = [];
function client(opts) {
  const c = new MyriadClient(WS, opts);
  clients.push(c);
  return c;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

test("a valid token connects, and its claims decide what may be subscribed and published", async () => {
  const token = hs256(SECRET, { sub: "ann", exp: now() + 60, sub_topics: ["chat.*", "news"], pub_topics: ["chat.*"] });
  const c = client({ token });
  await c.connect();
  const room = topic("chat");
  const got = inbox();
  await c.subscribe(room, (d) => got.push(d));
  await c.publish(room, "from ann");
  assert.equal(await got.next(), "from ann");
  await assert.rejects(c.publish("news", 1), (e) => e instanceof MyriadError && /not allowed to publish/.test(e.message));
  await assert.rejects(c.subscribe("sport"), /not allowed to subscribe/);
  assert.deepEqual(c.topics, [room]);
  assert.deepEqual(await apiPublish(API, room, 2), { delivered: 1 });
});

test("a token function is asked for a token on every connect", async () => {
  let calls = 0;
  const c = client({
    token: async () => (calls++, hs256(SECRET, { sub: "bob", exp: now() + 60 })),
  });
  await c.connect();
  assert.equal(calls, 1);
});

const refused = [
  { name: "no token", token: undefined },
  { name: "wrong secret", token: hs256("not-the-secret", { sub: "eve", exp: now() + 60 }) },
  { name: "expired", token: hs256(SECRET, { sub: "eve", exp: now() - 60 }) },
  { name: "alg none", token: hs256(SECRET, { sub: "eve" }).replace(/^[^.]+/, Buffer.from('{"alg":"none"}').toString("base64url")) },
  { name: "garbage", token: "a.b.c" },
];
for (const tc of refused) {
  test(`a refused upgrade is retried at most maxRetries times, then connect rejects: ${tc.name}`, async () => {
    const c = client({ token: tc.token, reconnect: { minDelay: 1, maxDelay: 5, maxRetries: 2 } });
    const retries = [];
    c.on("reconnecting", (e) => retries.push(e.attempt));
    await assert.rejects(c.connect(), MyriadError);
    assert.deepEqual(retries, [1, 2]);
    assert.equal(c.connected, false);
  });
}
