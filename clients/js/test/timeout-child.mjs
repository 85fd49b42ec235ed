// The process timeout.test.mjs watches exit: one client whose request times
// out on a stalled link, and one closed with a request in flight whose timer
// would hold the process for an hour if close() left it behind.
import assert from "node:assert/strict";
import { MyriadClient } from "../myriad.js";

const stalled = new MyriadClient(process.env.STALLED_WS, { requestTimeout: Number(process.env.SHORT), closeOnTimeout: false, reconnect: false });
await stalled.connect();
await assert.rejects(stalled.ping(), (e) => e.timedOut === true);

const live = new MyriadClient(process.env.LIVE_WS, { requestTimeout: Number(process.env.HOUR), reconnect: false });
await live.connect();
await live.ping();
const inFlight = live.ping();
live.close();
await assert.rejects(inFlight, /connection closed/);
stalled.close();
console.log("closed");
