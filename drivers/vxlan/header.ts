/**
 * The VXLAN header (RFC 7348 §5): 8 bytes in front of an Ethernet frame,
 * carried in UDP (destination port 4789).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|R|R|I|R|R|R|            Reserved                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * View contract: after {@linkcode VxlanPacket.check} no accessor reads out
 * of bounds. Reserved bits are written as zero and ignored on receipt
 * (RFC 7348 §5); a header without the I flag is invalid.
 *
 * @module
 */

/** Bytes of the VXLAN header. */
export const VXLAN_HEADER_LEN = 8;
/** The IANA UDP port (RFC 7348 §5). */
export const VXLAN_PORT = 4789;
/** The I flag: the VNI is valid. */
export const VXLAN_FLAG_I = 0x08;
/** Largest VNI (24 bits). */
export const VXLAN_VNI_MAX = 0xffffff;
/**
 * Bytes VXLAN adds on an IPv4 underlay: outer IPv4 (20) + UDP (8) + VXLAN (8)
 * + the inner Ethernet header (14). An underlay MTU of 1500 leaves 1450 for
 * the inner IP packet; on an IPv6 underlay add 20 more (1430).
 */
export const VXLAN_OVERHEAD = 50;

/** Why a VXLAN datagram was dropped. */
export type VxlanDropReason = "vxlan.truncated" | "vxlan.no_i_flag" | "vxlan.inner_truncated";

/** A parsed VXLAN header. */
export interface VxlanRepr {
  /** The VXLAN Network Identifier, 0..2^24-1. */
  readonly vni: number;
}

/**
 * A view of a VXLAN datagram (header and inner frame); never copies.
 *
 * @example
 * ```ts
 * import { VxlanPacket } from "./header.ts";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([0x08, 0, 0, 0, 0x00, 0x00, 0x2a, 0, ...new Array(14).fill(0)]);
 * const p = VxlanPacket.check(bytes);
 * assert.ok(p instanceof VxlanPacket);
 * assert.equal(p.vni, 42);
 * assert.equal(p.payload.length, 14);
 * ```
 */
export class VxlanPacket {
  /** Exactly this datagram. */
  readonly bytes: Uint8Array;
  readonly #dv: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** A view whose accessors cannot read out of bounds, or why not. */
  static check(bytes: Uint8Array): VxlanPacket | "vxlan.truncated" {
    if (bytes.length < VXLAN_HEADER_LEN) return "vxlan.truncated";
    return new VxlanPacket(bytes);
  }

  /** For emission into a buffer of at least {@linkcode VXLAN_HEADER_LEN} bytes. */
  static unchecked(bytes: Uint8Array): VxlanPacket {
    return new VxlanPacket(bytes);
  }

  /** The flags byte. */
  get flags(): number {
    return this.#dv.getUint8(0);
  }
  set flags(v: number) {
    this.#dv.setUint8(0, v);
  }

  /** The 24-bit VNI. */
  get vni(): number {
    return this.#dv.getUint32(4) >>> 8;
  }
  set vni(v: number) {
    this.#dv.setUint32(4, (v << 8) >>> 0);
  }

  /** The inner Ethernet frame. */
  get payload(): Uint8Array {
    return this.bytes.subarray(VXLAN_HEADER_LEN);
  }

  /** tcpdump style: `VXLAN, flags [I] (0x08), vni 42`. */
  toString(): string {
    const f = this.flags;
    return `VXLAN, flags [${(f & VXLAN_FLAG_I) !== 0 ? "I" : "."}] (0x${
      f.toString(16).padStart(2, "0")
    }), vni ${this.vni}`;
  }
}

/**
 * The header's fields, or why the datagram must be dropped. Never throws.
 *
 * @example
 * ```ts
 * import { parseVxlan, VxlanPacket } from "./header.ts";
 * import assert from "node:assert/strict";
 * const p = VxlanPacket.check(new Uint8Array(8)) as VxlanPacket;
 * assert.equal(parseVxlan(p), "vxlan.no_i_flag");
 * ```
 */
export function parseVxlan(
  p: VxlanPacket,
): VxlanRepr | Exclude<VxlanDropReason, "vxlan.truncated"> {
  if ((p.flags & VXLAN_FLAG_I) === 0) return "vxlan.no_i_flag";
  if (p.bytes.length < VXLAN_HEADER_LEN + 14) return "vxlan.inner_truncated";
  return { vni: p.vni };
}

/**
 * Writes the header for `r` into `p` (flags I, reserved fields zero).
 *
 * @example
 * ```ts
 * import { emitVxlan, VxlanPacket } from "./header.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8).fill(0xff);
 * emitVxlan({ vni: 0x123456 }, VxlanPacket.unchecked(b));
 * assert.deepEqual([...b], [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
 * ```
 */
export function emitVxlan(r: VxlanRepr, p: VxlanPacket): void {
  p.bytes.fill(0, 0, VXLAN_HEADER_LEN);
  p.flags = VXLAN_FLAG_I;
  p.vni = r.vni;
}
