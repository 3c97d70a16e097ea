/**
 * What runs a service inside its plugin: listening on TCP (`tcp.sockets`)
 * and UDP (`udp.sockets`) once the stack is ready, an accept loop and a
 * receive loop with bounds, deadlines on the stack clock, a graceful close,
 * and tearing everything down with the stack. {@linkcode ServiceHost} is the
 * part a service's handlers see; `defineService` (`define.ts`) builds the
 * plugin around a {@linkcode ServiceRunner}.
 *
 * @module
 */
import type { Counter } from "../counters.ts";
import type { Duration } from "../clock.ts";
import type { PluginContext, StackEvent } from "../manifest.ts";
import type { UdpService } from "../services.ts";
import type { StreamService } from "../stream.ts";
import type { Timer } from "../timers.ts";
import { checkInteger, checkMillis, checkNumber } from "../validate.ts";
import { IpAddress } from "../wire/ip_address.ts";
import { DatagramConn } from "../sockets/datagram.ts";
import { parseHostText } from "../sockets/address.ts";
import { checkBuffer, checkPort, shownText } from "../sockets/errors.ts";
import { listenTcp } from "../sockets/tcp.ts";
import type { TcpConn, TcpListener } from "../sockets/types.ts";

/**
 * Handles one accepted connection; resolves or rejects when done with it.
 * The host closes the connection afterwards (a no-op if the handler did), and
 * resets it when the handler throws.
 *
 * @example
 * ```ts
 * import type { ConnHandler } from "./host.ts";
 * import assert from "node:assert/strict";
 * const hello: ConnHandler = async (conn) => {
 *   await conn.write(new TextEncoder().encode("hello\r\n"));
 * };
 * assert.equal(typeof hello, "function");
 * ```
 */
export type ConnHandler = (conn: TcpConn) => Promise<void>;

/**
 * Handles one datagram: `data` is borrowed until the handler returns or its
 * promise settles (copy what you keep); the next datagram waits for it.
 *
 * @example
 * ```ts
 * import type { DatagramHandler } from "./host.ts";
 * import assert from "node:assert/strict";
 * const echo: DatagramHandler = async (data, from, sock) => {
 *   await sock.send(data, from);
 * };
 * assert.equal(typeof echo, "function");
 * ```
 */
export type DatagramHandler = (
  data: Uint8Array,
  from: Deno.NetAddr,
  sock: DatagramConn,
) => void | Promise<void>;

/**
 * A service's UDP receive queue bounds (`listenDatagram`'s options of the
 * same names), when the UDP plugin's defaults (256 datagrams, 212,992 bytes)
 * are too short.
 *
 * @example
 * ```ts
 * import type { UdpQueueOptions } from "./host.ts";
 * import assert from "node:assert/strict";
 * const queue: UdpQueueOptions = { receiveQueueLimit: 4096, receiveQueueBytes: 8 << 20 };
 * assert.equal(queue.receiveQueueLimit, 4096);
 * ```
 */
export interface UdpQueueOptions {
  /** Most datagrams queued. */
  readonly receiveQueueLimit: number;
  /** Most bytes queued (pooled buffers counted). */
  readonly receiveQueueBytes: number;
}

/**
 * What a service's handlers get from the host that runs them (the second
 * argument of `setup` in `defineService`): the sockets once listening, stack
 * clock deadlines that end with the service, and the two ways to end a
 * connection.
 *
 * @example A TCP service that closes idle connections after 30 s
 * ```ts
 * import { defineService } from "./define.ts";
 * import assert from "node:assert/strict";
 * const idle = defineService({
 *   name: "idle",
 *   description: "reads and drops, resets after 30 s without data",
 *   port: 7009,
 *   transports: ["tcp"],
 *   setup: (_ctx, host) => ({
 *     async tcp(conn) {
 *       const buf = new Uint8Array(4096);
 *       for (;;) {
 *         const t = host.deadline(30_000_000, () => host.abort(conn)); // µs
 *         const n = await conn.read(buf);
 *         host.cancel(t);
 *         if (n === null) break;
 *       }
 *       await host.finish(conn);
 *     },
 *   }),
 * });
 * assert.equal(idle.manifest.layer, "service");
 * ```
 */
export interface ServiceHost {
  /** The `tcp.sockets` service, once the stack is ready (undefined without TCP). */
  readonly tcp: StreamService | undefined;
  /** The TCP listener, once listening. */
  readonly listener: TcpListener | null;
  /** The UDP socket, once bound. */
  readonly socket: DatagramConn | null;
  /** Connections being served (at most the `maxConnections` option). */
  readonly activeConnections: number;
  /** Deadlines armed and not yet fired or cancelled (at most {@linkcode maxDeadlines}). */
  readonly pendingDeadlines: number;
  /** The most deadlines pending at once: 4 per connection allowed, plus 64. */
  readonly maxDeadlines: number;
  /**
   * A one-shot deadline on the stack clock: calls `fn` `after` µs from now
   * unless cancelled first; cancelled when the service stops. A throw from
   * `fn` is counted in the service's `errors` as a handler's is (not a
   * plugin fault); a connection error saying the peer is gone is not.
   *
   * @throws {TypeError} When `after` is not a number or `fn` not a function.
   * @throws {RangeError} When `after` is negative or infinite.
   * @throws {Deno.errors.Busy} When {@linkcode maxDeadlines} are pending.
   */
  deadline(after: Duration, fn: () => void): Timer;
  /**
   * Cancels a {@linkcode deadline} (nothing if it fired or was cancelled,
   * or is not one of this service's).
   *
   * @throws {TypeError} When `timer` is not a timer at all.
   */
  cancel(timer: Timer): void;
  /**
   * Ends a connection gracefully: FIN after what is queued, then reads and
   * discards until the peer's FIN (so that unread data does not turn the
   * close into a reset that could destroy what is still in flight, RFC 9112
   * §9.6), then closes; resets it after the `lingerMs` option if the peer
   * never closes.
   */
  finish(conn: TcpConn): Promise<void>;
  /** Resets `conn` (SO_LINGER 0), ignoring "already closed". */
  abort(conn: TcpConn): void;
}

/** The host's own counters, declared by every service. */
export const SERVICE_HOST_COUNTERS: readonly string[] = [
  "connections",
  "rejected",
  "datagrams",
  "loop_drops",
  "errors",
];

/** The host's own options, taken by every service (its spec's defaults). */
export const SERVICE_HOST_OPTIONS: readonly string[] = [
  "port",
  "hostname",
  "maxConnections",
  "lingerMs",
  "tcp",
  "udp",
];

/** The most connections a service may be allowed at once. */
export const MAX_SERVICE_CONNECTIONS = 65535;

/** Source ports never answered on UDP: other simple services (echo/chargen loops, CVE-1999-0103). */
const LOOP_PORTS = new Set([7, 9, 13, 17, 19, 37]);

/** The receive buffer of a service's UDP loop: the largest datagram. */
const DATAGRAM_BUFFER = 65536;

/**
 * Whether `e` is one of the errors a peer going away causes (not worth a log
 * line), or our own close of a connection under a read (`Interrupted`, as
 * Deno's): `finish()`'s deadline resets a peer that never closed.
 */
function isPeerGone(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.TimedOut ||
    e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.NotConnected ||
    e instanceof Deno.errors.NetworkUnreachable;
}

/**
 * Writes all of `data` to `conn`, waiting on back-pressure however the
 * connection splits it (as `writeAll` of Deno's standard library).
 *
 * @param conn The connection.
 * @param data The bytes.
 * @throws {TypeError} When `data` is not a `Uint8Array`.
 *
 * @example
 * ```ts
 * import { writeAll } from "./host.ts";
 * import assert from "node:assert/strict";
 * const written: number[] = [];
 * // A connection that takes at most 3 bytes a call.
 * const conn = { write: (p: Uint8Array) => Promise.resolve(written.push(Math.min(p.length, 3)) && Math.min(p.length, 3)) };
 * await writeAll(conn as never, new Uint8Array(8));
 * assert.deepEqual(written, [3, 3, 2]);
 * ```
 */
export async function writeAll(conn: TcpConn, data: Uint8Array): Promise<void> {
  checkBuffer(data, "Cannot write");
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

/** Closes `conn` (FIN, or RST with unread data), ignoring "already closed". */
function closeQuietly(conn: TcpConn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** Resets `conn`, ignoring "already closed". */
function abortQuietly(conn: TcpConn): void {
  try {
    conn.setLinger(0);
    conn.close();
  } catch { /* already closed */ }
}

/** The handlers a service gives its runner. */
export interface RunnerHandlers {
  readonly tcp?: ConnHandler | undefined;
  readonly udp?: DatagramHandler | undefined;
  readonly udpQueue?: UdpQueueOptions | undefined;
}

/**
 * Runs one service inside its plugin: reads and checks the host options
 * (before any state is made), listens once the stack is ready (or once
 * `hostname` is configured, if it is not yet), accepts and receives in async
 * loops, and closes every listener, socket, connection and deadline at
 * teardown. Made by `defineService`; the service sees it as a
 * {@linkcode ServiceHost}.
 *
 * Counters ({@linkcode SERVICE_HOST_COUNTERS}): `connections` (TCP
 * connections accepted), `rejected` (reset because `maxConnections` were
 * busy), `datagrams` (UDP datagrams received), `loop_drops` (datagrams from
 * the ports of other simple services, never answered), `errors` (unexpected
 * failures, each logged).
 */
export class ServiceRunner implements ServiceHost {
  readonly #ctx: PluginContext;
  readonly #port: number;
  #hostname: string;
  readonly #maxConnections: number;
  readonly #linger: number;
  readonly #wantTcp: boolean;
  readonly #wantUdp: boolean;
  #onConn: ConnHandler | undefined;
  #onDatagram: DatagramHandler | undefined;
  #udpQueue: UdpQueueOptions | undefined;
  readonly #conns = new Set<TcpConn>();
  readonly #timers = new Set<Timer>();
  #listener: TcpListener | null = null;
  #udp: DatagramConn | null = null;
  #tcpService: StreamService | undefined;
  #udpService: UdpService | undefined;
  #closed = false;
  /** A transport whose listen failed for good (not "address not there yet"): not retried. */
  #tcpFailed = false;
  #udpFailed = false;
  readonly #cConnections: Counter;
  readonly #cRejected: Counter;
  readonly #cDatagrams: Counter;
  readonly #cLoopDrops: Counter;
  readonly #cErrors: Counter;

  /**
   * A runner for `ctx`'s plugin, which offers `transports`.
   *
   * @throws {TypeError} When an option has the wrong type or `hostname` is not an address.
   * @throws {RangeError} When `port`, `maxConnections` or `lingerMs` is out of range.
   */
  constructor(ctx: PluginContext, transports: { readonly tcp: boolean; readonly udp: boolean }) {
    const o = ctx.options;
    const action = `Cannot set up ${ctx.name}`;
    this.#port = checkPort(o.port, action, false);
    const hostname = o.hostname ?? "";
    if (typeof hostname !== "string") {
      throw new TypeError(`${action}: hostname ${shownText(hostname)} is not a string`);
    }
    if (hostname !== "" && parseHostText(hostname) === null) {
      throw new TypeError(`${action}: "${hostname}" is not an IP address (no name resolution)`);
    }
    this.#hostname = hostname;
    this.#maxConnections = checkInteger(
      o.maxConnections,
      1,
      MAX_SERVICE_CONNECTIONS,
      action,
      "maxConnections",
    );
    this.#linger = checkMillis(o.lingerMs, action, "lingerMs");
    this.#wantTcp = transports.tcp && o.tcp !== false;
    this.#wantUdp = transports.udp && o.udp !== false;
    this.#ctx = ctx;
    this.#cConnections = ctx.counter("connections");
    this.#cRejected = ctx.counter("rejected");
    this.#cDatagrams = ctx.counter("datagrams");
    this.#cLoopDrops = ctx.counter("loop_drops");
    this.#cErrors = ctx.counter("errors");
  }

  /** Gives the runner the service's handlers (before {@linkcode ready}). */
  attach(handlers: RunnerHandlers): void {
    this.#onConn = handlers.tcp;
    this.#onDatagram = handlers.udp;
    this.#udpQueue = handlers.udpQueue;
  }

  get tcp(): StreamService | undefined {
    return this.#tcpService;
  }

  get listener(): TcpListener | null {
    return this.#listener;
  }

  get socket(): DatagramConn | null {
    return this.#udp;
  }

  get activeConnections(): number {
    return this.#conns.size;
  }

  get pendingDeadlines(): number {
    return this.#timers.size;
  }

  get maxDeadlines(): number {
    return this.#maxConnections * 4 + 64;
  }

  /** The plugin's `ready()`: resolves the transports and listens. */
  ready(): void {
    this.#tcpService = this.#ctx.optionalService<StreamService>("tcp.sockets");
    this.#udpService = this.#ctx.optionalService<UdpService>("udp.sockets");
    if (this.#hostname === "") {
      // Every address: dual-stack `::` (IPv4 peers arrive IPv4-mapped) when IPv6 is loaded.
      this.#hostname = this.#ctx.optionalService("ipv6.route") !== undefined ? "::" : "0.0.0.0";
    }
    const tcpOk = this.#wantTcp && this.#tcpService !== undefined;
    const udpOk = this.#wantUdp && this.#udpService !== undefined;
    if (!tcpOk && !udpOk) {
      this.#ctx.log.warn(
        "nothing to serve on: the transports it uses are not loaded (or disabled)",
      );
    }
    this.#listen();
  }

  /** The plugin's `onEvent()`: retries listening when an address appears. */
  onEvent(e: StackEvent): void {
    if (e.type === "address-added" && !this.#closed) this.#listen();
  }

  /** Whether `hostname` must wait for an interface address. */
  #notYet(e: unknown): boolean {
    return e instanceof Deno.errors.AddrNotAvailable &&
      !(IpAddress.parse(this.#hostname)?.isUnspecified() ?? false);
  }

  #listen(): void {
    const where = `${this.#hostname}:${this.#port}`;
    if (
      this.#wantTcp && this.#tcpService !== undefined && this.#listener === null &&
      !this.#tcpFailed && this.#onConn !== undefined
    ) {
      try {
        const listener = listenTcp(this.#tcpService, {
          hostname: this.#hostname,
          port: this.#port,
        });
        this.#listener = listener;
        this.#ctx.log.info(`listening on tcp ${where}`);
        void this.#acceptLoop(listener, this.#onConn);
      } catch (e) {
        if (!this.#notYet(e)) {
          this.#tcpFailed = true;
          this.#fail(`cannot listen on tcp ${where}`, e);
        }
      }
    }
    if (
      this.#wantUdp && this.#udpService !== undefined && this.#udp === null &&
      !this.#udpFailed && this.#onDatagram !== undefined
    ) {
      try {
        this.#udp = DatagramConn.open(this.#udpService, {
          transport: "udp",
          hostname: this.#hostname,
          port: this.#port,
          ...this.#udpQueue,
        });
        this.#ctx.log.info(`listening on udp ${where}`);
        void this.#receiveLoop(this.#udp, this.#onDatagram);
      } catch (e) {
        if (!this.#notYet(e)) {
          this.#udpFailed = true;
          this.#fail(`cannot listen on udp ${where}`, e);
        }
      }
    }
  }

  /** Counts and logs an unexpected failure. */
  #fail(what: string, e: unknown): void {
    this.#cErrors.value++;
    this.#ctx.log.error(`${what}: ${e instanceof Error ? e.message : shownText(e)}`);
  }

  async #acceptLoop(listener: TcpListener, handler: ConnHandler): Promise<void> {
    for (;;) {
      let conn: TcpConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        // Closed, or the stack closed it under the accept (abortAll at shutdown): not a failure.
        const ended = e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted;
        if (!this.#closed && !ended) this.#fail("accept", e);
        return;
      }
      if (this.#closed) {
        abortQuietly(conn);
        return;
      }
      if (this.#conns.size >= this.#maxConnections) {
        this.#cRejected.value++;
        abortQuietly(conn);
        continue;
      }
      this.#cConnections.value++;
      this.#conns.add(conn);
      void this.#serve(conn, handler);
    }
  }

  async #serve(conn: TcpConn, handler: ConnHandler): Promise<void> {
    try {
      await handler(conn);
      closeQuietly(conn); // no-op if the handler closed it
    } catch (e) {
      if (!this.#closed && !isPeerGone(e)) {
        this.#fail(`${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`, e);
      }
      abortQuietly(conn);
    } finally {
      this.#conns.delete(conn);
    }
  }

  async #receiveLoop(sock: DatagramConn, handler: DatagramHandler): Promise<void> {
    const buf = new Uint8Array(DATAGRAM_BUFFER);
    for (;;) {
      let data: Uint8Array, from: Deno.NetAddr;
      try {
        [data, from] = await sock.receive(buf);
      } catch (e) {
        if (this.#closed || e instanceof Deno.errors.BadResource) return;
        this.#fail("receive", e); // an unconnected socket gets no ICMP errors: unexpected
        continue;
      }
      this.#cDatagrams.value++;
      if (LOOP_PORTS.has(from.port)) {
        this.#cLoopDrops.value++; // never answer another simple service
        continue;
      }
      try {
        await handler(data, from, sock);
      } catch (e) {
        if (this.#closed) return;
        if (!isPeerGone(e)) this.#fail(`datagram from ${from.hostname}:${from.port}`, e);
      }
    }
  }

  deadline(after: Duration, fn: () => void): Timer {
    checkNumber(after, 0, Number.MAX_VALUE, "Cannot arm a deadline", "after");
    if (typeof fn !== "function") {
      throw new TypeError(`Cannot arm a deadline: fn ${shownText(fn)} is not a function`);
    }
    if (this.#closed) {
      throw new Deno.errors.BadResource("Cannot arm a deadline: the service is closed");
    }
    if (this.#timers.size >= this.maxDeadlines) {
      throw new Deno.errors.Busy(
        `Cannot arm a deadline: ${this.#timers.size} are pending, the most allowed`,
      );
    }
    const timers = this.#timers;
    const t: Timer = this.#ctx.timer(() => {
      timers.delete(t);
      // As a handler's throw: counted, not a plugin fault (enough of those
      // quarantine the service). A deadline closing a connection the peer
      // already reset (BadResource) is no error at all.
      try {
        fn();
      } catch (e) {
        if (!this.#closed && !isPeerGone(e)) this.#fail("deadline", e);
      }
    });
    timers.add(t);
    t.arm(this.#ctx.now() + after);
    return t;
  }

  cancel(timer: Timer): void {
    if (this.#timers.delete(timer)) timer.cancel();
    else if (typeof (timer as { cancel?: unknown } | null)?.cancel !== "function") {
      throw new TypeError(`Cannot cancel a deadline: ${shownText(timer)} is not a deadline`);
    }
  }

  async finish(conn: TcpConn): Promise<void> {
    const t = this.#closed ? null : this.deadline(this.#linger, () => abortQuietly(conn));
    try {
      await conn.closeWrite();
      const sink = new Uint8Array(16384);
      while ((await conn.read(sink)) !== null) { /* discard */ }
    } catch (e) {
      if (!isPeerGone(e)) throw e;
    } finally {
      if (t !== null) this.cancel(t);
    }
    closeQuietly(conn);
  }

  abort(conn: TcpConn): void {
    abortQuietly(conn);
  }

  /** The plugin's `teardown()`: closes everything. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    try {
      this.#listener?.close();
    } catch { /* already closed */ }
    try {
      this.#udp?.close();
    } catch { /* already closed */ }
    for (const c of this.#conns) abortQuietly(c);
    this.#conns.clear();
  }
}
