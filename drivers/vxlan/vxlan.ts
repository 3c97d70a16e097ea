/**
 * The VXLAN device: a `LinkDriver` of Ethernet frames carried in UDP
 * (RFC 7348) over the host's own UDP sockets, one device per VNI.
 *
 * - **Receive:** the header must have the I flag and this device's VNI, and
 *   the inner frame at least an Ethernet header and at most MTU + 18 bytes;
 *   anything else is dropped and counted. The inner source MAC is learned
 *   into the forwarding database ({@linkcode Fdb}) against the outer source
 *   address. The frame is copied into a buffer of the stack's pool (the
 *   socket's buffer is not ours to keep).
 * - **Transmit:** the 8-byte header is prepended in the frame's headroom (no
 *   copy). Broadcast and multicast, and unicast to a MAC the database does
 *   not know, go to every remote of the flood list (head-end replication);
 *   known unicast goes to its endpoint. The UDP source port comes from a hash
 *   of the inner flow (Ethernet addresses and type; IPv4/IPv6 addresses,
 *   protocol and ports), in 49152-65535.
 * - **MTU:** {@linkcode VXLAN_OVERHEAD} (50) bytes go to the outer headers on
 *   an IPv4 underlay, so the default inner MTU is 1450 for a 1500-byte
 *   underlay (1430 on IPv6: set `mtu`).
 *
 * **Learning an endpoint's port.** A remote sends from a hashed source port,
 * not from the port it listens on. A learned MAC is therefore sent to: the
 * flood-list remote with exactly that address and port, else the only
 * flood-list remote with that address, else that address at the default
 * destination port (what Linux does: it learns addresses only).
 *
 * @module
 */
import { LINKTYPE_ETHERNET } from "../../stack/driver.ts";
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { Duration } from "../../stack/clock.ts";
import { Fdb, type FdbStats, type VxlanEndpoint } from "./fdb.ts";
import {
  emitVxlan,
  parseVxlan,
  VXLAN_HEADER_LEN,
  VXLAN_OVERHEAD,
  VXLAN_PORT,
  VXLAN_VNI_MAX,
  VxlanPacket,
} from "./header.ts";
import { openUdpTransport, type VxlanTransport } from "./_udp.ts";

/** Default inner MTU: 1500 − {@linkcode VXLAN_OVERHEAD}. */
export const DEFAULT_VXLAN_MTU = 1500 - VXLAN_OVERHEAD;
/** Default number of UDP source ports (sockets) flows are hashed over. */
export const DEFAULT_SOURCE_PORTS = 8;
/**
 * Most bytes of packet buffers a VXLAN device keeps for sends not yet
 * completed (1 MiB: 512 frames of MTU 1500 in 2 KiB buffers); a frame past
 * it is dropped (`txQueueFull`). Each is charged its whole buffer.
 *
 * @example
 * ```ts
 * import { VXLAN_TX_PENDING_BYTES } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(VXLAN_TX_PENDING_BYTES, 1 << 20);
 * ```
 */
export const VXLAN_TX_PENDING_BYTES = 1 << 20;

/**
 * Options of {@linkcode openVxlan}.
 *
 * @example
 * ```ts
 * import type { VxlanOptions } from "./vxlan.ts";
 * import assert from "node:assert/strict";
 * const options: VxlanOptions = {
 *   vni: 42,
 *   local: "192.0.2.1",
 *   remotes: ["192.0.2.2", "192.0.2.3:4790"],
 * };
 * assert.equal(options.vni, 42);
 * ```
 */
export interface VxlanOptions {
  /** The VXLAN Network Identifier, 0..16777215. */
  readonly vni: number;
  /**
   * Local address to bind, `ADDR[:PORT]` or an endpoint (port default 4789,
   * 0 for any); `[v6]:port` for IPv6.
   */
  readonly local: string | VxlanEndpoint;
  /** The flood list: remote VTEPs, `ADDR[:PORT]` or endpoints (port default 4789). */
  readonly remotes?: readonly (string | VxlanEndpoint)[];
  /** Static forwarding entries: this MAC is behind that endpoint. */
  readonly staticEntries?: readonly { mac: Uint8Array; remote: string | VxlanEndpoint }[];
  /** The stack's MAC (default random, locally administered). */
  readonly mac?: Uint8Array;
  /** Inner MTU, 68..65485 (default 1450). */
  readonly mtu?: number;
  /** Bound on learned forwarding entries (default 4096). */
  readonly fdbSize?: number;
  /** µs a learned entry lives without traffic (default 300 s). */
  readonly fdbAging?: Duration;
  /** UDP source ports (sockets) to hash flows over, 1..64 (default 8). */
  readonly sourcePorts?: number;
  /** Called after each received frame went through the stack (a runner's `kick`). */
  readonly onBatch?: () => void;
  /** @internal The underlay, for tests (default: host UDP sockets). */
  readonly transport?: VxlanTransport;
}

/** Counters of a {@linkcode VxlanDevice}; every drop has one. */
export interface VxlanStats {
  /** Frames handed to the stack. */
  rxPackets: number;
  /** Their bytes (inner frames). */
  rxBytes: number;
  /** Datagrams shorter than the VXLAN header. */
  rxTruncated: number;
  /** Headers without the I flag. */
  rxNoIFlag: number;
  /** Inner frames shorter than an Ethernet header. */
  rxInnerTruncated: number;
  /** Headers with another VNI. */
  rxWrongVni: number;
  /** Inner frames longer than MTU + 18. */
  rxTooBig: number;
  /** Frames with this device's own MAC as source (a loop). */
  rxLooped: number;
  /** Frames before `attach` or after `close`. */
  rxNotAttached: number;
  /** Frames sent (once each, however many copies). */
  txPackets: number;
  /** Datagrams sent (copies included). */
  txDatagrams: number;
  /** Bytes of datagrams sent. */
  txBytes: number;
  /** Frames sent to a known endpoint. */
  txUnicast: number;
  /** Broadcast and multicast frames flooded. */
  txFloodGroup: number;
  /** Unicast frames to unknown MACs flooded. */
  txFloodUnknown: number;
  /** Frames dropped: nowhere to send (empty flood list). */
  txNoRemote: number;
  /** Frames dropped: shorter than an Ethernet header or longer than MTU + 18. */
  txBadLength: number;
  /** Frames dropped: no headroom for the VXLAN header. */
  txNoHeadroom: number;
  /**
   * Frames dropped: the frames still being sent (their sockets' sends not
   * completed) already kept {@linkcode VXLAN_TX_PENDING_BYTES} of buffers.
   */
  txQueueFull: number;
  /** Datagrams the socket failed to send, or frames given after close. */
  txErrors: number;
}

/**
 * Parses `ADDR[:PORT]` (`[ADDR6]:PORT` or a bare IPv6 address for IPv6);
 * the port defaults to 4789; port 0 (any) only with `allowPortZero`.
 *
 * @throws {TypeError} When it is not an address with an optional port 1..65535.
 *
 * @example
 * ```ts
 * import { parseEndpoint } from "./vxlan.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseEndpoint("10.1.1.1"), { hostname: "10.1.1.1", port: 4789 });
 * assert.deepEqual(parseEndpoint("[fd00::1]:8472"), { hostname: "fd00::1", port: 8472 });
 * ```
 */
export function parseEndpoint(
  s: string | VxlanEndpoint,
  options: { defaultPort?: number; allowPortZero?: boolean } = {},
): VxlanEndpoint {
  const defaultPort = options.defaultPort ?? VXLAN_PORT;
  let host: string;
  let port = defaultPort;
  if (typeof s !== "string") {
    if (s === null || typeof s !== "object") throw new TypeError("Invalid VXLAN endpoint");
    host = s.hostname;
    port = s.port;
  } else {
    const m6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(s);
    const m4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(s);
    if (m6 !== null) [host, port] = [m6[1]!, m6[2] !== undefined ? Number(m6[2]) : port];
    else if (m4 !== null) [host, port] = [m4[1]!, m4[2] !== undefined ? Number(m4[2]) : port];
    else if (/^[0-9A-Fa-f:]+$/.test(s) && s.includes(":")) host = s;
    else throw new TypeError(`Invalid VXLAN endpoint "${s}": expected ADDR[:PORT] or [ADDR6]:PORT`);
  }
  const v4ok = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) &&
    host.split(".").every((o) => Number(o) <= 255);
  const v6ok = host.includes(":") && /^[0-9A-Fa-f:.]+$/.test(host);
  if (!v4ok && !v6ok) throw new TypeError(`Invalid VXLAN endpoint address "${host}"`);
  const min = options.allowPortZero ? 0 : 1;
  if (!(Number.isInteger(port) && port >= min && port <= 65535)) {
    throw new TypeError(`Invalid VXLAN endpoint port ${port}: not in ${min}..65535`);
  }
  return { hostname: host, port };
}

function checkMac(mac: unknown, what: string): void {
  if (!(mac instanceof Uint8Array) || mac.length !== 6 || (mac[0]! & 1) !== 0) {
    throw new TypeError(`Cannot open VXLAN device: ${what} must be 6 bytes and unicast`);
  }
}

interface Checked {
  local: VxlanEndpoint;
  remotes: VxlanEndpoint[];
  statics: { mac: Uint8Array; remote: VxlanEndpoint }[];
  mtu: number;
  sourcePorts: number;
}

function checkOptions(o: VxlanOptions): Checked {
  if (o === null || typeof o !== "object") throw new TypeError("VXLAN options must be an object");
  if (!(Number.isInteger(o.vni) && o.vni >= 0 && o.vni <= VXLAN_VNI_MAX)) {
    throw new RangeError(`Cannot open VXLAN device: VNI ${o.vni} is not in 0..${VXLAN_VNI_MAX}`);
  }
  const local = parseEndpoint(o.local, { allowPortZero: true });
  const remotes = (o.remotes ?? []).map((r) => parseEndpoint(r));
  const v6 = local.hostname.includes(":");
  for (const r of remotes) {
    if (r.hostname.includes(":") !== v6) {
      throw new TypeError(
        `Cannot open VXLAN device: remote ${r.hostname} is not of the local address's family`,
      );
    }
  }
  const statics = (o.staticEntries ?? []).map((e) => {
    checkMac(e?.mac, "a static entry's MAC");
    return { mac: e.mac.slice(), remote: parseEndpoint(e.remote) };
  });
  if (o.mac !== undefined) checkMac(o.mac, "the MAC");
  const mtu = o.mtu ?? DEFAULT_VXLAN_MTU;
  if (!(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535 - VXLAN_OVERHEAD)) {
    throw new RangeError(`Cannot open VXLAN device: MTU ${mtu} is not in 68..65485`);
  }
  const sourcePorts = o.sourcePorts ?? DEFAULT_SOURCE_PORTS;
  if (!(Number.isInteger(sourcePorts) && sourcePorts >= 1 && sourcePorts <= 64)) {
    throw new RangeError(`Cannot open VXLAN device: sourcePorts ${sourcePorts} is not in 1..64`);
  }
  // The FDB checks its own bounds; build one now so a bad value throws before any socket.
  new Fdb({
    ...(o.fdbSize !== undefined ? { maxEntries: o.fdbSize } : {}),
    ...(o.fdbAging !== undefined ? { agingTime: o.fdbAging } : {}),
  });
  return { local, remotes, statics, mtu, sourcePorts };
}

/**
 * Opens a VXLAN device: binds the local UDP port (default 4789) and the
 * source-port sockets. Needs `--allow-net`; no root (unless the port is
 * below 1024).
 *
 * @param options VNI, local endpoint, flood list, static entries.
 * @returns The device.
 * @throws {TypeError | RangeError} For bad options, before any socket is opened.
 * @throws {Error} When the local address and port cannot be bound.
 *
 * @example
 * ```ts
 * import { openVxlan } from "./vxlan.ts";
 * import assert from "node:assert/strict";
 * const dev = await openVxlan({ vni: 42, local: "127.0.0.1:0", remotes: ["127.0.0.1:4799"] });
 * assert.equal(dev.mtu, 1450);
 * dev.close();
 * await dev.closed;
 * ```
 */
export async function openVxlan(options: VxlanOptions): Promise<VxlanDevice> {
  const c = checkOptions(options);
  const transport = options.transport ?? await openUdpTransport(c.local, c.sourcePorts);
  return new VxlanDevice(transport, c, options);
}

function randomMac(): Uint8Array {
  const mac = crypto.getRandomValues(new Uint8Array(6));
  mac[0] = (mac[0]! & 0xfc) | 0x02;
  return mac;
}

/**
 * A flow hash of the inner frame `f` starting at `o` (FNV-1a over the
 * Ethernet addresses and type, and for IPv4 and IPv6 the addresses, the
 * protocol and, unfragmented, the first 4 bytes of the transport header).
 * Hot path.
 */
export function flowHash(f: Uint8Array, o: number): number {
  let h = fnv(0x811c9dc5, f, o, o + 14);
  const type = (f[o + 12]! << 8) | f[o + 13]!;
  const ip = o + 14;
  if (type === 0x0800 && f.length >= ip + 20) {
    h = fnv(h, f, ip + 9, ip + 10);
    h = fnv(h, f, ip + 12, ip + 20);
    const fragment = ((f[ip + 6]! & 0x3f) << 8) | f[ip + 7]!;
    if (fragment === 0) {
      const l4 = ip + (f[ip]! & 0x0f) * 4;
      h = fnv(h, f, l4, l4 + 4);
    }
  } else if (type === 0x86dd && f.length >= ip + 40) {
    h = fnv(h, f, ip + 6, ip + 7);
    h = fnv(h, f, ip + 8, ip + 44);
  }
  return h >>> 0;
}

/** FNV-1a of `f[from..to)` (clipped to `f`), continuing from `h`. */
function fnv(h: number, f: Uint8Array, from: number, to: number): number {
  const end = Math.min(to, f.length);
  for (let i = from; i < end; i++) h = Math.imul(h ^ f[i]!, 0x01000193);
  return h;
}

/**
 * A VXLAN device: a {@linkcode LinkDriver} of Ethernet frames
 * (LINKTYPE_ETHERNET) on one VNI. See the module doc for what it does with
 * each frame. `close()` closes its sockets; {@linkcode closed} resolves then.
 */
export class VxlanDevice implements LinkDriver {
  /** LINKTYPE_ETHERNET. */
  readonly linkType: number = LINKTYPE_ETHERNET;
  /** Inner MTU (IP packet). */
  readonly mtu: number;
  /** The stack's MAC. */
  readonly mac: Uint8Array;
  /** The VNI. */
  readonly vni: number;
  /** The local endpoint. */
  readonly local: VxlanEndpoint;
  readonly #remotes: VxlanEndpoint[];
  /** The forwarding database. */
  readonly fdb: Fdb;
  /** Counters. */
  readonly stats: VxlanStats = {
    rxPackets: 0,
    rxBytes: 0,
    rxTruncated: 0,
    rxNoIFlag: 0,
    rxInnerTruncated: 0,
    rxWrongVni: 0,
    rxTooBig: 0,
    rxLooped: 0,
    rxNotAttached: 0,
    txPackets: 0,
    txDatagrams: 0,
    txBytes: 0,
    txUnicast: 0,
    txFloodGroup: 0,
    txFloodUnknown: 0,
    txNoRemote: 0,
    txBadLength: 0,
    txNoHeadroom: 0,
    txQueueFull: 0,
    txErrors: 0,
  };
  /** Called after each received frame went through the stack. */
  onBatch: (() => void) | null;
  /** Resolves when the sockets are closed. */
  readonly closed: Promise<void>;
  readonly #transport: VxlanTransport;
  readonly #frameMax: number;
  readonly #macKeyHi: number;
  readonly #macKeyLo: number;
  #port: DriverPort | null = null;
  #closing = false;
  /** Buffer bytes of the frames whose sends have not all completed. */
  #pendingBytes = 0;
  readonly #resolveClosed: () => void;

  /** @internal Use {@linkcode openVxlan}. */
  constructor(transport: VxlanTransport, c: Checked, options: VxlanOptions) {
    this.#transport = transport;
    this.vni = options.vni;
    this.mtu = c.mtu;
    this.mac = options.mac?.slice() ?? randomMac();
    this.local = transport.local;
    this.#remotes = c.remotes;
    this.fdb = new Fdb({
      ...(options.fdbSize !== undefined ? { maxEntries: options.fdbSize } : {}),
      ...(options.fdbAging !== undefined ? { agingTime: options.fdbAging } : {}),
    });
    for (const s of c.statics) this.fdb.addStatic(s.mac, s.remote);
    this.#frameMax = c.mtu + 18;
    this.#macKeyHi = (this.mac[0]! << 8) | this.mac[1]!;
    this.#macKeyLo = ((this.mac[2]! << 24) | (this.mac[3]! << 16) | (this.mac[4]! << 8) |
      this.mac[5]!) >>> 0;
    this.onBatch = options.onBatch ?? null;
    let resolve!: () => void;
    this.closed = new Promise<void>((r) => resolve = r);
    this.#resolveClosed = resolve;
    transport.onDatagram = (data, from) => this.#receive(data, from);
  }

  /** The flood list. */
  get remotes(): readonly VxlanEndpoint[] {
    return this.#remotes;
  }

  /**
   * Adds a remote VTEP to the flood list (`ADDR[:PORT]` or an endpoint; a
   * duplicate is ignored), like `bridge fdb append 00:00:00:00:00:00 dst ...`.
   *
   * @throws {TypeError} When it is not an endpoint of the local address's family.
   */
  addRemote(remote: string | VxlanEndpoint): void {
    const ep = parseEndpoint(remote);
    if (ep.hostname.includes(":") !== this.local.hostname.includes(":")) {
      throw new TypeError(`Cannot add remote ${ep.hostname}: not of the local address's family`);
    }
    if (this.#remotes.some((r) => r.hostname === ep.hostname && r.port === ep.port)) return;
    this.#remotes.push(ep);
  }

  /** Forwarding database counters. */
  get fdbStats(): Readonly<FdbStats> {
    return this.fdb.stats;
  }

  /** The UDP source ports flows are hashed over. */
  get sourcePorts(): readonly number[] {
    return this.#transport.sourcePorts;
  }

  /** Starts delivering received frames to `port`. Attaching twice throws. */
  attach(port: DriverPort): void {
    if (this.#port !== null) throw new Error("Cannot attach VXLAN device: already attached");
    if (this.#closing) throw new Error("Cannot attach VXLAN device: closed");
    this.#port = port;
  }

  /** Where to send frames for a MAC learned from `from`. */
  #endpointFor(from: VxlanEndpoint): VxlanEndpoint {
    let sameHost: VxlanEndpoint | undefined;
    let hosts = 0;
    for (const r of this.#remotes) {
      if (r.hostname !== from.hostname) continue;
      if (r.port === from.port) return r;
      sameHost = r;
      hosts++;
    }
    return hosts === 1 ? sameHost! : { hostname: from.hostname, port: VXLAN_PORT };
  }

  #receive(data: Uint8Array, from: VxlanEndpoint): void {
    const s = this.stats;
    const port = this.#port;
    if (port === null || this.#closing) {
      s.rxNotAttached++;
      return;
    }
    const p = VxlanPacket.check(data);
    if (typeof p === "string") {
      s.rxTruncated++;
      return;
    }
    const r = parseVxlan(p);
    if (r === "vxlan.no_i_flag") {
      s.rxNoIFlag++;
      return;
    }
    if (r === "vxlan.inner_truncated") {
      s.rxInnerTruncated++;
      return;
    }
    if (r.vni !== this.vni) {
      s.rxWrongVni++;
      return;
    }
    const inner = p.payload;
    if (inner.length > this.#frameMax) {
      s.rxTooBig++;
      return;
    }
    const dv = new DataView(inner.buffer, inner.byteOffset, 12);
    if (dv.getUint16(6) === this.#macKeyHi && dv.getUint32(8) === this.#macKeyLo) {
      s.rxLooped++;
      return;
    }
    this.fdb.learn(inner, 6, this.#endpointFor(from), port.now());
    const pkt = port.pool.alloc(inner.length);
    pkt.data.set(inner); // copy: the socket's buffer is not ours
    s.rxPackets++;
    s.rxBytes += inner.length;
    port.beginBatch?.();
    try {
      port.receive(pkt);
    } finally {
      port.endBatch?.();
    }
    this.onBatch?.();
  }

  /** Encapsulates and sends the frame; releases `pkt` once every copy is out. Never throws. */
  transmit(pkt: PacketBuffer): void {
    const s = this.stats;
    const len = pkt.end - pkt.start;
    if (this.#closing) {
      s.txErrors++;
      pkt.release();
      return;
    }
    if (len < 14 || len > this.#frameMax) {
      s.txBadLength++;
      pkt.release();
      return;
    }
    if (pkt.start < VXLAN_HEADER_LEN) {
      s.txNoHeadroom++;
      pkt.release();
      return;
    }
    const at = pkt.prepend(VXLAN_HEADER_LEN);
    const datagram = pkt.buf.subarray(at, pkt.end);
    emitVxlan({ vni: this.vni }, VxlanPacket.unchecked(datagram));
    const o = VXLAN_HEADER_LEN;
    let targets: readonly VxlanEndpoint[];
    if ((datagram[o]! & 1) !== 0) {
      targets = this.#remotes;
      s.txFloodGroup++;
    } else {
      const ep = this.#port === null ? undefined : this.fdb.lookup(datagram, o, this.#port.now());
      if (ep !== undefined) {
        targets = [ep];
        s.txUnicast++;
      } else {
        targets = this.#remotes;
        s.txFloodUnknown++;
      }
    }
    if (targets.length === 0) {
      s.txNoRemote++;
      pkt.release();
      return;
    }
    // The buffer is kept until every send of it completes: bounded in its
    // real bytes, as a socket's send buffer.
    const size = pkt.buf.length;
    if (this.#pendingBytes + size > VXLAN_TX_PENDING_BYTES) {
      s.txQueueFull++;
      pkt.release();
      return;
    }
    this.#pendingBytes += size;
    s.txPackets++;
    const flow = flowHash(datagram, o);
    let pending = targets.length;
    const done = (failed: boolean): void => {
      if (failed) s.txErrors++;
      else {
        s.txDatagrams++;
        s.txBytes += datagram.length;
      }
      if (--pending === 0) {
        this.#pendingBytes -= size;
        pkt.release();
      }
    };
    for (const t of targets) this.#transport.send(datagram, t, flow, done);
  }

  /** Closes the sockets; {@linkcode closed} resolves once they are. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#transport.onDatagram = null;
    void this.#transport.close().then(this.#resolveClosed);
  }
}
