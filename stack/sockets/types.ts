/**
 * The public shapes of stream sockets, modelled on Deno's `Deno.Conn`,
 * `Deno.Listener` and `Deno.connect`/`Deno.listen` options, so code written
 * against Deno's API runs on a virtual stack with few changes. Errors are
 * `Deno.errors.*` (see `errors.ts`): `ConnectionRefused`, `ConnectionReset`,
 * `TimedOut`, `AddrInUse`, `NotConnected`, `BrokenPipe`, `BadResource` (use
 * after close), `NetworkUnreachable`, `Interrupted` (a call waiting when
 * the conn was closed, by its user or by the stack, as Deno's: "Cannot
 * read: the socket is closed", "Cannot read: the stack is closed").
 *
 * Types only; `tcp.ts` implements them over the `tcp.sockets` contract
 * (`stack/stream.ts`), and `Stack.connect`/`listen` hand them out.
 *
 * @module
 */
import type { NetAddr } from "./address.ts";
import type { TcpSocketInfo } from "../stream.ts";
export type { NetAddr } from "./address.ts";

/**
 * Options of `Stack.connect`, like `Deno.ConnectOptions`.
 *
 * @example
 * ```ts
 * import type { TcpConnectOptions } from "./types.ts";
 * import assert from "node:assert/strict";
 * const o: TcpConnectOptions = { hostname: "10.0.0.2", port: 80 };
 * assert.equal(o.transport, undefined);
 * ```
 */
export interface TcpConnectOptions {
  /** Only `"tcp"` (the default). */
  readonly transport?: "tcp";
  /**
   * The peer's address, IPv4 or IPv6 text (also `[…]`, IPv4-mapped
   * `::ffff:10.0.0.2`, or with a zone: `fe80::1%eth0`, `fe80::1%2`), or
   * `"localhost"` (127.0.0.1); no other name resolution. IPv6 needs an
   * IPv6 plugin (else NetworkUnreachable).
   */
  readonly hostname: string;
  /** The peer's port. */
  readonly port: number;
  /** Local address to bind (default: the route's source address). */
  readonly localAddress?: string;
  /** Local port to bind (default: an ephemeral port, RFC 6056). */
  readonly localPort?: number;
  /** Congestion control for this connection: `"cubic"`, `"newreno"`, `"bbr"`, or a registered one (default: the plugin's). */
  readonly congestionControl?: string;
  /**
   * Give up connecting after this many milliseconds of the stack's clock
   * (fractions allowed; default: when the SYN retries run out), like
   * `AbortSignal.timeout(ms)` given to a connect.
   */
  readonly timeout?: number;
  /**
   * Request ECN (RFC 3168) on this connection (default: the tcp plugin's
   * `ecn` option, 1 requesting it; like Linux's per-route `ecn` feature).
   */
  readonly ecn?: boolean;
  /**
   * TCP Fast Open (RFC 7413; like Linux's sendto() with MSG_FASTOPEN): bytes
   * sent in the SYN when a cookie from an earlier connection to this server
   * is cached, else the SYN asks for a cookie and the bytes follow the
   * handshake. Absent: no Fast Open (the default).
   */
  readonly fastOpenData?: Uint8Array;
}

/**
 * Options of `Stack.listen`, like `Deno.TcpListenOptions`.
 *
 * @example
 * ```ts
 * import type { TcpListenOptions } from "./types.ts";
 * import assert from "node:assert/strict";
 * const o: TcpListenOptions = { port: 8080, backlog: 16 };
 * assert.equal(o.hostname, undefined); // all addresses
 * ```
 */
export interface TcpListenOptions {
  /** Only `"tcp"` (the default). */
  readonly transport?: "tcp";
  /**
   * Local address (default `0.0.0.0`: every IPv4 address). `"::"` is every
   * IPv6 address and, unless `v6only`, every IPv4 one too (dual stack).
   */
  readonly hostname?: string;
  /** Local port; 0 picks an ephemeral one. */
  readonly port: number;
  /**
   * With `hostname: "::"`: IPv6 only (Linux's IPV6_V6ONLY; Deno 2.9.6 has
   * no such option and is always dual-stack). Default false.
   */
  readonly v6only?: boolean;
  /** Accept-queue length (default the plugin's `backlog` option, like `somaxconn`). */
  readonly backlog?: number;
  /** Congestion control of the accepted connections: `"cubic"`, `"newreno"`, `"bbr"`, or a registered one (default: the plugin's). */
  readonly congestionControl?: string;
  /**
   * TCP Fast Open (RFC 7413; Linux's TCP_FASTOPEN socket option): at most
   * this many half-open connections holding data from their SYN; 0 or
   * absent: off (cookies are neither given nor taken).
   */
  readonly fastOpen?: number;
}

/**
 * A TCP connection, shaped like `Deno.TcpConn`.
 *
 * @example
 * ```ts
 * import type { TcpConn } from "./types.ts";
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
   * Consumes up to `max` received bytes (default: all there are) without
   * copying them anywhere: the number consumed, or `null` at end of
   * stream. Waits while nothing is buffered, and queues behind pending
   * reads, as {@linkcode read}. For a sink that does not look at the bytes
   * (a discard service, a throughput test): the receive buffer's packets
   * go back to their pool as they are, where `read` would copy each byte
   * once more (Go's `bufio.Reader.Discard`, Java's `InputStream.skip`).
   *
   * @example
   * ```ts
   * import type { TcpConn } from "./types.ts";
   * import assert from "node:assert/strict";
   * async function drain(conn: TcpConn): Promise<number> {
   *   let total = 0;
   *   for (let n = await conn.discard(); n !== null; n = await conn.discard()) total += n;
   *   return total;
   * }
   * assert.equal(typeof drain, "function");
   * ```
   *
   * Rejects (as `read` does for a bad buffer) with a `TypeError` if `max`
   * is not an integer, a `RangeError` if it is negative or above
   * `Number.MAX_SAFE_INTEGER`.
   */
  discard(max?: number): Promise<number | null>;
  /**
   * Copies as much of `p` as fits into the send buffer and resolves with that
   * count (at least 1 byte unless `p` is empty); waits while the buffer is full.
   */
  write(p: Uint8Array): Promise<number>;
  /** Sends FIN after the queued data; reading still works (half-close). */
  closeWrite(): Promise<void>;
  /**
   * Closes both directions: FIN after queued data, or RST when unread data
   * is left (RFC 2525 §2.17) or linger is 0. Reads and writes waiting
   * reject with `Interrupted` (as Deno's), later calls with `BadResource`.
   */
  close(): void;
  /** Disables (true, the default argument) or enables Nagle's algorithm. */
  setNoDelay(noDelay?: boolean): void;
  /** Enables (true, the default argument) or disables keepalive probes. */
  setKeepAlive(keepAlive?: boolean): void;
  /** `0`: `close()` sends RST and discards queued data (SO_LINGER 0); `null` restores the default. */
  setLinger(seconds: number | null): void;
  /**
   * Switches this connection's congestion control, like Linux's
   * `setsockopt(TCP_CONGESTION)`: `"cubic"`, `"newreno"` (`"reno"`), `"bbr"`,
   * or one a plugin registered. The window carries over.
   * @throws {TypeError} A name that is not a string, or not known.
   */
  setCongestionControl(name: string): void;
  /** Linux's `tcp_info` of this connection (`ss -ti`): state, RTT, RTO, cwnd, pacing and delivery rates, … */
  info(): TcpSocketInfo;
  /**
   * Sends one byte as urgent data (RFC 6093; Linux `send(MSG_OOB)`): the
   * segments carry URG and the urgent pointer until it is acknowledged.
   * Resolves with 1 once the byte is queued, 0 when the send buffer is
   * full or writes are waiting (try again after they complete).
   *
   * @throws {TypeError} If `byte` is not an integer.
   * @throws {RangeError} If it is outside 0..255.
   */
  sendUrgent(byte: number): Promise<number>;
  /**
   * Where received urgent bytes go: left in the stream (true, the default;
   * SO_OOBINLINE), or taken out of it for {@linkcode readUrgent} (false).
   */
  setOobInline(inline?: boolean): void;
  /** With `setOobInline(false)`: the urgent byte received (each once), or null if none waits. */
  readUrgent(): number | null;
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
 * import type { TcpListener } from "./types.ts";
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
  /**
   * The next established connection; rejects with `BadResource` once closed
   * (`Interrupted` when the stack closes under it: a `for await` just ends).
   */
  accept(): Promise<TcpConn>;
  /** Stops listening; connections not yet accepted are reset. */
  close(): void;
  /** No-op. */
  ref(): void;
  /** No-op. */
  unref(): void;
}
