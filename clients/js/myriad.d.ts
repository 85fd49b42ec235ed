// Type declarations for myriad.js.

/** Reconnect policy; times in milliseconds. */
export interface ReconnectPolicy {
  /** First retry's upper bound (default 500). */
  minDelay?: number;
  /** Largest upper bound (default 30000). */
  maxDelay?: number;
  /** Growth of the bound per failed attempt (default 2). */
  factor?: number;
  /** Random share of each delay, 0 to 1 (default 1: full jitter). */
  jitter?: number;
  /** Failed attempts in a row before giving up (default Infinity). */
  maxRetries?: number;
}

export const DEFAULT_RECONNECT: Readonly<Required<ReconnectPolicy>>;
export const NO_RETRY_CODES: readonly number[];
/** Default requestTimeout: 10000 ms. */
export const DEFAULT_REQUEST_TIMEOUT: number;
/** Close code (4408) of a socket dropped because a request timed out. */
export const TIMEOUT_CLOSE_CODE: number;

/** The wait before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, policy?: ReconnectPolicy, random?: () => number): number;

export interface MyriadOptions {
  /** A JWT, or a function giving one (or a promise of one) on every connect. */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** Topics to subscribe to on connect. */
  topics?: string[];
  /** Reconnect policy, or false to never reconnect. */
  reconnect?: ReconnectPolicy | false;
  /**
   * Milliseconds a request (subscribe, unsubscribe, publish, ping) waits
   * for the server's answer once sent, then rejects with a timed-out
   * MyriadError (default 10000; 0 or false: no limit). A subscribe made
   * while disconnected waits for the connection without this limit.
   */
  requestTimeout?: number | false;
  /**
   * On a timed-out request, drop the socket (close code 4408) and let the
   * reconnect policy take over (default true).
   */
  closeOnTimeout?: boolean;
  /** WebSocket constructor (default globalThis.WebSocket). */
  WebSocket?: new (url: string) => WebSocket;
  /** For tests: the random source and timer functions. */
  random?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (t: unknown) => void;
}

/** A published message as the server sends it. */
export interface Message<T = unknown> {
  type: "message";
  topic: string;
  data: T;
  offset?: number;
  epoch?: string | number;
}

/** A join or leave event (server started with --presence-events). */
export interface PresenceEvent {
  type: "join" | "leave";
  topic: string;
  /** The token's `sub`; absent for clients without one. */
  user?: string;
}

export interface CloseEvent {
  code: number;
  reason: string;
  /** Whether a reconnect is scheduled. */
  willReconnect: boolean;
}

export interface ReconnectingEvent {
  /** 1 for the first retry. */
  attempt: number;
  /** Milliseconds until it. */
  delay: number;
}

export interface MyriadEvents {
  open: Record<string, never>;
  close: CloseEvent;
  error: Error;
  reconnecting: ReconnectingEvent;
  message: Message;
  join: PresenceEvent;
  leave: PresenceEvent;
  presence: PresenceEvent;
}

export class MyriadError extends Error {
  /** The server's error reply, or the close event, when there was one. */
  reply?: unknown;
  /** Whether the request got no answer within requestTimeout. */
  timedOut: boolean;
}

export type Handler<T = unknown> = (data: T, message: Message<T>) => void;

export class MyriadClient {
  constructor(url: string | URL, opts?: MyriadOptions);
  readonly connected: boolean;
  readonly topics: string[];
  on<K extends keyof MyriadEvents>(type: K, fn: (ev: MyriadEvents[K]) => void): () => void;
  off<K extends keyof MyriadEvents>(type: K, fn: (ev: MyriadEvents[K]) => void): void;
  connect(): Promise<void>;
  subscribe<T = unknown>(topic: string, handler?: Handler<T>): Promise<void>;
  unsubscribe<T = unknown>(topic: string, handler?: Handler<T>): Promise<void>;
  publish(topic: string, data: unknown): Promise<void>;
  ping(): Promise<number>;
  close(code?: number, reason?: string): void;
}
