/**
 * TCP headers (RFC 9293 §3.1) and options: MSS (RFC 9293 §3.7.1), window
 * scale and timestamps (RFC 7323), SACK-permitted and SACK blocks (RFC 2018),
 * with the checksum over the IPv4 pseudo-header (RFC 9293 §3.1, RFC 1071).
 *
 * View contract: after {@linkcode TcpPacket.check} returns a view, no
 * accessor reads out of bounds. Writing the data offset invalidates that
 * guarantee. The view never owns or copies bytes: `options` and `payload` are
 * subarrays. TCP has no length field, so the view's bytes must be exactly the
 * segment (the IP payload, cut at the IP total length).
 *
 * Options (parsing, printing, Linux's emission layout) live in
 * `tcp_options.ts` and are re-exported here.
 *
 * Not supported here: the urgent mechanism beyond reading the field (RFC
 * 6093: legacy), TCP-AO/MD5 signatures (skipped as unknown options), MPTCP,
 * TCP Fast Open cookies (skipped), AccECN (the AE bit is read as a flag).
 *
 * @module
 */
import { finishChecksum, pseudoHeaderSumV4, sumBytes } from "./checksum.ts";
import { emitTcpOptions, formatTcpOptions, TcpOptionSet } from "./tcp_options.ts";
import { IP_PROTOCOL_TCP } from "./numbers.ts";
import {
  setTcpAck,
  setTcpChecksumField,
  setTcpDstPort,
  setTcpHeaderLenAndFlags,
  setTcpSeq,
  setTcpSrcPort,
  setTcpUrgentPointer,
  setTcpWindow,
  tcpAck,
  tcpChecksumField,
  tcpDstPort,
  tcpFlags,
  tcpHeaderLen,
  tcpSeq,
  tcpSrcPort,
  tcpUrgentPointer,
  tcpWindow,
} from "./tcp_fields.ts";

export {
  emitTcpOptions,
  formatTcpOptions,
  readTcpOption,
  TCP_MAX_SACK_BLOCKS,
  TCP_MAX_WSCALE,
  TCP_OPT_EOL,
  TCP_OPT_MSS,
  TCP_OPT_NOP,
  TCP_OPT_SACK,
  TCP_OPT_SACK_PERMITTED,
  TCP_OPT_TIMESTAMP,
  TCP_OPT_WSCALE,
  type TcpOption,
  TcpOptionSet,
} from "./tcp_options.ts";

/** Length of a TCP header without options. */
export const TCP_HEADER_LEN = 20;
/** Largest TCP header: data offset 15. */
export const TCP_MAX_HEADER_LEN = 60;
/** Room for options: 40 bytes. */
export const TCP_MAX_OPTIONS_LEN = 40;

/** FIN flag: no more data from sender. */
export const TCP_FIN = 0x01;
/** SYN flag: synchronize sequence numbers. */
export const TCP_SYN = 0x02;
/** RST flag: reset the connection. */
export const TCP_RST = 0x04;
/** PSH flag: push function. */
export const TCP_PSH = 0x08;
/** ACK flag: the acknowledgment field is significant. */
export const TCP_ACK = 0x10;
/** URG flag: the urgent pointer is significant. */
export const TCP_URG = 0x20;
/** ECE flag: ECN-Echo (RFC 3168). */
export const TCP_ECE = 0x40;
/** CWR flag: congestion window reduced (RFC 3168). */
export const TCP_CWR = 0x80;
/** AE flag (formerly NS), the bit just left of CWR (RFC 9768 AccECN). */
export const TCP_AE = 0x100;

/** Why {@linkcode TcpPacket.check} refused a segment. */
export type TcpDropReason = "truncated" | "bad_header_length";
/** Why {@linkcode parseTcp} refused a checked segment. */
export type TcpParseDropReason = "bad_checksum";

/** The IPv4 addresses a TCP checksum covers (the pseudo-header). */
export interface TcpPseudoHeader {
  /** IPv4 source address, unsigned 32-bit. */
  readonly src: number;
  /** IPv4 destination address, unsigned 32-bit. */
  readonly dst: number;
}

const FLAG_LETTERS: readonly [number, string][] = [
  [TCP_FIN, "F"],
  [TCP_SYN, "S"],
  [TCP_RST, "R"],
  [TCP_PSH, "P"],
  [TCP_ACK, "."],
  [TCP_URG, "U"],
  [TCP_ECE, "E"],
  [TCP_CWR, "W"],
  [TCP_AE, "e"],
];

/**
 * Flags as tcpdump prints them inside `Flags [...]`: `S`, `S.`, `P.`, `F.`,
 * `R.`, or `none`.
 *
 * @param flags The flag bits.
 * @returns The letters.
 *
 * @example
 * ```ts
 * import { formatTcpFlags, TCP_ACK, TCP_SYN } from "./tcp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatTcpFlags(TCP_SYN | TCP_ACK), "S.");
 * assert.equal(formatTcpFlags(0), "none");
 * ```
 */
export function formatTcpFlags(flags: number): string {
  let s = "";
  for (const [bit, letter] of FLAG_LETTERS) if ((flags & bit) !== 0) s += letter;
  return s === "" ? "none" : s;
}

/** The tcpdump line shared by the view and the Repr (internal: options object). */
function describe(f: {
  flags: number;
  seq: number;
  ack: number;
  window: number;
  urgent: number;
  options: string;
  length: number;
}): string {
  let s = `Flags [${formatTcpFlags(f.flags)}]`;
  if (f.length > 0) s += `, seq ${f.seq}:${(f.seq + f.length) >>> 0}`;
  else if ((f.flags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0) s += `, seq ${f.seq}`;
  if ((f.flags & TCP_ACK) !== 0) s += `, ack ${f.ack}`;
  s += `, win ${f.window}`;
  if ((f.flags & TCP_URG) !== 0) s += `, urg ${f.urgent}`;
  if (f.options !== "") s += `, options [${f.options}]`;
  return s + `, length ${f.length}`;
}

/**
 * A zero-copy view of a TCP segment.
 *
 * @example
 * ```ts
 * import { TcpPacket } from "./tcp.ts";
 * import assert from "node:assert/strict";
 *
 * // shared/pcaps/linux-probes/tun-curl4.pcap frame 1: a Linux SYN, 10.77.0.1 > 10.77.0.2
 * const syn = new Uint8Array([
 *   0xb7, 0x7a, 0x1f, 0x90, 0x93, 0x26, 0x4a, 0x07, 0, 0, 0, 0, 0xa0, 0x02, 0xfa, 0xf0,
 *   0x71, 0xf2, 0, 0, 2, 4, 5, 0xb4, 4, 2, 8, 10, 0xe4, 0x3f, 0x2e, 0x05, 0, 0, 0, 0, 1, 3, 3, 10,
 * ]);
 * const tcp = TcpPacket.check(syn);
 * assert.ok(typeof tcp !== "string");
 * assert.equal(tcp.dstPort, 8080);
 * assert.ok(tcp.verifyChecksum({ src: 0x0a4d0001, dst: 0x0a4d0002 }));
 * assert.equal(
 *   tcp.toString(),
 *   "Flags [S], seq 2468760071, win 64240, options [mss 1460,sackOK,TS val 3829345797 ecr 0,nop,wscale 10], length 0",
 * );
 * ```
 */
export class TcpPacket {
  /** Exactly the segment: header, options and payload. */
  readonly bytes: Uint8Array;
  readonly #dv: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Validates the lengths.
   *
   * @param bytes The IP payload (exactly the segment).
   * @returns A view whose accessors stay in bounds, or `"truncated"` (fewer
   * than 20 bytes, or fewer than the data offset says) or
   * `"bad_header_length"` (data offset below 5).
   *
   * @example
   * ```ts
   * import { TcpPacket } from "./tcp.ts";
   * import assert from "node:assert/strict";
   * const bytes = new Uint8Array(20);
   * bytes[12] = 0x40; // data offset 4
   * assert.equal(TcpPacket.check(bytes), "bad_header_length");
   * bytes[12] = 0x60; // data offset 6: 24 bytes
   * assert.equal(TcpPacket.check(bytes), "truncated");
   * ```
   */
  static check(bytes: Uint8Array): TcpPacket | TcpDropReason {
    if (bytes.length < TCP_HEADER_LEN) return "truncated";
    const p = new TcpPacket(bytes);
    const hl = p.headerLength;
    if (hl < TCP_HEADER_LEN) return "bad_header_length";
    if (hl > bytes.length) return "truncated";
    return p;
  }

  /**
   * A view without validation, for writing a header into a buffer sized with
   * {@linkcode tcpHeaderLength}.
   *
   * @param bytes The buffer.
   * @returns The view.
   *
   * @example
   * ```ts
   * import { TcpPacket } from "./tcp.ts";
   * import assert from "node:assert/strict";
   * const tcp = TcpPacket.unchecked(new Uint8Array(20));
   * tcp.dataOffset = 5;
   * assert.equal(tcp.headerLength, 20);
   * ```
   */
  static unchecked(bytes: Uint8Array): TcpPacket {
    return new TcpPacket(bytes);
  }

  /** Source port. */
  get srcPort(): number {
    return tcpSrcPort(this.#dv, 0);
  }
  set srcPort(v: number) {
    setTcpSrcPort(this.#dv, 0, v);
  }
  /** Destination port. */
  get dstPort(): number {
    return tcpDstPort(this.#dv, 0);
  }
  set dstPort(v: number) {
    setTcpDstPort(this.#dv, 0, v);
  }
  /** Sequence number, unsigned 32-bit. */
  get seqNumber(): number {
    return tcpSeq(this.#dv, 0);
  }
  set seqNumber(v: number) {
    setTcpSeq(this.#dv, 0, v);
  }
  /** Acknowledgment number, unsigned 32-bit. */
  get ackNumber(): number {
    return tcpAck(this.#dv, 0);
  }
  set ackNumber(v: number) {
    setTcpAck(this.#dv, 0, v);
  }
  /** Data offset in 32-bit words (5..15). */
  get dataOffset(): number {
    return tcpHeaderLen(this.#dv, 0) >>> 2;
  }
  set dataOffset(v: number) {
    this.bytes[12] = ((v & 0xf) << 4) | (this.bytes[12]! & 0x0f);
  }
  /** Header length in bytes (`dataOffset * 4`). */
  get headerLength(): number {
    return this.dataOffset << 2;
  }
  /** The nine flag bits (`TCP_FIN` … `TCP_AE`). */
  get flags(): number {
    return tcpFlags(this.#dv, 0);
  }
  set flags(v: number) {
    // Keeps the data offset; the reserved bits become 0.
    this.bytes[12] = (this.bytes[12]! & 0xf0) | ((v >>> 8) & 1);
    this.bytes[13] = v;
  }
  /** FIN set. */
  get fin(): boolean {
    return (this.flags & TCP_FIN) !== 0;
  }
  /** SYN set. */
  get syn(): boolean {
    return (this.flags & TCP_SYN) !== 0;
  }
  /** RST set. */
  get rst(): boolean {
    return (this.flags & TCP_RST) !== 0;
  }
  /** PSH set. */
  get psh(): boolean {
    return (this.flags & TCP_PSH) !== 0;
  }
  /** ACK set. */
  get ack(): boolean {
    return (this.flags & TCP_ACK) !== 0;
  }
  /** URG set. */
  get urg(): boolean {
    return (this.flags & TCP_URG) !== 0;
  }
  /** Window field (unscaled). */
  get window(): number {
    return tcpWindow(this.#dv, 0);
  }
  set window(v: number) {
    setTcpWindow(this.#dv, 0, v);
  }
  /** Checksum field. */
  get checksum(): number {
    return tcpChecksumField(this.#dv, 0);
  }
  set checksum(v: number) {
    setTcpChecksumField(this.#dv, 0, v);
  }
  /** Urgent pointer field. */
  get urgentPointer(): number {
    return tcpUrgentPointer(this.#dv, 0);
  }
  set urgentPointer(v: number) {
    setTcpUrgentPointer(this.#dv, 0, v);
  }
  /** The options area, `20..headerLength`, possibly empty. */
  get options(): Uint8Array {
    return this.bytes.subarray(TCP_HEADER_LEN, this.headerLength);
  }
  /** The payload, after the header. */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength);
  }
  /** Sequence space the segment occupies: payload plus one each for SYN and FIN. */
  get segmentLength(): number {
    const f = this.flags;
    return this.bytes.length - this.headerLength + (f & TCP_SYN ? 1 : 0) + (f & TCP_FIN ? 1 : 0);
  }

  /**
   * Whether the checksum over the pseudo-header and the whole segment is correct.
   *
   * @param pseudo The IPv4 addresses.
   * @returns `true` if correct.
   */
  verifyChecksum(pseudo: TcpPseudoHeader): boolean {
    const initial = pseudoHeaderSumV4(pseudo.src, pseudo.dst, IP_PROTOCOL_TCP, this.bytes.length);
    return sumBytes(this.bytes, initial) === 0xffff;
  }

  /**
   * Computes the checksum over the pseudo-header and the whole segment and
   * writes it into the checksum field.
   *
   * @param pseudo The IPv4 addresses.
   *
   * @example
   * ```ts
   * import { TcpPacket } from "./tcp.ts";
   * import assert from "node:assert/strict";
   * const tcp = TcpPacket.unchecked(new Uint8Array(20));
   * tcp.dataOffset = 5;
   * tcp.fillChecksum({ src: 1, dst: 2 });
   * assert.ok(tcp.verifyChecksum({ src: 1, dst: 2 }));
   * assert.ok(!tcp.verifyChecksum({ src: 1, dst: 3 }));
   * ```
   */
  fillChecksum(pseudo: TcpPseudoHeader): void {
    setTcpChecksumField(this.#dv, 0, 0);
    const initial = pseudoHeaderSumV4(pseudo.src, pseudo.dst, IP_PROTOCOL_TCP, this.bytes.length);
    setTcpChecksumField(this.#dv, 0, finishChecksum(sumBytes(this.bytes, initial)));
  }

  /**
   * One line, tcpdump style (without addresses and ports):
   * `Flags [S.], seq 1, ack 2, win 65535, options [mss 1460,...], length 0`.
   * `seq a:b` when there is payload; `seq` is left out of pure ACKs.
   *
   * @returns One line.
   */
  toString(): string {
    return describe({
      flags: this.flags,
      seq: this.seqNumber,
      ack: this.ackNumber,
      window: this.window,
      urgent: this.urgentPointer,
      options: formatTcpOptions(this.options),
      length: this.bytes.length - this.headerLength,
    });
  }
}

/**
 * A TCP header to emit or as parsed. The payload is not part of it:
 * `payloadLength` bytes follow the header. Omitted options are not sent.
 */
export interface TcpRepr {
  /** Source port. */
  readonly srcPort: number;
  /** Destination port. */
  readonly dstPort: number;
  /** Sequence number. */
  readonly seq: number;
  /** Acknowledgment number (0 unless `TCP_ACK` is set). */
  readonly ack: number;
  /** Flag bits (`TCP_SYN | TCP_ACK`, …). */
  readonly flags: number;
  /** Window field (already scaled down). */
  readonly window: number;
  /** Urgent pointer (default 0). */
  readonly urgentPointer?: number;
  /** MSS option. */
  readonly mss?: number;
  /** Window-scale option shift. */
  readonly windowScale?: number;
  /** SACK-permitted option. */
  readonly sackPermitted?: boolean;
  /** Timestamps option. */
  readonly timestamp?: { readonly value: number; readonly echo: number };
  /** SACK blocks `[left, right)` (at most 4, 3 with timestamps). */
  readonly sackBlocks?: readonly (readonly [number, number])[];
  /** Payload length in bytes. */
  readonly payloadLength: number;
}

/** Options of {@linkcode parseTcp}. */
export interface ParseTcpOptions {
  /** Verify the checksum against the pseudo-header (default true). */
  readonly verifyChecksum?: boolean;
}

/**
 * Reads a checked segment into a Repr. Never throws. Malformed options end
 * option parsing (Linux); the options read before are kept.
 *
 * @param p A view from {@linkcode TcpPacket.check}.
 * @param pseudo The IPv4 addresses, for the checksum.
 * @param options `verifyChecksum` (default true).
 * @returns The header, or `"bad_checksum"`.
 *
 * @example
 * ```ts
 * import { emitTcp, parseTcp, TcpPacket, TCP_SYN, tcpHeaderLength } from "./tcp.ts";
 * import assert from "node:assert/strict";
 * const repr = { srcPort: 1, dstPort: 2, seq: 100, ack: 0, flags: TCP_SYN, window: 1000, mss: 1460, payloadLength: 0 };
 * const bytes = new Uint8Array(tcpHeaderLength(repr));
 * emitTcp(repr, bytes, { src: 1, dst: 2 });
 * const p = TcpPacket.check(bytes);
 * assert.ok(typeof p !== "string");
 * assert.deepEqual(parseTcp(p, { src: 1, dst: 2 }), repr);
 * assert.equal(parseTcp(p, { src: 9, dst: 2 }), "bad_checksum");
 * ```
 */
export function parseTcp(
  p: TcpPacket,
  pseudo: TcpPseudoHeader,
  options?: ParseTcpOptions,
): TcpRepr | TcpParseDropReason {
  if (options?.verifyChecksum !== false && !p.verifyChecksum(pseudo)) return "bad_checksum";
  const set = new TcpOptionSet();
  set.parse(p.options);
  const flags = p.flags;
  const repr: {
    -readonly [K in keyof TcpRepr]: TcpRepr[K];
  } = {
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    seq: p.seqNumber,
    ack: p.ackNumber,
    flags,
    window: p.window,
    payloadLength: p.bytes.length - p.headerLength,
  };
  if ((flags & TCP_URG) !== 0) repr.urgentPointer = p.urgentPointer;
  if (set.mss >= 0) repr.mss = set.mss;
  if (set.windowScale >= 0) repr.windowScale = set.windowScale;
  if (set.sackPermitted) repr.sackPermitted = true;
  if (set.hasTimestamp) repr.timestamp = { value: set.tsVal, echo: set.tsEcr };
  if (set.sackCount > 0) {
    const blocks: [number, number][] = [];
    for (let i = 0; i < set.sackCount; i++) {
      blocks.push([set.sackBlocks[2 * i]!, set.sackBlocks[2 * i + 1]!]);
    }
    repr.sackBlocks = blocks;
  }
  return repr;
}

/**
 * Length of the options {@linkcode emitTcp} writes for `repr`, unpadded
 * (Linux's layout, see {@linkcode emitTcpOptions}).
 */
function optionsLength(repr: TcpRepr): number {
  let n = 0;
  if (repr.mss !== undefined) n += 4;
  if (repr.timestamp !== undefined) n += 12; // [sackOK or nop,nop] + TS
  else if (repr.sackPermitted === true) n += 4; // nop,nop,sackOK
  if (repr.windowScale !== undefined) n += 4; // nop + wscale
  const blocks = repr.sackBlocks?.length ?? 0;
  if (blocks > 0) n += 4 + 8 * blocks;
  return n;
}

/**
 * Length of the header {@linkcode emitTcp} writes: 20 plus the options
 * (already a multiple of 4 in Linux's layout).
 *
 * @param repr The header.
 * @returns The length in bytes.
 * @throws {RangeError} If the options do not fit in 40 bytes.
 *
 * @example
 * ```ts
 * import { tcpHeaderLength, TCP_SYN } from "./tcp.ts";
 * import assert from "node:assert/strict";
 * const syn = { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: TCP_SYN, window: 0, payloadLength: 0 };
 * assert.equal(tcpHeaderLength(syn), 20);
 * assert.equal(
 *   tcpHeaderLength({ ...syn, mss: 1460, sackPermitted: true, timestamp: { value: 1, echo: 0 }, windowScale: 7 }),
 *   40,
 * );
 * ```
 */
export function tcpHeaderLength(repr: TcpRepr): number {
  const n = optionsLength(repr);
  if (n > TCP_MAX_OPTIONS_LEN) {
    throw new RangeError(`Cannot emit ${n} bytes of TCP options: at most 40 fit`);
  }
  return TCP_HEADER_LEN + n;
}

/** Options of {@linkcode emitTcp}: the pseudo-header and, optionally, the payload. */
export interface EmitTcpOptions extends TcpPseudoHeader {
  /** Payload to copy after the header (else the caller has written it there). */
  readonly payload?: Uint8Array;
}

/**
 * Writes the header for `repr` (and the payload, if given) into `bytes`,
 * then the checksum over header and `payloadLength` bytes of payload.
 *
 * @param repr The header.
 * @param bytes The segment buffer, at least `tcpHeaderLength(repr) + payloadLength` long.
 * @param options Pseudo-header addresses and the optional payload.
 * @throws {RangeError} If `bytes` is too short (a caller bug).
 *
 * @example
 * ```ts
 * import { emitTcp, TcpPacket, TCP_ACK, TCP_PSH } from "./tcp.ts";
 * import assert from "node:assert/strict";
 * const payload = new TextEncoder().encode("hi");
 * const repr = { srcPort: 80, dstPort: 5000, seq: 1, ack: 2, flags: TCP_PSH | TCP_ACK, window: 512, payloadLength: 2 };
 * const bytes = new Uint8Array(22);
 * emitTcp(repr, bytes, { src: 1, dst: 2, payload });
 * const p = TcpPacket.check(bytes);
 * assert.ok(typeof p !== "string" && p.verifyChecksum({ src: 1, dst: 2 }));
 * assert.equal(p.toString(), "Flags [P.], seq 1:3, ack 2, win 512, length 2");
 * ```
 */
export function emitTcp(repr: TcpRepr, bytes: Uint8Array, options: EmitTcpOptions): void {
  const hl = tcpHeaderLength(repr);
  const total = hl + repr.payloadLength;
  if (bytes.length < total) {
    throw new RangeError(`Cannot emit a ${total}-byte TCP segment into ${bytes.length} bytes`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  setTcpSrcPort(dv, 0, repr.srcPort);
  setTcpDstPort(dv, 0, repr.dstPort);
  setTcpSeq(dv, 0, repr.seq);
  setTcpAck(dv, 0, repr.ack);
  setTcpHeaderLenAndFlags(dv, 0, hl, repr.flags);
  setTcpWindow(dv, 0, repr.window);
  setTcpChecksumField(dv, 0, 0);
  setTcpUrgentPointer(dv, 0, repr.urgentPointer ?? 0);
  emitTcpOptions(repr, bytes, TCP_HEADER_LEN);
  if (options.payload !== undefined) {
    bytes.set(options.payload.subarray(0, repr.payloadLength), hl);
  }
  const seg = bytes.subarray(0, total);
  const initial = pseudoHeaderSumV4(options.src, options.dst, IP_PROTOCOL_TCP, total);
  setTcpChecksumField(dv, 0, finishChecksum(sumBytes(seg, initial)));
}

/**
 * One line for a Repr, as {@linkcode TcpPacket.toString} would print the
 * segment {@linkcode emitTcp} writes.
 *
 * @param repr The header.
 * @returns One line.
 *
 * @example
 * ```ts
 * import { formatTcpRepr, TCP_ACK, TCP_SYN } from "./tcp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatTcpRepr({
 *     srcPort: 80, dstPort: 5000, seq: 1, ack: 2, flags: TCP_SYN | TCP_ACK, window: 65535, payloadLength: 0,
 *     mss: 1460, sackPermitted: true, timestamp: { value: 1, echo: 0 }, windowScale: 7,
 *   }),
 *   "Flags [S.], seq 1, ack 2, win 65535, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0",
 * );
 * ```
 */
export function formatTcpRepr(repr: TcpRepr): string {
  const n = optionsLength(repr);
  const opts = new Uint8Array(n);
  emitTcpOptions(repr, opts, 0);
  return describe({
    flags: repr.flags,
    seq: repr.seq >>> 0,
    ack: repr.ack >>> 0,
    window: repr.window,
    urgent: repr.urgentPointer ?? 0,
    options: formatTcpOptions(opts),
    length: repr.payloadLength,
  });
}

/**
 * Describes a TCP segment inside an IP packet the way `tcpdump -n` does:
 * `10.0.0.1.80 > 10.0.0.2.5000: Flags [S.], …`, or `… [|tcp]` when the
 * header is cut short. Never throws. For `wire/pretty.ts`.
 *
 * @param bytes The IP payload.
 * @param src Source address as text.
 * @param dst Destination address as text.
 * @returns One line.
 *
 * @example
 * ```ts
 * import { describeTcpSegment } from "./tcp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(describeTcpSegment(new Uint8Array(2), "10.0.0.1", "10.0.0.2"), "10.0.0.1 > 10.0.0.2: [|tcp]");
 * ```
 */
export function describeTcpSegment(bytes: Uint8Array, src: string, dst: string): string {
  const p = TcpPacket.check(bytes);
  if (typeof p === "string") {
    if (bytes.length >= 4) {
      const sp = (bytes[0]! << 8) | bytes[1]!;
      const dp = (bytes[2]! << 8) | bytes[3]!;
      return `${src}.${sp} > ${dst}.${dp}: [|tcp]`;
    }
    return `${src} > ${dst}: [|tcp]`;
  }
  return `${src}.${p.srcPort} > ${dst}.${p.dstPort}: ${p.toString()}`;
}
