/**
 * The public shapes of stream sockets, modelled on Deno's `Deno.Conn`,
 * `Deno.Listener` and `Deno.connect`/`Deno.listen` options, so code written
 * against Deno's API runs on a virtual stack with few changes. Errors are
 * `Deno.errors.*`: `ConnectionRefused`, `ConnectionReset`, `TimedOut`,
 * `AddrInUse`, `NotConnected`, `BrokenPipe`, `BadResource` (use after
 * close), `NetworkUnreachable`.
 *
 * These are types only; the TCP plugin implements them and the `Stack`
 * hands them out through the `tcp.sockets` service.
 *
 * @module
 */

/**
 * An address and port, shaped like `Deno.NetAddr`.
 *
 * @example
 * ```ts
 * import type { NetAddr } from "./net_api.ts";
 * import assert from "node:assert/strict";
 * const a: NetAddr = { transport: "tcp", hostname: "10.0.0.1", port: 80 };
 * assert.equal(a.port, 80);
 * ```
 */
export interface NetAddr {
  /** Always `"tcp"` here. */
  readonly transport: "tcp" | "udp";
  /** Dotted-quad address. */
  readonly hostname: string;
  /** Port number. */
  readonly port: number;
}

/**
 * Options of `Stack.connect`, like `Deno.ConnectOptions`.
 *
 * @example
 * ```ts
 * import type { TcpConnectOptions } from "./net_api.ts";
 * import assert from "node:assert/strict";
 * const o: TcpConnectOptions = { hostname: "10.0.0.2", port: 80 };
 * assert.equal(o.transport, undefined);
 * ```
 */
export interface TcpConnectOptions {
  /** Only `"tcp"` (the default). */
  readonly transport?: "tcp";
  /**
   * The peer's address, IPv4 or IPv6 text, or `"localhost"` (127.0.0.1);
   * no other name resolution. IPv6 needs an IPv6 plugin (else
   * NetworkUnreachable).
   */
  readonly hostname: string;
  /** The peer's port. */
  readonly port: number;
  /** Local address to bind (default: the route's source address). */
  readonly localAddress?: string;
  /** Local port to bind (default: an ephemeral port, RFC 6056). */
  readonly localPort?: number;
  /** Congestion control for this connection: `"cubic"` or `"newreno"` (default: the plugin's). */
  readonly congestionControl?: string;
  /** Give up connecting after this many µs of stack time (default: SYN retries run out). */
  readonly timeout?: number;
}

/**
 * Options of `Stack.listen`, like `Deno.TcpListenOptions`.
 *
 * @example
 * ```ts
 * import type { TcpListenOptions } from "./net_api.ts";
 * import assert from "node:assert/strict";
 * const o: TcpListenOptions = { port: 8080, backlog: 16 };
 * assert.equal(o.hostname, undefined); // all addresses
 * ```
 */
export interface TcpListenOptions {
  /** Only `"tcp"` (the default). */
  readonly transport?: "tcp";
  /** Local address (default `0.0.0.0`: every address). */
  readonly hostname?: string;
  /** Local port; 0 picks an ephemeral one. */
  readonly port: number;
  /** Accept-queue length (default the plugin's `backlog` option, like `somaxconn`). */
  readonly backlog?: number;
}

/**
 * A TCP connection, shaped like `Deno.TcpConn`.
 *
 * @example
 * ```ts
 * import type { TcpConn } from "./net_api.ts";
 * import assert from "node:assert/strict";
 * function echo(conn: TcpConn): Promise<void> {
 *   return conn.readable.pipeTo(conn.writable);
 * }
 * assert.equal(typeof echo, "function");
 * ```
 */
export interface TcpConn extends Disposable {
  /** Our end. */
  readonly localAddr: NetAddr;
  /** The peer's end. */
  readonly remoteAddr: NetAddr;
  /**
   * Received bytes as a byte stream (BYOB readers work); ends when the peer
   * closes its side, errors on reset.
   */
  readonly readable: ReadableStream<Uint8Array<ArrayBuffer>>;
  /** Bytes to send; `close()` on it sends FIN (`closeWrite`). Back-pressure follows the send buffer. */
  readonly writable: WritableStream<Uint8Array>;
  /**
   * Reads into `p`: the number of bytes read, or `null` at end of stream
   * (the peer sent FIN). Waits while nothing is buffered.
   */
  read(p: Uint8Array): Promise<number | null>;
  /**
   * Copies as much of `p` as fits into the send buffer and resolves with that
   * count (at least 1 byte unless `p` is empty); waits while the buffer is full.
   */
  write(p: Uint8Array): Promise<number>;
  /** Sends FIN after the queued data; reading still works (half-close). */
  closeWrite(): Promise<void>;
  /**
   * Closes both directions: FIN after queued data, or RST when unread data
   * is left (RFC 2525 §2.17) or linger is 0. Later calls throw `BadResource`.
   */
  close(): void;
  /** Disables (true, the default argument) or enables Nagle's algorithm. */
  setNoDelay(noDelay?: boolean): void;
  /** Enables (true, the default argument) or disables keepalive probes. */
  setKeepAlive(keepAlive?: boolean): void;
  /** `0`: `close()` sends RST and discards queued data (SO_LINGER 0); `null` restores the default. */
  setLinger(seconds: number | null): void;
  /** No-op (a virtual stack never keeps the process alive). */
  ref(): void;
  /** No-op. */
  unref(): void;
}

/**
 * A TCP listener, shaped like `Deno.TcpListener`.
 *
 * @example
 * ```ts
 * import type { TcpListener } from "./net_api.ts";
 * import assert from "node:assert/strict";
 * async function serveOne(l: TcpListener): Promise<void> {
 *   const conn = await l.accept();
 *   conn.close();
 * }
 * assert.equal(typeof serveOne, "function");
 * ```
 */
export interface TcpListener extends AsyncIterable<TcpConn>, Disposable {
  /** The address it listens on. */
  readonly addr: NetAddr;
  /** The next established connection; rejects with `BadResource` once closed. */
  accept(): Promise<TcpConn>;
  /** Stops listening; connections not yet accepted are reset. */
  close(): void;
  /** No-op. */
  ref(): void;
  /** No-op. */
  unref(): void;
}

/**
 * One socket as `ss -tani` shows it.
 *
 * @example
 * ```ts
 * import type { TcpSocketInfo } from "./net_api.ts";
 * import assert from "node:assert/strict";
 * const s: Pick<TcpSocketInfo, "state" | "local"> = { state: "LISTEN", local: "0.0.0.0:80" };
 * assert.equal(s.state, "LISTEN");
 * ```
 */
export interface TcpSocketInfo {
  /** RFC 9293 state name: `LISTEN`, `SYN-SENT`, `ESTABLISHED`, `TIME-WAIT`, … */
  readonly state: string;
  /** `address:port` of our end. */
  readonly local: string;
  /** `address:port` of the peer (`0.0.0.0:*` for a listener). */
  readonly remote: string;
  /** Bytes received and not yet read (listener: connections waiting in the accept queue). */
  readonly recvQ: number;
  /** Bytes queued and not yet acknowledged (listener: the backlog). */
  readonly sendQ: number;
  /** Congestion control in use. */
  readonly cc?: string;
  /** Retransmission timeout, ms. */
  readonly rto?: number;
  /** Smoothed RTT, ms. */
  readonly rtt?: number;
  /** RTT variance, ms. */
  readonly rttvar?: number;
  /** Send MSS, bytes. */
  readonly mss?: number;
  /** Congestion window, segments. */
  readonly cwnd?: number;
  /** Slow-start threshold, segments (absent while infinite). */
  readonly ssthresh?: number;
  /** Window scale shifts `send,receive`. */
  readonly wscale?: string;
  /** Timestamps negotiated. */
  readonly ts?: boolean;
  /** SACK negotiated. */
  readonly sack?: boolean;
  /** Bytes acknowledged by the peer. */
  readonly bytesAcked?: number;
  /** Bytes received in order. */
  readonly bytesReceived?: number;
  /** Segments sent. */
  readonly segsOut?: number;
  /** Segments received. */
  readonly segsIn?: number;
  /** Segments retransmitted. */
  readonly retrans?: number;
  /** The peer's advertised window, bytes. */
  readonly sndWnd?: number;
  /** Our advertised window, bytes. */
  readonly rcvWnd?: number;
  /** The pending timer: `on` (retransmit), `persist`, `keepalive`, `timewait`, or `off`. */
  readonly timer?: string;
}

/**
 * `tcp.sockets`: what the TCP plugin offers the `Stack` API.
 *
 * @example
 * ```ts
 * import type { TcpSocketsService } from "./net_api.ts";
 * import assert from "node:assert/strict";
 * const methods: (keyof TcpSocketsService)[] = ["connect", "listen", "sockets"];
 * assert.equal(methods.length, 3);
 * ```
 */
export interface TcpSocketsService {
  /**
   * Opens a connection.
   *
   * @throws {TypeError} bad addresses or ports (synchronously).
   */
  connect(options: TcpConnectOptions): Promise<TcpConn>;
  /**
   * Listens.
   *
   * @throws {Deno.errors.AddrInUse} when the address and port are taken.
   */
  listen(options: TcpListenOptions): TcpListener;
  /** Every socket, listeners first, like `ss -tan`. */
  sockets(): TcpSocketInfo[];
  /**
   * Shutdown: closes every listener and aborts every connection (RST when
   * synchronized, RFC 9293 §3.10.5; users see `Interrupted`). Returns how
   * many connections were aborted. Optional: an implementation without it
   * leaves connections to `teardown`.
   */
  abortAll?(): number;
}
