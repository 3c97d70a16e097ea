/**
 * The shapes of `Stack.serve` and `Stack.fetch`: options like
 * `Deno.ServeOptions` and `RequestInit`, the server object like
 * `Deno.HttpServer`, and {@linkcode HttpHost}, what the HTTP layer needs
 * from a stack (so it never imports the façade).
 *
 * @module
 */
import type { Instant } from "../clock.ts";
import type { NetAddr } from "../sockets/address.ts";
import type {
  TcpConn,
  TcpConnectOptions,
  TcpListener,
  TcpListenOptions,
} from "../sockets/types.ts";

/**
 * The clock and timers an HTTP server runs on (a stack's, or a plugin
 * context's): timeouts are deadlines on it, never real timers.
 *
 * @example
 * ```ts ignore
 * const clock: ServerClock = { now: () => ctx.now(), timer: (cb) => wrap(ctx.timer(cb)) };
 * ```
 */
export interface ServerClock {
  /** The clock, µs. */
  now(): Instant;
  /** A timer on that clock: `arm(at)` runs `callback` at `at`; `cancel()`. */
  timer(callback: () => void): HttpTimer;
}

/**
 * What the HTTP layer uses of a stack: TCP, the clock, timers on that
 * clock, and the hosts table.
 *
 * @example
 * ```ts ignore
 * const host: HttpHost = { connect, listen, now, timer, hosts: new Map() };
 * ```
 */
export interface HttpHost extends ServerClock {
  /** `Stack.connect`. */
  connect(options: TcpConnectOptions): Promise<TcpConn>;
  /** `Stack.listen`. */
  listen(options: TcpListenOptions): TcpListener;
  /** Names to addresses (`/etc/hosts`): `hosts.set("api", "10.0.0.2")`. */
  readonly hosts: ReadonlyMap<string, string>;
}

/** A deadline on the stack's clock. */
export interface HttpTimer {
  /** Runs the callback at `at` (µs, the stack's clock); re-arms if armed. */
  arm(at: Instant): void;
  /** Cancels it if armed. */
  cancel(): void;
}

/**
 * Information about a request, like `Deno.ServeHandlerInfo`.
 *
 * @example
 * ```ts ignore
 * stack.serve({ port: 80 }, (_req, info) => new Response(info.remoteAddr.hostname));
 * ```
 */
export interface ServeHandlerInfo {
  /** The client's address. */
  readonly remoteAddr: NetAddr;
  /** Settles when the response has been sent (or failed to be). */
  readonly completed: Promise<void>;
}

/**
 * A request handler, like `Deno.ServeHandler`.
 *
 * @example
 * ```ts
 * import type { ServeHandler } from "./types.ts";
 * const hello: ServeHandler = () => new Response("hello");
 * ```
 */
export type ServeHandler = (
  request: Request,
  info: ServeHandlerInfo,
) => Response | Promise<Response>;

/**
 * Options of `Stack.serve`, like `Deno.ServeTcpOptions`, plus limits.
 *
 * @example
 * ```ts
 * import type { ServeOptions } from "./types.ts";
 * const o: ServeOptions = { port: 8080, maxBodySize: 1 << 20 };
 * ```
 */
export interface ServeOptions {
  /** Port to listen on (default 80; 0: an ephemeral one). */
  readonly port?: number;
  /** Address to listen on (default `0.0.0.0`; `::` for both families). */
  readonly hostname?: string;
  /** Called once listening, with the address (default: nothing; no console here). */
  readonly onListen?: (addr: NetAddr) => void;
  /** Aborting it shuts the server down gracefully. */
  readonly signal?: AbortSignal;
  /** Makes the response for a handler that threw (default: 500, text). */
  readonly onError?: (error: unknown) => Response | Promise<Response>;
  /** Most bytes in a request head (default 16384; over: 431, a long target 414). */
  readonly maxHeaderSize?: number;
  /** Most header fields (default 100; over: 431). */
  readonly maxHeaderCount?: number;
  /** Most bytes in a request body (default 16 MiB; over: 413). */
  readonly maxBodySize?: number;
  /** Close a connection idle this long between requests, ms (default 5000, stack clock). */
  readonly keepAliveTimeout?: number;
  /** Requests on one connection before it is closed (default 1000). */
  readonly maxRequestsPerConnection?: number;
  /** Connections served at once; more are closed at once (default 1024). */
  readonly maxConnections?: number;
}

/**
 * A running server, like `Deno.HttpServer`.
 *
 * @example
 * ```ts ignore
 * const server = stack.serve({ port: 80 }, () => new Response("hi"));
 * await server.shutdown(); // in-flight requests finish first
 * await server.finished;
 * ```
 */
export interface HttpServer extends AsyncDisposable {
  /** Where it listens. */
  readonly addr: NetAddr;
  /** Settles when the server has shut down and every connection is closed. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting, closes idle connections, lets requests in flight get
   * their responses (sent with `Connection: close`), then resolves.
   */
  shutdown(): Promise<void>;
  /** Requests answered so far. */
  readonly requests: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections closed unserved: over `maxConnections`, or during shutdown. */
  readonly rejected: number;
}

/**
 * `RequestInit` plus a timeout on the stack's clock.
 *
 * @example
 * ```ts
 * import type { FetchInit } from "./types.ts";
 * const init: FetchInit = { method: "POST", body: "{}", timeout: 2000 };
 * ```
 */
export interface FetchInit extends RequestInit {
  /**
   * Milliseconds on the stack's clock until the response head must have
   * arrived (connecting and sending included); then the request fails with
   * a `TypeError` whose cause is `Deno.errors.TimedOut`. Default: none.
   */
  readonly timeout?: number;
}
