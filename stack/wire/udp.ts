/**
 * UDP headers (RFC 768, RFC 1122 §4.1.3), with the pseudo-header checksum
 * over IPv4 (RFC 768) or IPv6 (RFC 8200 §8.1).
 *
 * View contract: after {@linkcode UdpPacket.check} returns a view, no
 * accessor reads out of bounds: the 8-byte header is present and the length
 * field lies within the bytes, so `payload` ends at the UDP length (link or IP
 * padding after it is excluded). Writing `length` invalidates that guarantee.
 * The view never owns or copies bytes.
 *
 * Checksums: a transmitted checksum of 0 means "no checksum" (RFC 768), so a
 * computed 0 is sent as 0xffff. A received 0 is accepted over IPv4 and refused
 * over IPv6 (RFC 8200 §8.1; the RFC 6935/6936 tunnel exception is not
 * supported).
 *
 * Not supported: UDP-Lite (RFC 3828), IPv6 jumbograms (RFC 2675: length 0).
 *
 * @module
 */
import { formatIpv4Address, formatIpv6Address } from "./address.ts";
import { pseudoHeaderSumV4, pseudoHeaderSumV6, sumBytes } from "./checksum.ts";
import {
  setUdpChecksumField,
  setUdpDstPort,
  setUdpLength,
  setUdpSrcPort,
  udpChecksumField,
  udpDstPort,
  udpLength,
  udpSrcPort,
} from "./udp_fields.ts";
import { IP_PROTOCOL_UDP } from "./numbers.ts";

/** Length of the UDP header: source port, destination port, length, checksum. */
export const UDP_HEADER_LEN = 8;
/** Largest UDP payload over IPv4: 65535 - 20 (IPv4 header) - 8 (UDP header). */
export const UDP_MAX_PAYLOAD_V4 = 65507;
/** Largest UDP payload over IPv6 without jumbograms: 65535 - 8. */
export const UDP_MAX_PAYLOAD_V6 = 65527;

/** Why {@linkcode UdpPacket.check} refused a datagram. */
export type UdpDropReason = "truncated" | "bad_length";
/**
 * Why {@linkcode parseUdp} refused a checked datagram: a checksum that does
 * not verify, or a zero (absent) checksum over IPv6.
 */
export type UdpParseDropReason = "bad_checksum" | "zero_checksum";

/**
 * The addresses of the IP header that carries the datagram, for the checksum
 * pseudo-header: IPv4 addresses as unsigned 32-bit numbers, IPv6 addresses
 * as 16-byte views.
 */
export type UdpPseudoHeader =
  | { readonly family: 4; readonly src: number; readonly dst: number }
  | { readonly family: 6; readonly src: Uint8Array; readonly dst: Uint8Array };

/** The folded pseudo-header sum for a datagram of `length` bytes. */
function pseudoSum(pseudo: UdpPseudoHeader, length: number): number {
  return pseudo.family === 4
    ? pseudoHeaderSumV4(pseudo.src, pseudo.dst, IP_PROTOCOL_UDP, length)
    : pseudoHeaderSumV6(pseudo.src, pseudo.dst, IP_PROTOCOL_UDP, length);
}

/** `a.b.c.d.port` / `x::y.port` as tcpdump joins an address and a port. */
function endpoint(pseudo: UdpPseudoHeader, which: "src" | "dst", port: number): string {
  const a = pseudo.family === 4
    ? formatIpv4Address(pseudo[which])
    : formatIpv6Address(pseudo[which]);
  return `${a}.${port}`;
}

/** The tcpdump line shared by the view and the Repr (internal: four positional arguments). */
function describe(
  srcPort: number,
  dstPort: number,
  text: string,
  pseudo: UdpPseudoHeader | undefined,
): string {
  if (pseudo === undefined) return `${srcPort} > ${dstPort}: ${text}`;
  return `${pseudo.family === 4 ? "IP" : "IP6"} ${endpoint(pseudo, "src", srcPort)} > ${
    endpoint(pseudo, "dst", dstPort)
  }: ${text}`;
}

/**
 * A zero-copy view of a UDP datagram (header and payload).
 *
 * @example
 * ```ts
 * import { UdpPacket } from "./udp.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(12);
 * const udp = UdpPacket.unchecked(bytes);
 * udp.srcPort = 5000;
 * udp.dstPort = 53;
 * udp.length = 12;
 * const pseudo = { family: 4, src: 0x0a000001, dst: 0x0a000002 } as const;
 * udp.fillChecksum(pseudo);
 * const checked = UdpPacket.check(bytes);
 * assert.ok(typeof checked !== "string" && checked.verifyChecksum(pseudo));
 * assert.equal(checked.toString(pseudo), "IP 10.0.0.1.5000 > 10.0.0.2.53: UDP, length 4");
 * ```
 */
export class UdpPacket {
  /** The bytes given to `check()`: the IP payload (may extend past `length`). */
  readonly bytes: Uint8Array;
  readonly #dv: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Validates the header and the length field against the bytes (RFC 768:
   * the length counts the header and the data, so it is at least 8).
   *
   * @param bytes The IP payload, cut at the IP total length.
   * @returns A view, or `"truncated"` (fewer than 8 bytes) or `"bad_length"`
   * (length below 8 or beyond the bytes).
   *
   * @example
   * ```ts
   * import { UdpPacket } from "./udp.ts";
   * import assert from "node:assert/strict";
   *
   * assert.equal(UdpPacket.check(new Uint8Array(7)), "truncated");
   * assert.equal(UdpPacket.check(new Uint8Array([0, 1, 0, 2, 0, 9, 0, 0])), "bad_length");
   * ```
   */
  static check(bytes: Uint8Array): UdpPacket | UdpDropReason {
    if (bytes.length < UDP_HEADER_LEN) return "truncated";
    const length = udpLength(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
    if (length < UDP_HEADER_LEN || length > bytes.length) return "bad_length";
    return new UdpPacket(bytes);
  }

  /**
   * A view without validation, for writing into a buffer sized with
   * {@linkcode udpBufferLen}.
   *
   * @param bytes The buffer.
   * @returns The view.
   *
   * @example
   * ```ts
   * import { UdpPacket } from "./udp.ts";
   * import assert from "node:assert/strict";
   *
   * const udp = UdpPacket.unchecked(new Uint8Array(8));
   * udp.dstPort = 53;
   * assert.equal(udp.bytes[3], 53);
   * ```
   */
  static unchecked(bytes: Uint8Array): UdpPacket {
    return new UdpPacket(bytes);
  }

  /** Source port. */
  get srcPort(): number {
    return udpSrcPort(this.#dv, 0);
  }
  set srcPort(value: number) {
    setUdpSrcPort(this.#dv, 0, value);
  }

  /** Destination port. */
  get dstPort(): number {
    return udpDstPort(this.#dv, 0);
  }
  set dstPort(value: number) {
    setUdpDstPort(this.#dv, 0, value);
  }

  /** Length field: header plus payload, in bytes. */
  get length(): number {
    return udpLength(this.#dv, 0);
  }
  set length(value: number) {
    setUdpLength(this.#dv, 0, value);
  }

  /** Checksum field (0: none was computed). */
  get checksum(): number {
    return udpChecksumField(this.#dv, 0);
  }
  set checksum(value: number) {
    setUdpChecksumField(this.#dv, 0, value);
  }

  /** The payload, up to the length field (a subarray). */
  get payload(): Uint8Array {
    return this.bytes.subarray(UDP_HEADER_LEN, this.length);
  }

  /**
   * Whether the checksum verifies: summed with the pseudo-header over the
   * first `length` bytes it gives 0xffff. A zero checksum field ("none") is
   * not verified here; see {@linkcode parseUdp} for its policy. No allocation.
   *
   * @param pseudo The IP addresses of the carrying header.
   * @returns `true` if the sum is correct.
   *
   * @example
   * ```ts
   * import { UdpPacket } from "./udp.ts";
   * import assert from "node:assert/strict";
   *
   * const udp = UdpPacket.unchecked(new Uint8Array([0, 7, 0, 7, 0, 8, 0, 0]));
   * const pseudo = { family: 4, src: 0x0a000001, dst: 0x0a000002 } as const;
   * udp.fillChecksum(pseudo);
   * assert.ok(udp.verifyChecksum(pseudo));
   * udp.dstPort = 9;
   * assert.ok(!udp.verifyChecksum(pseudo));
   * ```
   */
  verifyChecksum(pseudo: UdpPseudoHeader): boolean {
    const length = this.length;
    return sumBytes(this.bytes.subarray(0, length), pseudoSum(pseudo, length)) === 0xffff;
  }

  /**
   * Computes the checksum over the pseudo-header and the first `length`
   * bytes and writes it; a computed 0 is written as 0xffff (RFC 768).
   *
   * @param pseudo The IP addresses of the carrying header.
   *
   * @example
   * ```ts
   * import { UdpPacket } from "./udp.ts";
   * import assert from "node:assert/strict";
   *
   * const udp = UdpPacket.unchecked(new Uint8Array([0, 7, 0, 7, 0, 8, 0, 0]));
   * udp.fillChecksum({ family: 4, src: 0x0a000001, dst: 0x0a000002 });
   * assert.notEqual(udp.checksum, 0);
   * ```
   */
  fillChecksum(pseudo: UdpPseudoHeader): void {
    const length = this.length;
    setUdpChecksumField(this.#dv, 0, 0);
    setUdpChecksumField(
      this.#dv,
      0,
      udpChecksum(this.bytes.subarray(0, length), pseudoSum(pseudo, length)),
    );
  }

  /**
   * tcpdump style (`tcpdump -q`): with the carrying header's addresses
   * `IP 10.0.0.1.5000 > 10.0.0.2.53: UDP, length 12`, without them
   * `5000 > 53: UDP, length 12`. The length is the payload's. A length field
   * below 8 or past the bytes prints as `UDP, bad length N > M` (M: the
   * bytes present, header included).
   *
   * @param pseudo The IP addresses, if known.
   * @returns One line.
   *
   * @example
   * ```ts
   * import { UdpPacket } from "./udp.ts";
   * import assert from "node:assert/strict";
   *
   * const udp = UdpPacket.unchecked(new Uint8Array([0x13, 0x88, 0, 53, 0, 20, 0, 0]));
   * assert.equal(udp.toString(), "5000 > 53: UDP, bad length 20 > 8");
   * ```
   */
  toString(pseudo?: UdpPseudoHeader): string {
    const length = this.length;
    const text = length < UDP_HEADER_LEN || length > this.bytes.length
      ? `UDP, bad length ${length} > ${this.bytes.length}`
      : `UDP, length ${length - UDP_HEADER_LEN}`;
    return describe(this.srcPort, this.dstPort, text, pseudo);
  }
}

/**
 * The checksum field value for UDP data whose checksum field is zero:
 * the complemented sum of `bytes` plus `pseudoSum`, with 0 sent as 0xffff
 * (RFC 768). Hot path: no allocation.
 *
 * @param bytes The UDP header (checksum field zero) and payload.
 * @param pseudoSum A folded pseudo-header sum from `pseudoHeaderSumV4`/`V6`.
 * @returns The value to store, `1..0xffff`.
 *
 * @example
 * ```ts
 * import { udpChecksum } from "./udp.ts";
 * import assert from "node:assert/strict";
 *
 * // Data summing to 0xffff would complement to 0: it is sent as 0xffff.
 * assert.equal(udpChecksum(new Uint8Array([0xff, 0xff]), 0), 0xffff);
 * assert.equal(udpChecksum(new Uint8Array([0x12, 0x34]), 0), 0xedcb);
 * ```
 */
export function udpChecksum(bytes: Uint8Array, pseudoSum: number): number {
  const c = ~sumBytes(bytes, pseudoSum) & 0xffff;
  return c === 0 ? 0xffff : c;
}

/** A UDP header to emit, or one read by {@linkcode parseUdp}. */
export interface UdpRepr {
  /** Source port. */
  readonly srcPort: number;
  /** Destination port. */
  readonly dstPort: number;
  /** Payload length in bytes (the length field minus 8). */
  readonly payloadLength: number;
}

/** Options of {@linkcode parseUdp}. */
export interface ParseUdpOptions {
  /**
   * Verify the checksum (RFC 1122 §4.1.3.4: a datagram with a bad checksum
   * is silently discarded). Turn off for captures made with checksum offload.
   * Defaults to `true`.
   */
  readonly verifyChecksum?: boolean;
}

/**
 * Reads a checked datagram. Never throws. A zero checksum field means "no
 * checksum" and is accepted over IPv4 (RFC 768) but refused over IPv6
 * (`"zero_checksum"`, RFC 8200 §8.1), even when not verifying.
 *
 * @param p A view from {@linkcode UdpPacket.check}.
 * @param pseudo The IP addresses of the carrying header.
 * @param options `verifyChecksum` (default `true`).
 * @returns The header, or a drop reason.
 *
 * @example
 * ```ts
 * import { emitUdp, parseUdp, UdpPacket } from "./udp.ts";
 * import assert from "node:assert/strict";
 *
 * const pseudo = { family: 4, src: 0x0a000001, dst: 0x0a000002 } as const;
 * const bytes = new Uint8Array(10);
 * bytes.set([0x68, 0x69], 8); // payload "hi" first: the checksum covers it
 * emitUdp({ srcPort: 5000, dstPort: 7, payloadLength: 2 }, bytes, pseudo);
 * const p = UdpPacket.check(bytes);
 * assert.ok(typeof p !== "string");
 * assert.deepEqual(parseUdp(p, pseudo), { srcPort: 5000, dstPort: 7, payloadLength: 2 });
 * bytes[9] = 0x6f; // payload changed after the checksum
 * assert.equal(parseUdp(p, pseudo), "bad_checksum");
 * ```
 */
export function parseUdp(
  p: UdpPacket,
  pseudo: UdpPseudoHeader,
  options?: ParseUdpOptions,
): UdpRepr | UdpParseDropReason {
  if (p.checksum === 0) {
    if (pseudo.family === 6) return "zero_checksum";
  } else if (options?.verifyChecksum !== false && !p.verifyChecksum(pseudo)) {
    return "bad_checksum";
  }
  return {
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    payloadLength: p.length - UDP_HEADER_LEN,
  };
}

/**
 * Length of the datagram {@linkcode emitUdp} writes: 8 plus the payload.
 *
 * @param repr The header.
 * @returns The length in bytes.
 *
 * @example
 * ```ts
 * import { udpBufferLen } from "./udp.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(udpBufferLen({ srcPort: 1, dstPort: 2, payloadLength: 12 }), 20);
 * ```
 */
export function udpBufferLen(repr: UdpRepr): number {
  return UDP_HEADER_LEN + repr.payloadLength;
}

/**
 * Writes the header for `repr` into the first 8 bytes of `bytes` and the
 * checksum over it and the payload, which must already be in
 * `bytes.subarray(8, 8 + payloadLength)` (write it there first: no copy).
 * A computed 0 is written as 0xffff (RFC 768).
 *
 * @param repr The header.
 * @param bytes The datagram being built, at least {@linkcode udpBufferLen} bytes.
 * @param pseudo The IP addresses of the carrying header.
 * @throws {RangeError} If `bytes` is too short or the payload too long for
 * the 16-bit length field (caller bugs).
 *
 * @example
 * ```ts
 * import { emitUdp } from "./udp.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(8);
 * emitUdp({ srcPort: 1, dstPort: 2, payloadLength: 0 }, bytes, { family: 4, src: 1, dst: 2 });
 * assert.deepEqual([...bytes.subarray(0, 6)], [0, 1, 0, 2, 0, 8]);
 * ```
 */
export function emitUdp(repr: UdpRepr, bytes: Uint8Array, pseudo: UdpPseudoHeader): void {
  const length = UDP_HEADER_LEN + repr.payloadLength;
  if (length > 0xffff) {
    throw new RangeError(
      `Cannot emit a UDP datagram of ${length} bytes: the length field is 16 bits`,
    );
  }
  if (bytes.length < length) {
    throw new RangeError(`Cannot emit a ${length}-byte UDP datagram into ${bytes.length} bytes`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  setUdpSrcPort(dv, 0, repr.srcPort);
  setUdpDstPort(dv, 0, repr.dstPort);
  setUdpLength(dv, 0, length);
  setUdpChecksumField(dv, 0, 0);
  setUdpChecksumField(dv, 0, udpChecksum(bytes.subarray(0, length), pseudoSum(pseudo, length)));
}

/**
 * The tcpdump-style line of {@linkcode UdpPacket.toString} for a Repr.
 *
 * @param repr The header.
 * @param pseudo The IP addresses, if known.
 * @returns One line.
 *
 * @example
 * ```ts
 * import { formatUdpRepr } from "./udp.ts";
 * import assert from "node:assert/strict";
 *
 * const repr = { srcPort: 1060, dstPort: 53, payloadLength: 31 };
 * assert.equal(
 *   formatUdpRepr(repr, { family: 4, src: 0xc0a80072, dst: 0xcd982517 }),
 *   "IP 192.168.0.114.1060 > 205.152.37.23.53: UDP, length 31",
 * );
 * assert.equal(formatUdpRepr(repr), "1060 > 53: UDP, length 31");
 * ```
 */
export function formatUdpRepr(repr: UdpRepr, pseudo?: UdpPseudoHeader): string {
  return describe(repr.srcPort, repr.dstPort, `UDP, length ${repr.payloadLength}`, pseudo);
}
