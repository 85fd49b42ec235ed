// myriad.js: a client for the myriad gateway protocol (PROTOCOL.md of the
// gateway). One ES module, no dependencies; it runs in browsers and in
// Node 22+ (Node 20 with --experimental-websocket), or anywhere a WebSocket
// constructor is passed in the options.

/** Default reconnect policy; see backoffDelay. Times are in milliseconds. */
export const DEFAULT_RECONNECT = Object.freeze({
  minDelay: 500,
  maxDelay: 30000,
  factor: 2,
  jitter: 1,
  maxRetries: Infinity,
});

/**
 * Close codes after which reconnecting cannot help: the server judged the
 * client itself (1008 policy violation, e.g. too many invalid messages) or
 * its data (1002, 1003, 1007). A refused upgrade (401, 403) reaches a
 * WebSocket only as 1006, so those are bounded by maxRetries and maxDelay
 * instead.
 */
export const NO_RETRY_CODES = Object.freeze([1002, 1003, 1007, 1008]);

/** Default time in ms a request waits for the server's answer. */
export const DEFAULT_REQUEST_TIMEOUT = 10000;

/**
 * TIMEOUT_CLOSE_CODE is the close code (private range; 408 is HTTP's
 * Request Timeout) with which the client drops a socket on which a request
 * timed out, when closeOnTimeout is on. It is not in NO_RETRY_CODES: a
 * reconnect follows.
 */
export const TIMEOUT_CLOSE_CODE = 4408;

// The largest delay setTimeout takes; a longer one would fire at once.
const MAX_TIMER = 0x7fffffff;

/**
 * backoffDelay is the wait before reconnect attempt number `attempt`
 * (0 for the first retry): exponential growth capped at maxDelay, with
 * "full jitter" by default, so a server restart does not bring every
 * client back in the same instant. jitter is the random share of the
 * delay: 1 draws uniformly from [0, cap), 0 is no randomness.
 */
export function backoffDelay(attempt, policy = DEFAULT_RECONNECT, random = Math.random) {
  const p = { ...DEFAULT_RECONNECT, ...policy };
  const cap = Math.min(p.maxDelay, p.minDelay * Math.pow(p.factor, attempt));
  const j = Math.min(Math.max(p.jitter, 0), 1);
  return cap * (1 - j) + cap * j * random();
}

/**
 * MyriadError is a request the server refused (reply is its answer), one
 * the connection lost, or one it did not answer in time (timedOut is true).
 */
export class MyriadError extends Error {
  constructor(message, reply, timedOut = false) {
    super(message);
    this.name = "MyriadError";
    this.reply = reply;
    this.timedOut = timedOut;
  }
}

const OPEN = 1;

/**
 * MyriadClient holds one WebSocket to a myriad gateway, reconnects it with
 * backoff when it drops, and subscribes again to every topic it held.
 */
export class MyriadClient {
  #url;
  #opts;
  #policy;
  #ws = null;
  #topics = new Map(); // topic -> {handlers: Set, offset, epoch, subscribed, asking, waiters: []}
  #pending = new Map(); // ref -> {resolve, reject, timer}
  #requestTimeout; // ms, 0 for none
  #listeners = new Map(); // event type -> Set of functions
  #nextRef = 1;
  #attempt = 0;
  #timer = null;
  #dialing = false; // between dial() and the socket being made
  #closed = true;

  /**
   * @param {string} url ws:// or wss:// URL of the gateway's /ws path.
   * @param {object} [opts] token (string or function returning one, or a
   *   promise of one, called on every connect), topics (subscribed at
   *   connect), reconnect (policy, or false for none), WebSocket (the
   *   constructor to use), requestTimeout (ms a request waits for its
   *   answer, default 10000; 0 or false for no limit), closeOnTimeout
   *   (drop the socket and reconnect when a request times out, default
   *   true), random/setTimeout/clearTimeout (for tests).
   */
  constructor(url, opts = {}) {
    this.#url = url;
    this.#opts = {
      random: Math.random,
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (t) => clearTimeout(t),
      WebSocket: globalThis.WebSocket,
      closeOnTimeout: true,
      ...opts,
    };
    const ms = Number(opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT);
    this.#requestTimeout = ms > 0 && ms <= MAX_TIMER ? ms : 0;
    this.#policy = opts.reconnect === false ? null : { ...DEFAULT_RECONNECT, ...opts.reconnect };
    for (const t of opts.topics ?? []) this.#topic(t);
  }

  /** connected says whether the socket is open. */
  get connected() {
    return this.#ws !== null && this.#ws.readyState === OPEN;
  }

  /** topics lists the topics the client holds (or will hold on connect). */
  get topics() {
    return [...this.#topics.keys()];
  }

  /**
   * on adds a listener for open, close, error, reconnecting, message,
   * join, leave or presence (join and leave both); it returns a function
   * that removes it.
   */
  on(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  /** off removes a listener added with on. */
  off(type, fn) {
    this.#listeners.get(type)?.delete(fn);
  }

  /**
   * connect opens the socket and resolves on the first open. It rejects
   * only when the client gives up (close(), a no-retry close code, or
   * maxRetries failed attempts); until then it keeps retrying.
   */
  connect() {
    if (this.connected) return Promise.resolve();
    const idle = this.#ws === null && this.#timer === null && !this.#dialing;
    this.#closed = false;
    if (idle) this.#attempt = 0;
    return new Promise((resolve, reject) => {
      const offOpen = this.on("open", () => (done(), resolve()));
      const offClose = this.on("close", (e) => {
        if (!e.willReconnect) done(), reject(new MyriadError(`connection closed (${e.code})`, e));
      });
      const done = () => (offOpen(), offClose());
      if (idle) this.#dial();
    });
  }

  /**
   * subscribe adds handler(data, message) for topic and, the first time a
   * topic is added, subscribes to it. It resolves when the server has
   * confirmed it, which waits for the connection when there is none: that
   * wait has no limit of its own (the reconnect policy and close() end it,
   * as they end connect()), while the server's answer, once the request is
   * sent, has requestTimeout. A subscribe that timed out rejects but keeps
   * the topic and its handler: the client asks again on the next
   * connection, or at once when subscribe is called again.
   */
  subscribe(topic, handler) {
    const st = this.#topic(topic);
    if (handler) st.handlers.add(handler);
    if (st.subscribed) return Promise.resolve();
    const p = new Promise((resolve, reject) => st.waiters.push({ resolve, reject }));
    if (st.asking === null && this.connected) this.#sendSubscribe(topic, st);
    return p;
  }

  /**
   * unsubscribe removes handler from topic, or every handler when none is
   * given; with no handler left the topic is left on the server too.
   */
  unsubscribe(topic, handler) {
    const st = this.#topics.get(topic);
    if (!st) return Promise.resolve();
    if (handler) st.handlers.delete(handler);
    if (handler && st.handlers.size > 0) return Promise.resolve();
    this.#topics.delete(topic);
    this.#settle(st, new MyriadError(`unsubscribed from ${topic}`));
    if (!this.connected) return Promise.resolve();
    return this.#request({ type: "unsubscribe", topic }).then(() => undefined);
  }

  /**
   * publish sends data to topic from this socket and resolves when the
   * server has handed it to every event loop. It rejects when not
   * connected (nothing is queued across reconnects) or when the server
   * refuses, e.g. without --client-publish or a matching pub_topics claim.
   */
  publish(topic, data) {
    return this.#request({ type: "publish", topic, data }).then(() => undefined);
  }

  /**
   * ping asks the server for a pong and resolves with the round trip in ms.
   * Like every request it rejects after requestTimeout without an answer;
   * with closeOnTimeout, pinging now and then is a heartbeat that finds a
   * dead link no socket event reports.
   */
  ping() {
    const start = Date.now();
    return this.#request({ type: "ping" }).then(() => Date.now() - start);
  }

  /**
   * close closes the socket for good: no reconnect follows, what was in
   * flight is rejected, and the close event fires before it returns.
   */
  close(code = 1000, reason = "") {
    const idle = this.#closed && this.#ws === null && this.#timer === null && !this.#dialing;
    this.#closed = true;
    if (this.#timer !== null) this.#opts.clearTimeout(this.#timer);
    this.#timer = null;
    this.#detach(code, reason);
    if (!idle) this.#lost(code, reason);
  }

  // detach closes the socket, if there is one, without waiting for its
  // close event: the client is done with it at once.
  #detach(code, reason) {
    const ws = this.#ws;
    this.#ws = null;
    if (ws === null) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try {
      ws.close(code, reason);
    } catch {
      ws.close();
    }
  }

  #topic(topic) {
    let st = this.#topics.get(topic);
    if (!st) {
      st = { handlers: new Set(), offset: undefined, epoch: undefined, subscribed: false, asking: null, waiters: [] };
      this.#topics.set(topic, st);
    }
    return st;
  }

  async #dial() {
    this.#dialing = true;
    let ws;
    try {
      const url = await this.#connectURL();
      if (this.#closed) return;
      ws = new this.#opts.WebSocket(url);
    } catch (err) {
      this.#dialing = false;
      this.#emit("error", err);
      if (!this.#closed) this.#lost(1006, err.message);
      return;
    } finally {
      this.#dialing = false;
    }
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.#attempt = 0;
      for (const [topic, st] of this.#topics) this.#sendSubscribe(topic, st);
      this.#emit("open", {});
    };
    ws.onmessage = (e) => this.#receive(e.data);
    // A socket ends once, on whichever comes first: its close event, or an
    // error before it opened (Node 20's WebSocket fires no close then).
    const end = (code, reason) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      this.#lost(code, reason);
    };
    ws.onerror = () => {
      this.#emit("error", new MyriadError(opened ? "socket error" : "cannot connect"));
      if (!opened) end(1006, "cannot connect");
    };
    ws.onclose = (e) => end(e.code, e.reason);
  }

  // connectURL is the URL to dial: relative to the page in a browser, so
  // "/ws" works, with http(s) turned into ws(s), and the token added.
  async #connectURL() {
    const u = new URL(this.#url, globalThis.location?.href);
    if (u.protocol === "http:" || u.protocol === "https:") u.protocol = u.protocol === "http:" ? "ws:" : "wss:";
    let token = this.#opts.token;
    if (typeof token === "function") token = await token();
    if (token) u.searchParams.set("token", token);
    return u.toString();
  }

  // lost runs after every ended or failed connection: it fails what was in
  // flight and schedules the next attempt, unless the client is done.
  #lost(code, reason) {
    const err = new MyriadError(`connection closed (${code})`);
    for (const ref of [...this.#pending.keys()]) this.#take(ref).reject(err);
    for (const st of this.#topics.values()) st.subscribed = false;
    const p = this.#policy;
    const retry = !this.#closed && p !== null && !NO_RETRY_CODES.includes(code) && this.#attempt < p.maxRetries;
    if (!retry) {
      this.#closed = true;
      for (const st of this.#topics.values()) this.#settle(st, err);
    }
    this.#emit("close", { code, reason, willReconnect: retry });
    if (!retry) return;
    const delay = backoffDelay(this.#attempt, p, this.#opts.random);
    this.#attempt++;
    this.#emit("reconnecting", { attempt: this.#attempt, delay });
    this.#timer = this.#opts.setTimeout(() => {
      this.#timer = null;
      if (!this.#closed) this.#dial();
    }, delay);
  }

  // sendSubscribe asks for one topic, so a refused topic does not take the
  // others with it. A known position goes along as `since` for recovery.
  #sendSubscribe(topic, st) {
    const msg = { type: "subscribe", topic };
    if (st.offset !== undefined) msg.since = { offset: st.offset, epoch: st.epoch };
    const req = this.#request(msg);
    st.asking = req; // the subscribe in flight: no second one is sent meanwhile
    req.then(
      () => {
        if (st.asking === req) st.asking = null;
        if (this.#topics.get(topic) !== st) return;
        st.subscribed = true;
        this.#settle(st, null);
      },
      (err) => {
        if (st.asking === req) st.asking = null;
        if (this.#topics.get(topic) !== st) return;
        if (err.timedOut) return this.#settle(st, err); // the topic stays, asked again later
        if (!err.reply) return; // lost: asked again on reconnect
        this.#topics.delete(topic);
        this.#settle(st, err);
        this.#emit("error", err);
      },
    );
  }

  #settle(st, err) {
    const ws = st.waiters;
    st.waiters = [];
    for (const w of ws) err ? w.reject(err) : w.resolve();
  }

  // request sends msg with a fresh ref and resolves with the answer. Its
  // timer, if any, lives exactly as long as its entry in pending.
  #request(msg) {
    if (!this.connected) return Promise.reject(new MyriadError("not connected"));
    const ref = this.#nextRef++;
    const ms = this.#requestTimeout;
    return new Promise((resolve, reject) => {
      const timer = ms > 0 ? this.#opts.setTimeout(() => this.#timedOut(ref, msg.type, ms), ms) : null;
      this.#pending.set(ref, { resolve, reject, timer });
      this.#ws.send(JSON.stringify({ ...msg, ref }));
    });
  }

  // take removes the request ref from pending, and its timer with it.
  #take(ref) {
    const p = this.#pending.get(ref);
    if (p === undefined) return undefined;
    this.#pending.delete(ref);
    if (p.timer !== null) this.#opts.clearTimeout(p.timer);
    return p;
  }

  // timedOut fails a request the server did not answer in time; its ref is
  // forgotten, so a late answer is dropped. A server answers each socket's
  // requests in order, so the link is most likely dead: with closeOnTimeout
  // the socket is dropped and the reconnect policy takes over.
  #timedOut(ref, type, ms) {
    const p = this.#take(ref);
    if (p === undefined) return;
    p.reject(new MyriadError(`${type} timed out after ${ms} ms`, undefined, true));
    const ws = this.#ws;
    if (!this.#opts.closeOnTimeout || ws === null) return;
    // After the request's own reactions, so a subscribe fails as timed out
    // rather than as closed.
    queueMicrotask(() => {
      if (this.#ws !== ws) return;
      this.#detach(TIMEOUT_CLOSE_CODE, "request timed out");
      this.#lost(TIMEOUT_CLOSE_CODE, "request timed out");
    });
  }

  #receive(raw) {
    let m;
    try {
      m = JSON.parse(raw);
    } catch {
      this.#emit("error", new MyriadError("server sent invalid JSON"));
      return;
    }
    switch (m.type) {
      case "message":
        return this.#deliver(m);
      case "join":
      case "leave":
        this.#emit(m.type, m);
        this.#emit("presence", m);
        return;
    }
    const p = m.ref === undefined ? undefined : this.#take(m.ref);
    if (p === undefined) {
      // Refs below nextRef were ours: a late answer to a request that timed
      // out (or was lost) is dropped; other errors are reported.
      const ours = Number.isInteger(m.ref) && m.ref > 0 && m.ref < this.#nextRef;
      if (m.type === "error" && !ours) this.#emit("error", new MyriadError(m.error, m));
      return;
    }
    if (m.type === "error") p.reject(new MyriadError(m.error, m));
    else p.resolve(m);
  }

  #deliver(m) {
    const st = this.#topics.get(m.topic);
    if (st) {
      if (m.offset !== undefined) (st.offset = m.offset), (st.epoch = m.epoch);
      for (const h of st.handlers) {
        try {
          h(m.data, m);
        } catch (err) {
          this.#emit("error", err);
        }
      }
    }
    this.#emit("message", m);
  }

  #emit(type, ev) {
    for (const fn of this.#listeners.get(type) ?? []) {
      try {
        fn(ev);
      } catch (err) {
        if (type !== "error") this.#emit("error", err);
      }
    }
  }
}
