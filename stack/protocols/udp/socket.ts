/**
 * One UDP socket: its binding, its peer when connected, a bounded receive
 * queue of pooled copies, and an error left pending by ICMP.
 *
 * @module
 */
import type { PacketBuffer } from "../../packet.ts";
import type { MulticastFilter, UdpError, UdpSocket } from "../../services.ts";
import { IpAddress, type IpFamily, type IpKey } from "../../wire/ip_address.ts";
import type { SocketMemberships } from "./multicast.ts";

/** What a socket needs from its plugin (internal). */
export interface SocketHost {
  /** Builds and sends one datagram (`scope`: the zone of a link-local `dst`, -1: none). Hot path: positional. */
  output(
    sock: UdpSocketImpl,
    data: Uint8Array,
    dst: IpKey,
    dport: number,
    scope: number,
  ): UdpError | undefined;
  /** Fixes the peer (route, source, broadcast checks); the socket fields are set by the host. */
  connect(sock: UdpSocketImpl, dst: IpKey, dport: number, scope: number): UdpError | undefined;
  /** Frees the port (and drops the socket's multicast memberships). */
  unbind(sock: UdpSocketImpl): void;
  /** Sets the socket's RFC 3678 filter for `group` on `ifindex` (0: the route's interface). */
  setMulticastFilter(
    sock: UdpSocketImpl,
    ifindex: number,
    group: IpAddress,
    filter: MulticastFilter,
  ): UdpError | undefined;
}

/**
 * The buffer bytes held by the receive queues of all sockets of one stack
 * and their cap (internal; shared by the plugin and its sockets).
 */
export interface QueueAccount {
  /** Buffer bytes queued now. */
  bytes: number;
  /** Most buffer bytes all queues may hold together. */
  readonly limit: number;
}

/**
 * What a queued datagram costs: the real size of the pooled buffer that
 * holds it (2 KiB for most), not its payload length, as Linux charges an
 * skb's truesize to the receive buffer.
 */
export function queueCost(pkt: PacketBuffer): number {
  return pkt.buf.byteLength;
}

/** Why a datagram was not queued (see {@linkcode UdpSocketImpl.room}). */
export const Room = {
  /** It fits. */
  OK: 0,
  /** The socket's own limits (count or bytes). */
  SOCKET_FULL: 1,
  /** The stack's total across sockets. */
  STACK_FULL: 2,
} as const;

/** A value of {@linkcode Room}. */
export type Room = typeof Room[keyof typeof Room];

/** Options fixed when the socket opens (internal). */
export interface SocketLimits {
  /** Most datagrams queued. */
  readonly queueLimit: number;
  /** Most buffer bytes queued (an empty queue always takes one datagram). */
  readonly byteLimit: number;
  /** The stack's account of queued buffer bytes (default: one of its own, unbounded). */
  readonly account?: QueueAccount;
  /** The socket's IP version. */
  readonly family: IpFamily;
}

const MIN_CAPACITY = 8;

/**
 * The socket. Fields read on the receive path are plain properties; the
 * {@linkcode UdpSocket} interface shows them read-only to users.
 *
 * Addresses are kept as `IpKey`s (`localKey`, `remoteKey`; the unspecified
 * address of the socket's family when unset) and shown as `IpAddress`es,
 * made once per change rather than per datagram.
 *
 * The receive queue is a ring over three parallel arrays (packet, source
 * address key, source port) that grows by doubling up to the count limit, so a
 * socket that never receives costs no queue memory. Queued packets are
 * pooled copies made by the plugin; `recv` copies them out and releases
 * them.
 *
 * @example
 * ```ts
 * import { UdpSocketImpl } from "./socket.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const host = {
 *   output: () => undefined,
 *   connect: () => undefined,
 *   unbind() {},
 *   setMulticastFilter: () => undefined,
 * };
 * const sock = new UdpSocketImpl(host, { queueLimit: 2, byteLimit: 100, family: 4 });
 * const pool = new PacketPool();
 * assert.ok(sock.push(pool.copyOf(new Uint8Array([1, 2, 3]), 0), 0x0a000002, 53));
 * const into = new Uint8Array(8);
 * assert.equal(sock.recv(into), 3);
 * assert.equal(sock.peerPort, 53);
 * assert.equal(sock.peerAddress.toString(), "10.0.0.2");
 * assert.equal(sock.recv(into), -1);
 * sock.close();
 * assert.equal(pool.outstanding, 0);
 * ```
 */
export class UdpSocketImpl implements UdpSocket {
  readonly family: IpFamily;
  /** The unspecified address of {@linkcode family}: the value of unset keys. */
  readonly anyKey: IpKey;
  /** Bound local address (`anyKey`: any). */
  localKey: IpKey;
  localPort = 0;
  /** Connected peer (`anyKey`: not connected). */
  remoteKey: IpKey;
  remotePort = 0;
  /** SO_REUSEADDR. */
  reuseAddress = false;
  /** Whether `localAddress` is one of ours to send from (not broadcast or multicast). */
  sendFromLocal = false;
  /**
   * Bound to `::` without IPV6_V6ONLY: it takes IPv4 datagrams too, and
   * sends to IPv4 peers (dual stack).
   */
  dual = false;
  /** The zone (interface index) of a link-local binding or peer; -1: none. */
  scope = -1;
  closed = false;
  queuedBytes = 0;
  /** Buffer bytes the queue holds (what the limits count). */
  queuedMemory = 0;
  dropped = 0;
  /** Source of the datagram the last `recv` returned. */
  peerKey: IpKey;
  peerPort = 0;
  /** Interface the datagram the last `recv` returned arrived on (-1: unknown). */
  peerIfindex = -1;
  broadcast = false;
  ttl = 0;
  #segmentSize = 0;
  /** IP_MULTICAST_LOOP (Linux's default: on). */
  multicastLoop = true;
  /** IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS (default 1). */
  multicastTtl = 1;
  /** IP_MULTICAST_IF: interface index for multicast sends, 0 for the route's. */
  multicastInterface = 0;
  /** The socket's own group filters; null until it joins one (internal). */
  memberships: SocketMemberships | null = null;
  /** Its holder ids in `igmp.groups` and `mld.groups`, 0 until it joins (internal). */
  holder4 = 0;
  holder6 = 0;
  onReadable: (() => void) | null = null;
  readonly #host: SocketHost;
  readonly #queueLimit: number;
  readonly #byteLimit: number;
  readonly #account: QueueAccount;
  #pkts: (PacketBuffer | undefined)[] = [];
  #addrs: IpKey[] = [];
  #ports: number[] = [];
  #head = 0;
  #count = 0;
  #error: UdpError | undefined = undefined;
  #local: IpAddress | undefined;
  #remote: IpAddress | undefined;
  #peer: IpAddress | undefined;

  /**
   * UDP_SEGMENT: payload bytes per datagram of a send larger than it
   * (0: off). An integer in 0..65535, else a RangeError (Linux: EINVAL).
   */
  get segmentSize(): number {
    return this.#segmentSize;
  }
  set segmentSize(v: number) {
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xffff)) {
      throw new RangeError(`Cannot set segmentSize: ${v} is not an integer in 0..65535`);
    }
    this.#segmentSize = v;
  }

  /** A socket that is not bound yet. */
  constructor(host: SocketHost, limits: SocketLimits) {
    this.#host = host;
    this.#queueLimit = limits.queueLimit;
    this.#byteLimit = limits.byteLimit;
    this.#account = limits.account ?? { bytes: 0, limit: Infinity };
    this.family = limits.family;
    this.anyKey =
      this.localKey =
      this.remoteKey =
      this.peerKey =
        IpAddress.any(limits.family).key;
  }

  /** Bound local address (unspecified: any). */
  get localAddress(): IpAddress {
    const a = this.#local;
    return a !== undefined && a.key === this.localKey
      ? a
      : (this.#local = IpAddress.fromKey(this.localKey));
  }

  /** Connected peer, or null. */
  get remoteAddress(): IpAddress | null {
    if (this.remoteKey === this.anyKey) return null;
    const a = this.#remote;
    return a !== undefined && a.key === this.remoteKey
      ? a
      : (this.#remote = IpAddress.fromKey(this.remoteKey));
  }

  /** Source address of the datagram the last `recv` returned (one object per distinct peer in a row). */
  get peerAddress(): IpAddress {
    const a = this.#peer;
    return a !== undefined && a.key === this.peerKey
      ? a
      : (this.#peer = IpAddress.fromKey(this.peerKey));
  }

  /** Datagrams waiting. */
  get queued(): number {
    return this.#count;
  }

  /** The pending error, if any. */
  get pendingError(): UdpError | undefined {
    return this.#error;
  }

  /**
   * Whether a datagram costing `cost` buffer bytes fits (Linux: room is
   * checked before adding): the socket's count and byte limits (an empty
   * queue takes one whatever its size), then the stack's total.
   */
  room(cost: number): Room {
    if (this.#count >= this.#queueLimit) return Room.SOCKET_FULL;
    if (this.#count > 0 && this.queuedMemory + cost > this.#byteLimit) return Room.SOCKET_FULL;
    if (this.#account.bytes + cost > this.#account.limit) return Room.STACK_FULL;
    return Room.OK;
  }

  /**
   * Queues `pkt` (a pooled copy whose data is the payload; ownership passes
   * to the socket) from `addr`:`port` and notifies. Returns false, and
   * releases `pkt`, when the queue is full or the socket closed.
   */
  push(pkt: PacketBuffer, addr: IpKey, port: number): boolean {
    if (this.closed || this.room(queueCost(pkt)) !== Room.OK) {
      pkt.release();
      this.dropped++;
      return false;
    }
    this.append(pkt, addr, port);
    return true;
  }

  /**
   * {@linkcode push} for a caller that has just checked {@linkcode room}
   * for this packet's cost and that the socket is open (the plugin's
   * receive path, which checks before it copies): no second check.
   */
  append(pkt: PacketBuffer, addr: IpKey, port: number): void {
    if (this.#count === this.#pkts.length) this.#grow();
    const i = (this.#head + this.#count) & (this.#pkts.length - 1);
    this.#pkts[i] = pkt;
    this.#addrs[i] = addr;
    this.#ports[i] = port;
    this.#count++;
    this.queuedBytes += pkt.length;
    const cost = queueCost(pkt);
    this.queuedMemory += cost;
    this.#account.bytes += cost;
    this.onReadable?.();
  }

  #grow(): void {
    const old = this.#pkts.length;
    const cap = old === 0 ? MIN_CAPACITY : old * 2;
    const pkts = new Array<PacketBuffer | undefined>(cap);
    const addrs = new Array<IpKey>(cap).fill(this.anyKey);
    const ports = new Array<number>(cap).fill(0);
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & (old - 1);
      pkts[k] = this.#pkts[i];
      addrs[k] = this.#addrs[i]!;
      ports[k] = this.#ports[i]!;
    }
    this.#pkts = pkts;
    this.#addrs = addrs;
    this.#ports = ports;
    this.#head = 0;
  }

  /** Length of the oldest queued datagram, or -1. */
  nextLength(): number {
    return this.#count === 0 ? -1 : this.#pkts[this.#head]!.length;
  }

  /** Copies the oldest datagram into `into` (truncating); -1 when none. */
  recv(into: Uint8Array): number {
    if (this.#count === 0) return -1;
    const i = this.#head;
    const pkt = this.#pkts[i]!;
    this.#pkts[i] = undefined;
    this.#head = (i + 1) & (this.#pkts.length - 1);
    this.#count--;
    const length = pkt.length;
    this.queuedBytes -= length;
    const cost = queueCost(pkt);
    this.queuedMemory -= cost;
    this.#account.bytes -= cost;
    const n = length < into.length ? length : into.length;
    into.set(pkt.buf.subarray(pkt.start, pkt.start + n));
    this.peerKey = this.#addrs[i]!;
    this.peerPort = this.#ports[i]!;
    this.peerIfindex = pkt.ifindex;
    pkt.release();
    return n;
  }

  /** Leaves `error` pending (replacing an older one, like `sk_err`) and notifies. */
  setError(error: UdpError): void {
    if (this.closed) return;
    this.#error = error;
    this.onReadable?.();
  }

  /** Returns and clears the pending error. */
  takeError(): UdpError | undefined {
    const e = this.#error;
    this.#error = undefined;
    return e;
  }

  /** See {@linkcode UdpSocket.send}. */
  send(
    data: Uint8Array,
    address: IpAddress | null,
    port: number,
    scope = -1,
  ): UdpError | undefined {
    if (this.closed) return "closed";
    if (this.#error !== undefined) return this.takeError();
    if (address === null) {
      if (this.remoteKey === this.anyKey) return "not_connected";
      return this.#host.output(this, data, this.remoteKey, this.remotePort, this.scope);
    }
    return this.#host.output(this, data, address.key, port, scope < 0 ? this.scope : scope);
  }

  /** See {@linkcode UdpSocket.setMulticastFilter}. */
  setMulticastFilter(
    ifindex: number,
    group: IpAddress,
    filter: MulticastFilter,
  ): UdpError | undefined {
    if (this.closed) return "closed";
    return this.#host.setMulticastFilter(this, ifindex, group, filter);
  }

  /** See {@linkcode UdpSocket.multicastFilters}. */
  multicastFilters(): { ifindex: number; group: IpAddress; filter: MulticastFilter }[] {
    return (this.memberships?.list() ?? []).map((m) => ({
      ifindex: m.ifindex,
      group: IpAddress.fromKey(m.group),
      filter: m.filter,
    }));
  }

  /** See {@linkcode UdpSocket.connect}. */
  connect(address: IpAddress, port: number, scope = -1): UdpError | undefined {
    if (this.closed) return "closed";
    return this.#host.connect(this, address.key, port, scope < 0 ? this.scope : scope);
  }

  /** Frees the port, releases the queue, and notifies once. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#host.unbind(this);
    this.#account.bytes -= this.queuedMemory;
    this.queuedMemory = 0;
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & (this.#pkts.length - 1);
      this.#pkts[i]!.release();
      this.#pkts[i] = undefined;
    }
    this.#count = 0;
    this.queuedBytes = 0;
    this.#error = undefined;
    const notify = this.onReadable;
    this.onReadable = null;
    notify?.();
  }
}
