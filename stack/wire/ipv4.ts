/**
 * IPv4 headers (RFC 791), with the checksum of RFC 1071 and a bounded reader
 * for options (which are skipped, not interpreted, by the view and the Repr).
 *
 * View contract: after {@linkcode Ipv4Packet.check} returns a view, no
 * accessor reads out of bounds. Writing the IHL or the total length
 * invalidates that guarantee. The view never owns or copies bytes: `options`
 * and `payload` are subarrays of the packet, and `payload` ends at the total
 * length, so Ethernet padding is excluded.
 *
 * Not supported here: interpreting options (source routes, record route,
 * timestamps: the IPv4 plugin decides what to do with them), reassembly (a
 * plugin concern; the view exposes the fragment fields).
 *
 * @module
 */
import { formatIpv4Address } from "./address.ts";
import { finishChecksum } from "./checksum.ts";
import { readU16 } from "./bytes.ts";
import { IPV4_OPT_EOL, IPV4_OPT_NOP, IPV4_OPT_RA } from "./ipv4_options.ts";
import {
  IPV4_FLAG_DF,
  IPV4_FLAG_MF,
  IPV4_OFFSET_MASK,
  ipv4ChecksumField,
  ipv4Dst,
  ipv4FragmentField,
  ipv4Identification,
  ipv4Protocol,
  ipv4Src,
  ipv4TotalLength,
  ipv4Ttl,
  ipv4Version,
  setIpv4ChecksumField,
  setIpv4Dst,
  setIpv4FragmentField,
  setIpv4Identification,
  setIpv4Protocol,
  setIpv4Src,
  setIpv4Tos,
  setIpv4TotalLength,
  setIpv4Ttl,
  setIpv4VersionAndHeaderLen,
} from "./ipv4_fields.ts";

/** Length of an IPv4 header without options. */
export const IPV4_HEADER_LEN = 20;
/** Largest IPv4 header: IHL 15. */
export const IPV4_MAX_HEADER_LEN = 60;
export {
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_ICMPV6,
  IP_PROTOCOL_IGMP,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
} from "./numbers.ts";
/** Option type: end of option list (RFC 791); the same number as `IPV4_OPT_EOL`. */
export const IPV4_OPTION_END: number = IPV4_OPT_EOL;
/** Option type: no operation (RFC 791); the same number as `IPV4_OPT_NOP`. */
export const IPV4_OPTION_NOP: number = IPV4_OPT_NOP;
/** Option type: Router Alert (RFC 2113), carried by IGMP; `IPV4_OPT_RA`. */
export const IPV4_OPTION_ROUTER_ALERT: number = IPV4_OPT_RA;

/** Why {@linkcode Ipv4Packet.check} refused a packet. */
export type Ipv4DropReason =
  | "truncated"
  | "bad_version"
  | "bad_header_length"
  | "bad_total_length";
/** Why {@linkcode parseIpv4} refused a checked packet. */
export type Ipv4ParseDropReason = "bad_checksum";

const FLAG_DF = IPV4_FLAG_DF;
const FLAG_MF = IPV4_FLAG_MF;
const OFFSET_MASK = IPV4_OFFSET_MASK;

/** One's-complement sum of the first `length` bytes as 16-bit words, not complemented. */
function headerSum(b: Uint8Array, length: number): number {
  let s = 0;
  for (let i = 0; i < length; i += 2) s += readU16(b, i);
  return s;
}

/** The tcpdump-ish line shared by the view and the Repr (internal: options object). */
function describe(f: {
  src: number;
  dst: number;
  protocol: number;
  length: number;
  ttl: number;
  id: number;
  df: boolean;
  mf: boolean;
  offset: number;
  optionsLength: number;
}): string {
  let out = `IP ${formatIpv4Address(f.src)} > ${
    formatIpv4Address(f.dst)
  }: proto ${f.protocol} len ${f.length} ttl ${f.ttl} id ${f.id}`;
  if (f.df || f.mf) out += f.df && f.mf ? " [DF,MF]" : f.df ? " [DF]" : " [MF]";
  if (f.offset !== 0) out += ` offset ${f.offset}`;
  if (f.optionsLength !== 0) out += ` optlen ${f.optionsLength}`;
  return out;
}

/**
 * A zero-copy view of an IPv4 datagram.
 *
 * @example
 * ```ts
 * import { Ipv4Packet } from "./ipv4.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([
 *   0x45, 0x00, 0x00, 0x18, 0x00, 0x01, 0x40, 0x00, 0x40, 0x01, 0x26, 0xe2,
 *   0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, // 10.0.0.1 > 10.0.0.2
 *   0xde, 0xad, 0xbe, 0xef, // payload
 *   0x00, 0x00, // Ethernet padding
 * ]);
 * const ip = Ipv4Packet.check(bytes);
 * assert.ok(typeof ip !== "string");
 * assert.ok(ip.verifyChecksum());
 * assert.equal(ip.payload.length, 4);
 * assert.equal(ip.toString(), "IP 10.0.0.1 > 10.0.0.2: proto 1 len 24 ttl 64 id 1 [DF]");
 * ```
 */
export class Ipv4Packet {
  /** The bytes given to `check()`; may extend past `totalLength` (link padding). */
  readonly bytes: Uint8Array;
  readonly #dv: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Validates the version and the lengths (RFC 1122 §3.2.1.1, §3.2.1.2 leaves
   * the checksum to {@linkcode Ipv4Packet.verifyChecksum}).
   *
   * @param bytes The link-layer payload.
   * @returns A view whose accessors stay in bounds, or a drop reason:
   * `"truncated"` if fewer than 20 bytes or fewer than the IHL says,
   * `"bad_version"` unless version 4, `"bad_header_length"` if IHL < 5,
   * `"bad_total_length"` if the total length is below the header length or
   * above the bytes present.
   *
   * @example
   * ```ts
   * import { Ipv4Packet } from "./ipv4.ts";
   * import assert from "node:assert/strict";
   *
   * const bytes = new Uint8Array(20);
   * bytes[0] = 0x65;
   * assert.equal(Ipv4Packet.check(bytes), "bad_version");
   * bytes[0] = 0x44;
   * assert.equal(Ipv4Packet.check(bytes), "bad_header_length");
   * bytes[0] = 0x45;
   * bytes[3] = 21; // total length 21 > 20 bytes present
   * assert.equal(Ipv4Packet.check(bytes), "bad_total_length");
   * ```
   */
  static check(bytes: Uint8Array): Ipv4Packet | Ipv4DropReason {
    const n = bytes.length;
    if (n < IPV4_HEADER_LEN) return "truncated";
    const p = new Ipv4Packet(bytes);
    if (p.version !== 4) return "bad_version";
    const headerLength = p.headerLength;
    if (headerLength < IPV4_HEADER_LEN) return "bad_header_length";
    if (headerLength > n) return "truncated";
    const totalLength = p.totalLength;
    if (totalLength < headerLength || totalLength > n) return "bad_total_length";
    return p;
  }

  /**
   * A view without validation, for writing a header into a buffer sized with
   * {@linkcode ipv4HeaderLength}.
   *
   * @param bytes The buffer.
   * @returns The view.
   *
   * @example
   * ```ts
   * import { Ipv4Packet } from "./ipv4.ts";
   * import assert from "node:assert/strict";
   *
   * const ip = Ipv4Packet.unchecked(new Uint8Array(20));
   * ip.version = 4;
   * ip.ihl = 5;
   * assert.equal(ip.bytes[0], 0x45);
   * ```
   */
  static unchecked(bytes: Uint8Array): Ipv4Packet {
    return new Ipv4Packet(bytes);
  }

  /** Version (4). */
  get version(): number {
    return ipv4Version(this.#dv, 0);
  }
  set version(value: number) {
    this.bytes[0] = ((value & 0xf) << 4) | (this.bytes[0]! & 0x0f);
  }

  /** Internet header length in 32-bit words (5..15). */
  get ihl(): number {
    return this.bytes[0]! & 0x0f;
  }
  set ihl(value: number) {
    this.bytes[0] = (this.bytes[0]! & 0xf0) | (value & 0x0f);
  }

  /** Header length in bytes (`ihl * 4`). Setting writes `ihl = value / 4`. */
  get headerLength(): number {
    return this.ihl << 2;
  }
  set headerLength(value: number) {
    this.ihl = value >>> 2;
  }

  /** Differentiated services code point (RFC 2474), 6 bits. */
  get dscp(): number {
    return this.bytes[1]! >>> 2;
  }
  set dscp(value: number) {
    this.bytes[1] = ((value & 0x3f) << 2) | (this.bytes[1]! & 0x03);
  }

  /** Explicit congestion notification (RFC 3168), 2 bits. */
  get ecn(): number {
    return this.bytes[1]! & 0x03;
  }
  set ecn(value: number) {
    this.bytes[1] = (this.bytes[1]! & 0xfc) | (value & 0x03);
  }

  /** Total length of header and payload in bytes. */
  get totalLength(): number {
    return ipv4TotalLength(this.#dv, 0);
  }
  set totalLength(value: number) {
    setIpv4TotalLength(this.#dv, 0, value);
  }

  /** Identification (for reassembly). */
  get identification(): number {
    return ipv4Identification(this.#dv, 0);
  }
  set identification(value: number) {
    setIpv4Identification(this.#dv, 0, value);
  }

  /** The Don't Fragment flag. */
  get dontFragment(): boolean {
    return (ipv4FragmentField(this.#dv, 0) & FLAG_DF) !== 0;
  }
  set dontFragment(value: boolean) {
    const w = ipv4FragmentField(this.#dv, 0);
    setIpv4FragmentField(this.#dv, 0, value ? w | FLAG_DF : w & ~FLAG_DF);
  }

  /** The More Fragments flag. */
  get moreFragments(): boolean {
    return (ipv4FragmentField(this.#dv, 0) & FLAG_MF) !== 0;
  }
  set moreFragments(value: boolean) {
    const w = ipv4FragmentField(this.#dv, 0);
    setIpv4FragmentField(this.#dv, 0, value ? w | FLAG_MF : w & ~FLAG_MF);
  }

  /** Fragment offset in bytes (the field times 8). Setting drops the low 3 bits. */
  get fragmentOffset(): number {
    return (ipv4FragmentField(this.#dv, 0) & OFFSET_MASK) << 3;
  }
  set fragmentOffset(value: number) {
    const w = ipv4FragmentField(this.#dv, 0);
    setIpv4FragmentField(this.#dv, 0, (w & ~OFFSET_MASK) | ((value >>> 3) & OFFSET_MASK));
  }

  /** Whether this is a fragment: MF set or a non-zero offset. */
  get isFragment(): boolean {
    return (ipv4FragmentField(this.#dv, 0) & (FLAG_MF | OFFSET_MASK)) !== 0;
  }

  /** Time to live. */
  get ttl(): number {
    return ipv4Ttl(this.#dv, 0);
  }
  set ttl(value: number) {
    setIpv4Ttl(this.#dv, 0, value);
  }

  /** Protocol of the payload (`IP_PROTOCOL_*`). */
  get protocol(): number {
    return ipv4Protocol(this.#dv, 0);
  }
  set protocol(value: number) {
    setIpv4Protocol(this.#dv, 0, value);
  }

  /** Header checksum field. */
  get checksum(): number {
    return ipv4ChecksumField(this.#dv, 0);
  }
  set checksum(value: number) {
    setIpv4ChecksumField(this.#dv, 0, value);
  }

  /** Source address, an unsigned 32-bit number. */
  get src(): number {
    return ipv4Src(this.#dv, 0);
  }
  set src(value: number) {
    setIpv4Src(this.#dv, 0, value);
  }

  /** Destination address, an unsigned 32-bit number. */
  get dst(): number {
    return ipv4Dst(this.#dv, 0);
  }
  set dst(value: number) {
    setIpv4Dst(this.#dv, 0, value);
  }

  /** The options bytes (`20..headerLength`), possibly empty; see {@linkcode readIpv4Option}. */
  get options(): Uint8Array {
    return this.bytes.subarray(IPV4_HEADER_LEN, this.headerLength);
  }

  /** The payload, `headerLength..totalLength` (link padding excluded). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength, this.totalLength);
  }

  /**
   * Whether the header checksum is correct. No allocation.
   *
   * @returns `true` if the header sums to `0xffff`.
   *
   * @example
   * ```ts
   * import { Ipv4Packet } from "./ipv4.ts";
   * import assert from "node:assert/strict";
   *
   * const ip = Ipv4Packet.unchecked(new Uint8Array(20));
   * ip.version = 4;
   * ip.ihl = 5;
   * ip.totalLength = 20;
   * assert.ok(!ip.verifyChecksum());
   * ip.fillChecksum();
   * assert.ok(ip.verifyChecksum());
   * ```
   */
  verifyChecksum(): boolean {
    return finishChecksum(headerSum(this.bytes, this.headerLength)) === 0;
  }

  /**
   * Computes the header checksum and writes it into the checksum field.
   *
   * @example
   * ```ts
   * import { Ipv4Packet } from "./ipv4.ts";
   * import assert from "node:assert/strict";
   *
   * const ip = Ipv4Packet.unchecked(new Uint8Array(20));
   * ip.version = 4;
   * ip.ihl = 5;
   * ip.fillChecksum();
   * assert.equal(ip.checksum, 0xbaff);
   * ```
   */
  fillChecksum(): void {
    setIpv4ChecksumField(this.#dv, 0, 0);
    setIpv4ChecksumField(this.#dv, 0, finishChecksum(headerSum(this.bytes, this.headerLength)));
  }

  /**
   * One line: `IP src > dst: proto P len L ttl T id I [DF]`, with `[MF]`,
   * `offset N` and `optlen N` when they apply.
   *
   * @returns One line.
   *
   * @example
   * ```ts
   * import { Ipv4Packet } from "./ipv4.ts";
   * import assert from "node:assert/strict";
   *
   * const ip = Ipv4Packet.unchecked(new Uint8Array(20));
   * ip.version = 4;
   * ip.ihl = 5;
   * ip.totalLength = 20;
   * ip.moreFragments = true;
   * ip.fragmentOffset = 1480;
   * assert.equal(ip.toString(), "IP 0.0.0.0 > 0.0.0.0: proto 0 len 20 ttl 0 id 0 [MF] offset 1480");
   * ```
   */
  toString(): string {
    return describe({
      src: this.src,
      dst: this.dst,
      protocol: this.protocol,
      length: this.totalLength,
      ttl: this.ttl,
      id: this.identification,
      df: this.dontFragment,
      mf: this.moreFragments,
      offset: this.fragmentOffset,
      optionsLength: this.headerLength - IPV4_HEADER_LEN,
    });
  }
}

/**
 * An IPv4 header to emit. Omitted optional fields are 0 or `false`. The
 * payload itself is not part of it: emit writes the header, the upper layer
 * writes `payloadLength` bytes after it.
 */
export interface Ipv4Repr {
  /** Source address. */
  readonly src: number;
  /** Destination address. */
  readonly dst: number;
  /** Protocol of the payload (`IP_PROTOCOL_*`). */
  readonly protocol: number;
  /** Time to live. */
  readonly ttl: number;
  /** Payload length in bytes (total length minus header length). */
  readonly payloadLength: number;
  /** Identification. */
  readonly identification?: number;
  /** Don't Fragment. */
  readonly dontFragment?: boolean;
  /** More Fragments. */
  readonly moreFragments?: boolean;
  /** Fragment offset in bytes, a multiple of 8. */
  readonly fragmentOffset?: number;
  /** DSCP, 6 bits. */
  readonly dscp?: number;
  /** ECN, 2 bits. */
  readonly ecn?: number;
  /**
   * Raw options, at most 40 bytes; emit pads them with zeros (end of option
   * list) to a multiple of 4. Absent when the header has none.
   */
  readonly options?: Uint8Array;
}

/** What {@linkcode parseIpv4} returns: every field but `options` is present. */
export interface Ipv4ParsedRepr extends Ipv4Repr {
  /** Identification. */
  readonly identification: number;
  /** Don't Fragment. */
  readonly dontFragment: boolean;
  /** More Fragments. */
  readonly moreFragments: boolean;
  /** Fragment offset in bytes. */
  readonly fragmentOffset: number;
  /** DSCP. */
  readonly dscp: number;
  /** ECN. */
  readonly ecn: number;
}

/** Options of {@linkcode parseIpv4}. */
export interface ParseIpv4Options {
  /**
   * Verify the header checksum (RFC 1122 §3.2.1.2: a datagram with a bad
   * checksum is silently discarded). Turn off for captures made with checksum
   * offload. Defaults to `true`.
   */
  readonly verifyChecksum?: boolean;
}

/**
 * Reads a checked packet. Never throws. Options are kept as a subarray (not
 * interpreted); addresses are not judged (martians are the plugin's call).
 *
 * @param p A view from {@linkcode Ipv4Packet.check}.
 * @param options `verifyChecksum` (default `true`).
 * @returns The header, or `"bad_checksum"`.
 *
 * @example
 * ```ts
 * import { emitIpv4, Ipv4Packet, parseIpv4 } from "./ipv4.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(28);
 * emitIpv4({ src: 0x0a000001, dst: 0x0a000002, protocol: 17, ttl: 64, payloadLength: 8 }, bytes);
 * const ip = Ipv4Packet.check(bytes);
 * assert.ok(typeof ip !== "string");
 * const repr = parseIpv4(ip);
 * assert.ok(typeof repr !== "string");
 * assert.equal(repr.payloadLength, 8);
 * bytes[8] = 63; // TTL changed without updating the checksum
 * assert.equal(parseIpv4(ip), "bad_checksum");
 * assert.ok(typeof parseIpv4(ip, { verifyChecksum: false }) !== "string");
 * ```
 */
export function parseIpv4(
  p: Ipv4Packet,
  options?: ParseIpv4Options,
): Ipv4ParsedRepr | Ipv4ParseDropReason {
  if (options?.verifyChecksum !== false && !p.verifyChecksum()) return "bad_checksum";
  const headerLength = p.headerLength;
  const repr: Ipv4ParsedRepr = {
    src: p.src,
    dst: p.dst,
    protocol: p.protocol,
    ttl: p.ttl,
    payloadLength: p.totalLength - headerLength,
    identification: p.identification,
    dontFragment: p.dontFragment,
    moreFragments: p.moreFragments,
    fragmentOffset: p.fragmentOffset,
    dscp: p.dscp,
    ecn: p.ecn,
  };
  if (headerLength === IPV4_HEADER_LEN) return repr;
  return { ...repr, options: p.options };
}

/**
 * Length of the header {@linkcode emitIpv4} writes: 20 plus the options
 * rounded up to a multiple of 4.
 *
 * @param repr The header.
 * @returns The length in bytes.
 * @throws {RangeError} If the options are longer than 40 bytes.
 *
 * @example
 * ```ts
 * import { ipv4HeaderLength } from "./ipv4.ts";
 * import assert from "node:assert/strict";
 *
 * const repr = { src: 0, dst: 0, protocol: 2, ttl: 1, payloadLength: 8 };
 * assert.equal(ipv4HeaderLength(repr), 20);
 * assert.equal(ipv4HeaderLength({ ...repr, options: new Uint8Array([148, 4, 0, 0]) }), 24);
 * ```
 */
export function ipv4HeaderLength(repr: Ipv4Repr): number {
  const n = repr.options?.length ?? 0;
  if (n > IPV4_MAX_HEADER_LEN - IPV4_HEADER_LEN) {
    throw new RangeError(`Cannot emit ${n} bytes of IPv4 options: at most 40 fit`);
  }
  return IPV4_HEADER_LEN + ((n + 3) & ~3);
}

/**
 * Writes the header for `repr`, with a correct checksum, into the first
 * {@linkcode ipv4HeaderLength}`(repr)` bytes of `bytes`. The total length is
 * that plus `payloadLength`. Never throws for a valid Repr and a buffer at
 * least that long (a shorter buffer is a caller bug and throws `RangeError`).
 *
 * @param repr The header.
 * @param bytes The buffer: the IP datagram being built.
 *
 * @example
 * ```ts
 * import { emitIpv4, IP_PROTOCOL_ICMP } from "./ipv4.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(20);
 * emitIpv4(
 *   { src: 0x0a000001, dst: 0x0a000002, protocol: IP_PROTOCOL_ICMP, ttl: 64, payloadLength: 0, dontFragment: true },
 *   bytes,
 * );
 * assert.deepEqual([...bytes.subarray(0, 12)], [0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 1, 0x26, 0xe7]);
 * ```
 */
export function emitIpv4(repr: Ipv4Repr, bytes: Uint8Array): void {
  const headerLength = ipv4HeaderLength(repr);
  if (bytes.length < headerLength) {
    throw new RangeError(
      `Cannot emit a ${headerLength}-byte IPv4 header into ${bytes.length} bytes`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  setIpv4VersionAndHeaderLen(dv, 0, headerLength);
  setIpv4Tos(dv, 0, (((repr.dscp ?? 0) & 0x3f) << 2) | ((repr.ecn ?? 0) & 0x03));
  setIpv4TotalLength(dv, 0, headerLength + repr.payloadLength);
  setIpv4Identification(dv, 0, repr.identification ?? 0);
  setIpv4FragmentField(
    dv,
    0,
    (repr.dontFragment === true ? FLAG_DF : 0) | (repr.moreFragments === true ? FLAG_MF : 0) |
      (((repr.fragmentOffset ?? 0) >>> 3) & OFFSET_MASK),
  );
  setIpv4Ttl(dv, 0, repr.ttl);
  setIpv4Protocol(dv, 0, repr.protocol);
  setIpv4ChecksumField(dv, 0, 0);
  setIpv4Src(dv, 0, repr.src);
  setIpv4Dst(dv, 0, repr.dst);
  if (repr.options !== undefined) {
    bytes.set(repr.options, IPV4_HEADER_LEN);
    bytes.fill(IPV4_OPTION_END, IPV4_HEADER_LEN + repr.options.length, headerLength);
  }
  setIpv4ChecksumField(dv, 0, finishChecksum(headerSum(bytes, headerLength)));
}

/**
 * One line for a Repr, as {@linkcode Ipv4Packet.toString} prints the header
 * it would emit.
 *
 * @param repr The header.
 * @returns One line.
 *
 * @example
 * ```ts
 * import { formatIpv4Repr } from "./ipv4.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatIpv4Repr({ src: 0x0a000001, dst: 0x0a000002, protocol: 1, ttl: 64, payloadLength: 64, identification: 1, dontFragment: true }),
 *   "IP 10.0.0.1 > 10.0.0.2: proto 1 len 84 ttl 64 id 1 [DF]",
 * );
 * ```
 */
export function formatIpv4Repr(repr: Ipv4Repr): string {
  const headerLength = IPV4_HEADER_LEN + (((repr.options?.length ?? 0) + 3) & ~3);
  return describe({
    src: repr.src,
    dst: repr.dst,
    protocol: repr.protocol,
    length: headerLength + repr.payloadLength,
    ttl: repr.ttl,
    id: repr.identification ?? 0,
    df: repr.dontFragment === true,
    mf: repr.moreFragments === true,
    offset: repr.fragmentOffset ?? 0,
    optionsLength: headerLength - IPV4_HEADER_LEN,
  });
}

/** One option from {@linkcode readIpv4Option}. */
export interface Ipv4Option {
  /** Option type octet (copied flag, class and number), e.g. 148 for Router Alert. */
  readonly type: number;
  /** The option data after the type and length octets (empty for NOP); a subarray. */
  readonly data: Uint8Array;
  /** Offset of the next option in the options bytes. */
  readonly next: number;
}

/**
 * Reads the option at `offset` of an options area (from
 * {@linkcode Ipv4Packet.options}), bounds-checked (RFC 791 §3.1). Iterate with
 * `next` until a string comes back. Never throws.
 *
 * @param options The options bytes.
 * @param offset Where the option starts.
 * @returns The option, `"end"` at the end of the list (end-of-list option or
 * no bytes left), or `"bad_option"` if a length octet is missing, below 2 or
 * runs past the end.
 *
 * @example Finding Router Alert
 * ```ts
 * import { IPV4_OPTION_ROUTER_ALERT, readIpv4Option } from "./ipv4.ts";
 * import assert from "node:assert/strict";
 *
 * const options = new Uint8Array([1, 148, 4, 0, 0, 0, 0, 0]); // NOP, Router Alert, EOL
 * const types: number[] = [];
 * for (let o = readIpv4Option(options, 0); typeof o !== "string"; o = readIpv4Option(options, o.next)) {
 *   types.push(o.type);
 * }
 * assert.deepEqual(types, [1, IPV4_OPTION_ROUTER_ALERT]);
 * assert.equal(readIpv4Option(new Uint8Array([148, 9, 0, 0]), 0), "bad_option");
 * ```
 */
export function readIpv4Option(
  options: Uint8Array,
  offset: number,
): Ipv4Option | "end" | "bad_option" {
  if (!(offset >= 0) || offset >= options.length) return "end";
  const type = options[offset]!;
  if (type === IPV4_OPTION_END) return "end";
  if (type === IPV4_OPTION_NOP) {
    return { type, data: options.subarray(offset + 1, offset + 1), next: offset + 1 };
  }
  if (offset + 1 >= options.length) return "bad_option";
  const length = options[offset + 1]!;
  if (length < 2 || offset + length > options.length) return "bad_option";
  return { type, data: options.subarray(offset + 2, offset + length), next: offset + length };
}
