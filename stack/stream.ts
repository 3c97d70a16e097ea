/**
 * The stream-socket contract: what a connection-oriented transport (TCP
 * today) offers through its `<name>.sockets` service (`tcp.sockets`).
 * Synchronous and protocol-neutral, like `udp.sockets`: no promises, no
 * `Deno` classes, addresses as {@linkcode IpAddress}, failures as
 * {@linkcode StreamError} codes. Readiness is reported through one
 * {@linkcode StreamEvents} object per socket, called synchronously from the
 * receive path and the timers.
 *
 * The Deno-shaped `TcpConn`/`TcpListener` (promises, Web Streams,
 * `Deno.errors`, `NetAddr` text) are an adapter over this contract, in
 * `stack/sockets/`.
 *
 * @module
 */
import type { IpAddress } from "./wire/ip_address.ts";

/**
 * Why a stream operation failed, or why a connection ended.
 *
 * - opening: `"addr_in_use"`, `"addr_not_available"` (not one of our
 *   addresses, or no ephemeral port left to connect from),
 *   `"too_many_sockets"`, `"no_route"`, `"family_not_supported"` (no
 *   network layer for the address's IP version), `"invalid_destination"`
 *   (the unspecified address), `"invalid_option"` (an option value the
 *   transport does not know, e.g. a congestion control);
 * - a connection's end: `"connection_refused"` (RST or ICMP port
 *   unreachable while opening), `"connection_reset"` (RST once open),
 *   `"timed_out"` (retransmissions, keepalive or the connect timeout ran
 *   out), `"aborted"` (closed before it was established, e.g. its listener
 *   closed), `"interrupted"` (the stack is stopping or closed).
 *
 * @example
 * ```ts
 * import type { StreamError } from "./stream.ts";
 * import assert from "node:assert/strict";
 * const e: StreamError = "connection_reset";
 * assert.equal(e, "connection_reset");
 * ```
 */
export type StreamError =
  | "addr_in_use"
  | "addr_not_available"
  | "too_many_sockets"
  | "no_route"
  | "family_not_supported"
  | "invalid_destination"
  | "invalid_option"
  | "connection_refused"
  | "connection_reset"
  | "timed_out"
  | "aborted"
  | "interrupted";

/**
 * What a stream socket tells its user, synchronously. Calls must not throw;
 * they may call back into the socket (`read`, `write`, `close`).
 *
 * @example
 * ```ts
 * import type { StreamEvents } from "./stream.ts";
 * import assert from "node:assert/strict";
 * let readable = 0;
 * const events: StreamEvents = {
 *   onConnected() {},
 *   onReadable() { readable++; },
 *   onWritable() {},
 *   onClosed(_error) {},
 * };
 * events.onReadable();
 * assert.equal(readable, 1);
 * ```
 */
export interface StreamEvents {
  /** The connection is established (active open). */
  onConnected(): void;
  /** Bytes, the end of the stream, or an error can be read. */
  onReadable(): void;
  /** Send-buffer space was freed (or the connection failed). */
  onWritable(): void;
  /** The connection is gone: `error` when it failed, null when it ended normally. */
  onClosed(error: StreamError | null): void;
}

/**
 * One connection of a stream transport. Reads and writes copy and never
 * wait: they return what they could do now, and {@linkcode StreamEvents}
 * say when to try again.
 *
 * @example
 * ```ts
 * import type { StreamSocket } from "./stream.ts";
 * import assert from "node:assert/strict";
 * // Reads what is there now; -1 at the end of the stream.
 * function drain(s: StreamSocket, into: Uint8Array): number {
 *   if (s.readable > 0) return s.read(into);
 *   return s.eof ? -1 : 0;
 * }
 * assert.equal(typeof drain, "function");
 * ```
 */
export interface StreamSocket {
  /** Our address (the route's source, or the bound one). */
  readonly localAddress: IpAddress;
  /** Our port. */
  readonly localPort: number;
  /** The peer's address. */
  readonly remoteAddress: IpAddress;
  /** The peer's port. */
  readonly remotePort: number;
  /** The transport's own name for its state (TCP: RFC 9293's, e.g. `ESTABLISHED`). */
  readonly state: string;
  /** Bytes {@linkcode read} returns now. */
  readonly readable: number;
  /** The peer finished sending: once {@linkcode readable} is 0, nothing more comes. */
  readonly eof: boolean;
  /**
   * Past the handshake and not gone. A connection may be established before
   * `connect` returns (to our own address): check this, not only the event.
   */
  readonly connected: boolean;
  /** The connection is gone (ended, reset, timed out or aborted). */
  readonly closed: boolean;
  /** Whether {@linkcode write} may still take bytes (open, and not shut down). */
  readonly canWrite: boolean;
  /** {@linkcode shutdown} was called (or the socket was closed). */
  readonly shutDown: boolean;
  /** Bytes {@linkcode write} takes now. */
  readonly writeSpace: number;
  /** Why the connection failed, once it has; null otherwise. */
  readonly error: StreamError | null;
  /** The transport's words for {@linkcode error} ("Connect timed out (last ICMP error: …)"), or "". */
  readonly errorText: string;
  /** Who to tell about readiness (null: nobody). */
  events: StreamEvents | null;
  /** Nagle's algorithm off (true) or on. */
  noDelay: boolean;
  /** Keepalive probes on or off. */
  keepAlive: boolean;
  /** `close()` resets and discards queued data (SO_LINGER 0). */
  lingerZero: boolean;
  /** Copies up to `into.length` buffered bytes into `into`; returns the count (0: none now). */
  read(into: Uint8Array): number;
  /**
   * Consumes up to `max` buffered bytes without copying them anywhere (a
   * sink that does not look at them: a discard service, a throughput
   * test); returns the count (0: none now). Optional: a transport without
   * it is read into a scratch buffer instead.
   */
  discard?(max: number): number;
  /** Copies as much of `data` as fits into the send buffer and sends; returns the count. */
  write(data: Uint8Array): number;
  /** Ends our sending side after the queued bytes (half-close); reading goes on. */
  shutdown(): void;
  /**
   * Gives the socket up: ends both sides gracefully, or resets when unread
   * bytes are left or {@linkcode lingerZero} is set. No events follow.
   */
  close(): void;
  /** Resets the connection now; no events follow. */
  abort(): void;
  /** The congestion control in use (Linux's `TCP_CONGESTION`). Optional. */
  readonly congestionControl?: string;
  /**
   * Switches the congestion control; false (nothing changed) for a name the
   * transport does not know. Optional.
   */
  setCongestionControl?(name: string): boolean;
  /** What `ss -ti` shows of this connection (Linux's `tcp_info`). Optional. */
  info?(): TcpSocketInfo;
  /**
   * Sends `byte` as urgent data (RFC 6093; Linux `send(MSG_OOB)`); returns
   * 1, or 0 when it does not fit now. Optional: transports without urgent
   * data leave it out.
   */
  sendUrgent?(byte: number): number;
  /** Received urgent bytes stay in the stream (true, the default, SO_OOBINLINE) or not. */
  oobInline?: boolean;
  /** The urgent byte taken out of the stream (`oobInline` false), or null when none waits. */
  readUrgent?(): number | null;
}

/**
 * What a stream listener tells its user, synchronously.
 *
 * @example
 * ```ts
 * import type { StreamListenerEvents } from "./stream.ts";
 * import assert from "node:assert/strict";
 * let n = 0;
 * const events: StreamListenerEvents = { onAcceptable() { n++; }, onClosed() {} };
 * events.onAcceptable();
 * assert.equal(n, 1);
 * ```
 */
export interface StreamListenerEvents {
  /** A connection waits to be accepted. */
  onAcceptable(): void;
  /** The stack closed the listener (shutdown, teardown); never after the user's own `close()`. */
  onClosed(): void;
}

/**
 * A listening socket of a stream transport.
 *
 * @example
 * ```ts
 * import type { StreamListener, StreamSocket } from "./stream.ts";
 * import assert from "node:assert/strict";
 * function acceptAll(l: StreamListener): StreamSocket[] {
 *   const out: StreamSocket[] = [];
 *   for (let s = l.accept(); s !== null; s = l.accept()) out.push(s);
 *   return out;
 * }
 * assert.equal(typeof acceptAll, "function");
 * ```
 */
export interface StreamListener {
  /** The address it listens on (unspecified: every address of its family). */
  readonly localAddress: IpAddress;
  /** The port it listens on. */
  readonly localPort: number;
  /** Established connections waiting to be accepted. */
  readonly pending: number;
  /** Who to tell when a connection waits (null: nobody). */
  events: StreamListenerEvents | null;
  /** The oldest established connection, now the caller's; null when none waits. */
  accept(): StreamSocket | null;
  /** Stops listening; connections not yet accepted are reset. */
  close(): void;
}

/**
 * Options of {@linkcode StreamService.connect}: addresses already parsed.
 *
 * @example
 * ```ts
 * import type { StreamConnectOptions } from "./stream.ts";
 * import { IpAddress } from "./wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * const o: StreamConnectOptions = { address: IpAddress.parse("10.0.0.2")!, port: 80 };
 * assert.equal(o.port, 80);
 * ```
 */
export interface StreamConnectOptions {
  /** The peer's address. */
  readonly address: IpAddress;
  /** The peer's port, 1..65535. */
  readonly port: number;
  /** Local address to bind (default: the route's source address). */
  readonly localAddress?: IpAddress;
  /**
   * The zone of a link-local `address`: an interface index (RFC 4007 §6,
   * `fe80::1%eth0`); negative or absent: none (a link-local `localAddress`
   * names the link instead).
   */
  readonly scope?: number;
  /** Local port to bind, 1..65535 (default: an ephemeral port). */
  readonly localPort?: number;
  /** A congestion control the transport knows (default: the transport's). */
  readonly congestionControl?: string;
  /** Give up connecting after this many µs of stack time (default: the transport's retries). */
  readonly timeout?: number;
  /** Request ECN (RFC 3168) on this connection (default: the transport's configuration). */
  readonly ecn?: boolean;
  /**
   * TCP Fast Open (RFC 7413, Linux MSG_FASTOPEN): data to send in the SYN
   * when a cookie for the server is cached (else the SYN asks for one and
   * the data follows the handshake). Absent: no Fast Open.
   */
  readonly fastOpenData?: Uint8Array;
}

/**
 * Options of {@linkcode StreamService.listen}.
 *
 * @example
 * ```ts
 * import type { StreamListenOptions } from "./stream.ts";
 * import assert from "node:assert/strict";
 * const o: StreamListenOptions = { port: 8080 };
 * assert.equal(o.address, undefined); // every IPv4 address
 * ```
 */
export interface StreamListenOptions {
  /** Local address (default: every IPv4 address). */
  readonly address?: IpAddress;
  /**
   * With the IPv6 wildcard `::`: take IPv6 connections only (IPV6_V6ONLY).
   * Default false: `::` takes IPv4 connections too (dual stack, as Linux's
   * default `net.ipv6.bindv6only = 0`), which the adapter reports in the
   * IPv4-mapped form (`::ffff:10.0.0.2`).
   */
  readonly v6only?: boolean;
  /** Local port, 0..65535; 0 picks an ephemeral one. */
  readonly port: number;
  /** Accept-queue length, at least 1 (default: the transport's). */
  readonly backlog?: number;
  /** Congestion control of the accepted connections (default: the transport's). */
  readonly congestionControl?: string;
  /** TCP Fast Open queue length, 0..65535 (Linux TCP_FASTOPEN; default 0: off). */
  readonly fastOpen?: number;
}

/**
 * One socket as `ss -tani` shows it. Listeners and TIME-WAIT entries have
 * no internals (`cc` onwards; a TIME-WAIT entry has its `timer`), as Linux
 * keeps no `tcp_info` for a timewait socket.
 *
 * @example
 * ```ts
 * import type { TcpSocketInfo } from "./stream.ts";
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
  /**
   * Loss-recovery state, as Linux's `tcpi_ca_state`: `open`, `recovery`
   * (fast recovery; cwnd is PRR's pipe + sndcnt), or `loss` (after an RTO).
   */
  readonly caState?: string;
  /** Times reordering was seen by RACK (Linux `tcpi_reord_seen`). */
  readonly reordSeen?: number;
  /** D-SACK blocks received (Linux `tcpi_dsack_dups`). */
  readonly dsackDups?: number;
  /** Congestion responses undone because D-SACKs showed them spurious (RFC 3708). */
  readonly spuriousUndos?: number;
  /** Tail loss probes sent (RFC 8985 §7). */
  readonly tlpProbes?: number;
  /** Smallest RTT seen, ms (tcp_info `min_rtt`). */
  readonly minRtt?: number;
  /** Pacing rate, bytes/s (tcp_info `pacing_rate`; absent when not paced). */
  readonly pacingRate?: number;
  /** Newest delivery-rate sample, bytes/s (tcp_info `delivery_rate`). */
  readonly deliveryRate?: number;
  /** That sample was taken while application-limited (tcp_info `delivery_rate_app_limited`). */
  readonly deliveryRateAppLimited?: boolean;
  /** Retransmissions of the same data since the last progress (tcp_info `retransmits`). */
  readonly retransmits?: number;
  /** Reordering the loss detection tolerates, segments (tcp_info `reordering`). */
  readonly reordering?: number;
  /**
   * The congestion control's phase: `slow_start`, `css` (HyStart++'s
   * conservative slow start), `recovery`, `avoidance`; for BBR its state
   * (`startup`, `drain`, `probe_bw`, `probe_rtt`).
   */
  readonly ccState?: string;
  /** ECN negotiated (RFC 3168; `ss` prints `ecn`, tcp_info's TCPI_OPT_ECN); absent otherwise. */
  readonly ecn?: boolean;
  /** A segment arrived marked CE (`ss`'s `ecnseen`, TCPI_OPT_ECN_SEEN); absent otherwise. */
  readonly ecnSeen?: boolean;
  /**
   * The receiver's RTT estimate from echoed timestamps, ms (`ss`'s `rcv_rtt`,
   * tcpi_rcv_rtt), which receive-buffer auto-tuning measures by; absent before a sample.
   */
  readonly rcvRtt?: number;
  /**
   * Bytes the application read in the last measured receiver RTT (`ss`'s
   * `rcv_space`, tcpi_rcv_space); absent before auto-tuning's first read.
   */
  readonly rcvSpace?: number;
}

/**
 * `tcp.sockets`: stream sockets, synchronous. `Stack.connect`/`listen` wrap
 * it in Deno-shaped objects (`stack/sockets/`); a plugin may use it
 * directly.
 *
 * @example Open a connection without the adapter
 * ```ts
 * import { createStack, IpAddress, type StreamService } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * stack.addInterface({ driver: { linkType: 101, mtu: 1500, attach() {}, transmit(p) { p.release(); }, close() {} }, addresses: ["10.0.0.1/24"] });
 * const tcp = stack.service<StreamService>("tcp.sockets")!;
 * const sock = tcp.connect({ address: IpAddress.parse("10.0.0.2")!, port: 80 });
 * assert.ok(typeof sock !== "string");
 * assert.equal(sock.state, "SYN-SENT");
 * assert.equal(tcp.connect({ address: IpAddress.parse("192.168.5.5")!, port: 80 }), "no_route");
 * sock.abort();
 * stack.close();
 * ```
 */
export interface StreamService {
  /**
   * Opens a connection (SYN sent); `events.onConnected` follows, or
   * `onClosed` with why not, unless it is already `connected` or `closed`
   * when this returns (a peer in the same stack answers at once).
   */
  connect(options: StreamConnectOptions): StreamSocket | StreamError;
  /** Listens, or says why it cannot. */
  listen(options: StreamListenOptions): StreamListener | StreamError;
  /** Every socket, listeners first, like `ss -tan`. */
  sockets(): TcpSocketInfo[];
  /**
   * Shutdown: closes every listener and aborts every connection (RST when
   * synchronized, RFC 9293 §3.10.5; their users see `"interrupted"`).
   * Returns how many connections were aborted. Optional: an implementation
   * without it leaves connections to `teardown`.
   */
  abortAll?(): number;
}
