/**
 * What a `Stack` keeps for HTTP: timers on its clock outside any plugin
 * (merged into the stack's `pollAt`/`poll`, so they run on virtual time
 * under `net.run()` and on the real clock under a runner), the keep-alive
 * pool of `fetch`, and the servers to shut down when the stack closes.
 *
 * @module
 */
import type { Clock, Instant } from "../clock.ts";
import type {
  TcpConn,
  TcpConnectOptions,
  TcpListener,
  TcpListenOptions,
} from "../sockets/types.ts";
import { TimerQueue } from "../timers.ts";
import { ConnectionPool } from "./_pool.ts";
import { fetchHttp } from "./fetch.ts";
import { serveHttp } from "./server.ts";
import type { FetchInit, HttpHost, HttpServer, ServeHandler, ServeOptions } from "./types.ts";

/** The stack's side of HTTP (see {@linkcode HttpSupport}). */
export interface StackSide {
  connect(options: TcpConnectOptions): Promise<TcpConn>;
  listen(options: TcpListenOptions): TcpListener;
  readonly clock: Clock;
  readonly hosts: ReadonlyMap<string, string>;
}

/**
 * HTTP state of one stack.
 *
 * @example
 * ```ts ignore
 * const http = new HttpSupport(stackSide);
 * http.fetch("http://10.0.0.2/");
 * ```
 */
export class HttpSupport {
  readonly #timers = new TimerQueue();
  readonly #host: HttpHost;
  readonly #pool: ConnectionPool;
  #closed = false;

  /** HTTP on `side`. */
  constructor(side: StackSide) {
    this.#host = {
      connect: (o) => side.connect(o),
      listen: (o) => side.listen(o),
      now: () => side.clock.now(),
      timer: (callback) => {
        const t = this.#timers.create("http", () => callback());
        return { arm: (at) => t.arm(at), cancel: () => t.cancel() };
      },
      hosts: side.hosts,
    };
    this.#pool = new ConnectionPool(this.#host);
  }

  /** The keep-alive pool (its `opened` and `reused` counts, for tests). */
  get pool(): ConnectionPool {
    return this.#pool;
  }

  /** Calls `listener` when an HTTP timer becomes the earliest (the stack's `watchPollAt`). */
  watch(listener: (() => void) | null): void {
    this.#timers.onEarliest = listener;
  }

  /** The next HTTP deadline. */
  pollAt(): Instant | undefined {
    return this.#closed ? undefined : this.#timers.nextDeadline();
  }

  /** Runs the HTTP timers due at `now`. */
  poll(now: Instant): void {
    if (this.#closed) return;
    this.#timers.runDue(now, (t, at) => {
      try {
        t.callback(at);
      } catch {
        // A timer callback only closes connections; nothing to report.
      }
    });
  }

  /** `Stack.fetch`. */
  fetch(input: RequestInfo | URL, init?: FetchInit): Promise<Response> {
    return fetchHttp(this.#host, this.#pool, input, init);
  }

  /** `Stack.serve`. */
  serve(options: ServeOptions, handler: ServeHandler): HttpServer {
    return serveHttp(this.#host, options, handler);
  }

  /** Closes kept connections; timers stop. */
  close(): void {
    this.#pool.closeAll();
    this.#closed = true;
  }
}

/** The earlier of two optional instants. */
export function earliest(a: Instant | undefined, b: Instant | undefined): Instant | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b) as Instant;
}
