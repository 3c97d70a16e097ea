/**
 * Idle keep-alive connections of `fetch`, per origin (resolved address and
 * port), bounded per origin and in all, each closed after an idle timeout
 * on the stack's clock.
 *
 * @module
 */
import type { TcpConn } from "../sockets/types.ts";
import type { MessageReader } from "./_io.ts";
import type { HttpHost, HttpTimer } from "./types.ts";

/** A client connection with its response reader. */
export interface ClientConn {
  readonly conn: TcpConn;
  readonly reader: MessageReader;
  /** Requests it has carried. */
  uses: number;
  /** Closes it when it has been idle too long (armed while pooled). */
  timer?: HttpTimer;
}

/** Limits of a {@linkcode ConnectionPool}. */
export interface PoolLimits {
  /** Idle connections kept per origin. */
  readonly perOrigin: number;
  /** Idle connections kept in all. */
  readonly total: number;
  /** Idle time before a kept connection is closed, µs. */
  readonly idleTimeout: number;
}

/** The default limits: 6 per origin (as browsers), 64 in all, 4 s idle. */
export const DEFAULT_POOL_LIMITS: PoolLimits = { perOrigin: 6, total: 64, idleTimeout: 4_000_000 };

/**
 * Idle connections by origin; most recently used first out (the one
 * least likely to have been closed by the server's own idle timeout).
 *
 * @example
 * ```ts ignore
 * const pool = new ConnectionPool(host);
 * pool.put("10.0.0.2|80", cc); // kept
 * pool.take("10.0.0.2|80");    // cc again
 * ```
 */
export class ConnectionPool {
  readonly #host: HttpHost;
  readonly #limits: PoolLimits;
  readonly #idle = new Map<string, ClientConn[]>();
  #size = 0;
  /** Connections handed out again instead of opening new ones. */
  reused = 0;
  /** Connections opened. */
  opened = 0;

  /** A pool on `host`'s clock. */
  constructor(host: HttpHost, limits: PoolLimits = DEFAULT_POOL_LIMITS) {
    this.#host = host;
    this.#limits = limits;
  }

  /** Idle connections kept now. */
  get size(): number {
    return this.#size;
  }

  /** An idle connection to `key`, if one is kept. */
  take(key: string): ClientConn | undefined {
    const list = this.#idle.get(key);
    const cc = list?.pop();
    if (cc === undefined) return undefined;
    if (list!.length === 0) this.#idle.delete(key);
    this.#size--;
    cc.timer?.cancel();
    this.reused++;
    return cc;
  }

  /** Keeps `cc` for the next request to `key`, or closes it when the pool is full. */
  put(key: string, cc: ClientConn): void {
    const list = this.#idle.get(key) ?? [];
    if (list.length >= this.#limits.perOrigin || this.#size >= this.#limits.total) {
      closeClient(cc);
      return;
    }
    list.push(cc);
    this.#idle.set(key, list);
    this.#size++;
    cc.timer ??= this.#host.timer(() => this.#expire(key, cc));
    cc.timer.arm(this.#host.now() + this.#limits.idleTimeout);
  }

  #expire(key: string, cc: ClientConn): void {
    const list = this.#idle.get(key);
    const i = list?.indexOf(cc) ?? -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (list!.length === 0) this.#idle.delete(key);
    this.#size--;
    closeClient(cc);
  }

  /** Closes every idle connection. */
  closeAll(): void {
    for (const list of this.#idle.values()) for (const cc of list) closeClient(cc);
    this.#idle.clear();
    this.#size = 0;
  }
}

/** Closes a client connection and frees its parser. */
export function closeClient(cc: ClientConn): void {
  cc.timer?.cancel();
  try {
    cc.conn.close();
  } catch {
    // already closed
  }
  cc.reader.close();
}
