/**
 * What every service plugin shares: listening on TCP (`tcp.sockets`) and UDP
 * (`udp.sockets`) once the stack is ready, an accept loop and a receive loop
 * with bounds, per-connection deadlines on the stack clock, a graceful
 * close, and tearing everything down with the stack.
 *
 * Private to plugins/services/; it imports only the public `mod.ts`, like
 * the plugins themselves.
 *
 * @module
 */
import {
  type Counter,
  DatagramConn,
  IpAddress,
  listenTcp,
  type OptionSpec,
  type PluginContext,
  type ProtocolManifest,
  type Requirement,
  type StackEvent,
  type StreamService,
  type TcpConn,
  type TcpListener,
  type Timer,
  type UdpService,
} from "../../mod.ts";

/** µs per millisecond. */
export const MS = 1000;

/** Counters every service declares (see {@linkcode ServiceHost}). */
export const HOST_COUNTERS: readonly string[] = [
  "connections",
  "rejected",
  "datagrams",
  "errors",
];

/** The `requires` of a service: both transports, each optional. */
export const TRANSPORT_REQUIRES: readonly Requirement[] = [
  { service: "tcp.sockets", optional: true },
  { service: "udp.sockets", optional: true },
  // Only to know whether "every address" includes IPv6 (`::`, dual stack).
  { service: "ipv6.route", optional: true },
];

/**
 * The options every service takes, with `port` defaulting to `port`.
 *
 * @param port The well-known port.
 * @param transports Which of `tcp`/`udp` the service offers.
 * @returns Option specs for the manifest.
 */
export function hostOptions(
  port: number,
  transports: { tcp: boolean; udp: boolean },
): Record<string, OptionSpec> {
  const o: Record<string, OptionSpec> = {
    port: { default: port, description: "port to listen on" },
    hostname: {
      default: "",
      description: "local address to listen on (empty: every address, IPv6 and IPv4 as " +
        '"::" when an IPv6 plugin is loaded, else 0.0.0.0)',
    },
    maxConnections: {
      default: 256,
      description: "most TCP connections served at once; more are reset",
    },
    lingerMs: {
      default: 10_000,
      description: "after our FIN, how long to wait for the peer's before resetting",
    },
  };
  if (transports.tcp) o.tcp = { default: true, description: "serve on TCP" };
  if (transports.udp) o.udp = { default: true, description: "serve on UDP" };
  return o;
}

/** Shorthand for a service manifest. */
export function serviceManifest(
  m: Pick<ProtocolManifest, "name" | "description"> & {
    readonly counters: readonly string[];
    readonly options: Record<string, OptionSpec>;
    /** Services wanted besides the transports (each should be optional). */
    readonly requires?: readonly Requirement[];
  },
): ProtocolManifest {
  return {
    name: m.name,
    version: "1.0.0",
    api: "^1.0.0",
    description: m.description,
    layer: "service",
    binds: [],
    requires: [...TRANSPORT_REQUIRES, ...(m.requires ?? [])],
    counters: [...HOST_COUNTERS, ...m.counters],
    options: m.options,
    events: ["address-added"],
  };
}

/**
 * Whether `e` is one of the errors a peer going away causes (not worth a log
 * line), or our own close of a connection under a read (`Interrupted`, as
 * Deno's): `finish()`'s deadline resets a peer that never closed.
 */
export function isPeerGone(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.TimedOut ||
    e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.NotConnected ||
    e instanceof Deno.errors.NetworkUnreachable;
}

/** Writes all of `p` (waiting on back-pressure). */
export async function writeAll(conn: TcpConn, p: Uint8Array): Promise<void> {
  for (let off = 0; off < p.length;) off += await conn.write(p.subarray(off));
}

/** Handles one accepted connection; resolves or rejects when done with it. */
export type ConnHandler = (conn: TcpConn) => Promise<void>;

/** Handles one datagram (borrowed until it returns or its promise settles). */
export type DatagramHandler = (
  data: Uint8Array,
  from: Deno.NetAddr,
  sock: DatagramConn,
) => void | Promise<void>;

/** A UDP socket's receive queue bounds (`DatagramConn.open`'s options of the same names). */
export interface UdpQueueOptions {
  /** Most datagrams queued. */
  readonly receiveQueueLimit: number;
  /** Most bytes queued (pooled buffers counted). */
  readonly receiveQueueBytes: number;
}

/** Source ports we never answer on UDP: other simple services (echo/chargen loops, CVE-1999-0103). */
const LOOP_PORTS = new Set([7, 9, 13, 17, 19, 37]);

/**
 * Runs one service inside a plugin: listens once the stack is ready (or once
 * `hostname` is configured, if it is not yet), accepts and receives in async
 * loops, and closes every listener, socket and connection at teardown.
 *
 * Counters (declared by {@linkcode serviceManifest}): `connections` (TCP
 * connections accepted), `rejected` (reset because `maxConnections` were
 * busy), `datagrams` (UDP datagrams received), `errors` (unexpected
 * failures, each logged).
 */
export class ServiceHost {
  readonly #ctx: PluginContext;
  readonly #port: number;
  #hostname: string;
  readonly #maxConnections: number;
  readonly #linger: number;
  readonly #wantTcp: boolean;
  readonly #wantUdp: boolean;
  readonly #onConn: ConnHandler | undefined;
  readonly #onDatagram: DatagramHandler | undefined;
  readonly #udpQueue: UdpQueueOptions | undefined;
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
  readonly #cErrors: Counter;

  /** A host for `ctx`'s plugin; `onConn`/`onDatagram` serve TCP and UDP. */
  constructor(
    ctx: PluginContext,
    handlers: {
      readonly tcp?: ConnHandler;
      readonly udp?: DatagramHandler;
      /** The UDP socket's receive queue, when the defaults (256 datagrams) are too short. */
      readonly udpQueue?: UdpQueueOptions;
    },
  ) {
    this.#ctx = ctx;
    const o = ctx.options;
    this.#port = Number(o.port);
    this.#hostname = String(o.hostname ?? "");
    this.#maxConnections = Math.max(1, Number(o.maxConnections ?? 256));
    this.#linger = Math.max(0, Number(o.lingerMs ?? 10_000)) * MS;
    this.#wantTcp = handlers.tcp !== undefined && o.tcp !== false;
    this.#wantUdp = handlers.udp !== undefined && o.udp !== false;
    this.#onConn = handlers.tcp;
    this.#onDatagram = handlers.udp;
    this.#udpQueue = handlers.udpQueue;
    if (!Number.isInteger(this.#port) || this.#port < 1 || this.#port > 65535) {
      throw new RangeError(`Cannot set up ${ctx.name}: port ${o.port} is not in 1..65535`);
    }
    this.#cConnections = ctx.counter("connections");
    this.#cRejected = ctx.counter("rejected");
    this.#cDatagrams = ctx.counter("datagrams");
    this.#cErrors = ctx.counter("errors");
  }

  /** The `tcp.sockets` service, once ready (undefined without TCP). */
  get tcp(): StreamService | undefined {
    return this.#tcpService;
  }

  /** The TCP listener, once listening. */
  get listener(): TcpListener | null {
    return this.#listener;
  }

  /** The UDP socket, once bound. */
  get socket(): DatagramConn | null {
    return this.#udp;
  }

  /** Connections being served. */
  get activeConnections(): number {
    return this.#conns.size;
  }

  /** Call from the plugin's `ready()`: resolves the transports and listens. */
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

  /** Call from the plugin's `onEvent()`: retries listening when an address appears. */
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
      this.#wantTcp && this.#tcpService !== undefined && this.#listener === null && !this.#tcpFailed
    ) {
      try {
        const listener = listenTcp(this.#tcpService, {
          hostname: this.#hostname,
          port: this.#port,
        });
        this.#listener = listener;
        this.#ctx.log.info(`listening on tcp ${where}`);
        void this.#acceptLoop(listener);
      } catch (e) {
        if (!this.#notYet(e)) {
          this.#tcpFailed = true;
          this.#fail(`cannot listen on tcp ${where}`, e);
        }
      }
    }
    if (
      this.#wantUdp && this.#udpService !== undefined && this.#udp === null && !this.#udpFailed
    ) {
      try {
        this.#udp = DatagramConn.open(this.#udpService, {
          transport: "udp",
          hostname: this.#hostname,
          port: this.#port,
          ...this.#udpQueue,
        });
        this.#ctx.log.info(`listening on udp ${where}`);
        void this.#receiveLoop(this.#udp);
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
    this.#ctx.log.error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }

  async #acceptLoop(listener: TcpListener): Promise<void> {
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
        abort(conn);
        return;
      }
      if (this.#conns.size >= this.#maxConnections) {
        this.#cRejected.value++;
        abort(conn);
        continue;
      }
      this.#cConnections.value++;
      this.#conns.add(conn);
      void this.#serve(conn);
    }
  }

  async #serve(conn: TcpConn): Promise<void> {
    try {
      await this.#onConn!(conn);
      close(conn); // no-op if the handler closed it
    } catch (e) {
      if (!this.#closed && !isPeerGone(e)) {
        this.#fail(`${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`, e);
      }
      abort(conn);
    } finally {
      this.#conns.delete(conn);
    }
  }

  async #receiveLoop(sock: DatagramConn): Promise<void> {
    const handler = this.#onDatagram!;
    const buf = new Uint8Array(65536);
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
      if (LOOP_PORTS.has(from.port)) continue; // never answer another simple service
      try {
        await handler(data, from, sock);
      } catch (e) {
        if (this.#closed) return;
        if (!isPeerGone(e)) this.#fail(`datagram from ${from.hostname}:${from.port}`, e);
      }
    }
  }

  /**
   * A one-shot deadline on the stack clock, cancelled at teardown: calls
   * `fn` `after` µs from now unless cancelled first.
   */
  deadline(after: number, fn: () => void): Timer {
    const timers = this.#timers;
    const t: Timer = this.#ctx.timer(() => {
      timers.delete(t);
      fn();
    });
    timers.add(t);
    t.arm(this.#ctx.now() + after);
    return t;
  }

  /** Cancels a {@linkcode deadline}. */
  cancel(t: Timer): void {
    t.cancel();
    this.#timers.delete(t);
  }

  /**
   * Ends a connection gracefully: FIN after what is queued, then read and
   * discard until the peer's FIN (so that unread data does not turn our close
   * into a reset that could destroy the data still in flight, RFC 9112 §9.6),
   * then close; resets it after `lingerMs` if the peer never closes.
   */
  async finish(conn: TcpConn): Promise<void> {
    const t = this.deadline(this.#linger, () => abort(conn));
    try {
      await conn.closeWrite();
      const sink = new Uint8Array(16384);
      while ((await conn.read(sink)) !== null) { /* discard */ }
    } catch (e) {
      if (!isPeerGone(e)) throw e;
    } finally {
      this.cancel(t);
    }
    close(conn);
  }

  /** Call from the plugin's `teardown()`: closes everything. */
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
    for (const c of this.#conns) abort(c);
    this.#conns.clear();
  }
}

/** Closes `conn` (FIN, or RST with unread data), ignoring "already closed". */
export function close(conn: TcpConn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** Resets `conn` (SO_LINGER 0), ignoring "already closed". */
export function abort(conn: TcpConn): void {
  try {
    conn.setLinger(0);
    conn.close();
  } catch { /* already closed */ }
}
