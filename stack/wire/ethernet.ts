/**
 * Ethernet II frames (IEEE 802.3 clause 3.2.6 with an EtherType) with up to
 * two IEEE 802.1Q VLAN tags (`0x8100`, and `0x88a8` for 802.1ad QinQ). The
 * frame check sequence is not part of the bytes (TAP, pcap and AF_PACKET
 * strip it).
 *
 * View contract: after {@linkcode EthernetFrame.check} returns a view, no
 * accessor reads out of bounds. Writing a field that changes the layout (the
 * EtherType or a tag's TPID) invalidates that guarantee. The view never owns
 * or copies bytes: `dst`, `src` and `payload` are subarrays of the frame.
 *
 * Not supported: 802.3 length/LLC/SNAP frames (an EtherType below `0x0600`
 * is reported as is, and nothing binds it), more than two VLAN tags, the old
 * `0x9100` QinQ TPID.
 *
 * @module
 */
import { formatMac, isBroadcastMac, isMulticastMac, macToNumber } from "./address.ts";
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
} from "./numbers.ts";
import { readU16, writeU16 } from "./bytes.ts";
import {
  ETHERNET_DST_OFFSET,
  ETHERNET_SRC_OFFSET,
  ethernetEtherType,
  VLAN_ID_MASK,
  vlanEtherType,
  vlanTci,
} from "./ethernet_fields.ts";

/** Length of an untagged Ethernet II header: dst, src, EtherType. */
export const ETHERNET_HEADER_LEN = 14;
/** Length of one 802.1Q tag: TPID and TCI. */
export const VLAN_TAG_LEN = 4;
export { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_VLAN };

/** Why {@linkcode EthernetFrame.check} refused a frame. */
export type EthernetDropReason = "truncated" | "too_many_vlan_tags";

function isTpid(type: number): boolean {
  return type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ;
}

/**
 * The name tcpdump gives an EtherType: `IPv4`, `ARP`, `IPv6`, `802.1Q`,
 * `802.1Q-QinQ`, or `Unknown`.
 *
 * @param etherType The EtherType.
 * @returns The name.
 *
 * @example
 * ```ts
 * import { etherTypeName } from "./ethernet.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(etherTypeName(0x0806), "ARP");
 * assert.equal(etherTypeName(0x88cc), "Unknown");
 * ```
 */
export function etherTypeName(etherType: number): string {
  switch (etherType) {
    case ETHERTYPE_IPV4:
      return "IPv4";
    case ETHERTYPE_ARP:
      return "ARP";
    case ETHERTYPE_IPV6:
      return "IPv6";
    case ETHERTYPE_VLAN:
      return "802.1Q";
    case ETHERTYPE_QINQ:
      return "802.1Q-QinQ";
    default:
      return "Unknown";
  }
}

function hex4(n: number): string {
  return "0x" + n.toString(16).padStart(4, "0");
}

/**
 * A zero-copy view of an Ethernet II frame, optionally VLAN tagged.
 *
 * @example Reading an ARP request frame
 * ```ts
 * import { ETHERTYPE_ARP, EthernetFrame } from "./ethernet.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(42);
 * bytes.fill(0xff, 0, 6); // dst: broadcast
 * bytes.set([0x02, 0, 0, 0, 0, 1], 6); // src
 * bytes.set([0x08, 0x06], 12); // EtherType ARP
 * const frame = EthernetFrame.check(bytes);
 * assert.ok(typeof frame !== "string");
 * assert.equal(frame.etherType, ETHERTYPE_ARP);
 * assert.ok(frame.dstIsBroadcast);
 * assert.equal(frame.payload.length, 28);
 * ```
 */
export class EthernetFrame {
  /** The whole frame (a subarray of the packet buffer). */
  readonly bytes: Uint8Array;
  readonly #dv: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Validates that the header and its VLAN tags fit in `bytes`.
   *
   * @param bytes The frame, without FCS.
   * @returns A view whose accessors stay in bounds, or a drop reason:
   * `"truncated"` if the header or a tag is cut short, `"too_many_vlan_tags"`
   * if a third tag follows two.
   *
   * @example
   * ```ts
   * import { EthernetFrame } from "./ethernet.ts";
   * import assert from "node:assert/strict";
   *
   * assert.equal(EthernetFrame.check(new Uint8Array(13)), "truncated");
   * const tagged = new Uint8Array(17);
   * tagged.set([0x81, 0x00], 12); // a tag that does not fit
   * assert.equal(EthernetFrame.check(tagged), "truncated");
   * ```
   */
  static check(bytes: Uint8Array): EthernetFrame | EthernetDropReason {
    const n = bytes.length;
    if (n < ETHERNET_HEADER_LEN) return "truncated";
    const frame = new EthernetFrame(bytes);
    if (!isTpid(ethernetEtherType(frame.#dv, 0))) return frame;
    if (n < ETHERNET_HEADER_LEN + VLAN_TAG_LEN) return "truncated";
    if (!isTpid(vlanEtherType(frame.#dv, 12))) return frame;
    if (n < ETHERNET_HEADER_LEN + 2 * VLAN_TAG_LEN) return "truncated";
    if (isTpid(vlanEtherType(frame.#dv, 16))) return "too_many_vlan_tags";
    return frame;
  }

  /**
   * A view without validation, for writing a header into a buffer sized with
   * {@linkcode ethernetHeaderLength}.
   *
   * @param bytes The buffer.
   * @returns The view.
   *
   * @example
   * ```ts
   * import { EthernetFrame } from "./ethernet.ts";
   * import assert from "node:assert/strict";
   *
   * const frame = EthernetFrame.unchecked(new Uint8Array(14));
   * frame.etherType = 0x0800;
   * assert.deepEqual([...frame.bytes.subarray(12)], [0x08, 0x00]);
   * ```
   */
  static unchecked(bytes: Uint8Array): EthernetFrame {
    return new EthernetFrame(bytes);
  }

  /**
   * Destination MAC address (a 6-byte subarray). Setting copies the first 6
   * bytes of the value in.
   */
  get dst(): Uint8Array {
    return this.bytes.subarray(0, 6);
  }
  set dst(mac: Uint8Array) {
    this.bytes.set(mac.subarray(0, 6), 0);
  }

  /**
   * Source MAC address (a 6-byte subarray). Setting copies the first 6 bytes
   * of the value in.
   */
  get src(): Uint8Array {
    return this.bytes.subarray(6, 12);
  }
  set src(mac: Uint8Array) {
    this.bytes.set(mac.subarray(0, 6), 6);
  }

  /** Destination MAC as a 48-bit number (for `Map` keys), no allocation. */
  get dstNumber(): number {
    return macToNumber(this.bytes, 0);
  }

  /** Source MAC as a 48-bit number (for `Map` keys), no allocation. */
  get srcNumber(): number {
    return macToNumber(this.bytes, 6);
  }

  /** Whether the destination is `ff:ff:ff:ff:ff:ff`. */
  get dstIsBroadcast(): boolean {
    return isBroadcastMac(this.bytes, 0);
  }

  /** Whether the destination is a group address (multicast or broadcast). */
  get dstIsMulticast(): boolean {
    return isMulticastMac(this.bytes, 0);
  }

  /** Number of VLAN tags: 0, 1 or 2. */
  get vlanTagCount(): number {
    if (!isTpid(ethernetEtherType(this.#dv, 0))) return 0;
    return isTpid(vlanEtherType(this.#dv, 12)) ? 2 : 1;
  }

  /** Header length including tags: 14, 18 or 22. */
  get headerLength(): number {
    return ETHERNET_HEADER_LEN + VLAN_TAG_LEN * this.vlanTagCount;
  }

  /**
   * The EtherType of the payload (after any VLAN tags). Setting writes the
   * field where the current tags put it.
   */
  get etherType(): number {
    return readU16(this.bytes, this.headerLength - 2);
  }
  set etherType(value: number) {
    writeU16(this.bytes, this.headerLength - 2, value);
  }

  /**
   * VLAN ID (12 bits) of the outer tag, or `undefined` if untagged. Setting
   * rewrites the VID of an existing outer tag and keeps its PCP and DEI.
   */
  get vlanId(): number | undefined {
    return this.vlanTagCount > 0 ? vlanTci(this.#dv, 12) & VLAN_ID_MASK : undefined;
  }
  set vlanId(value: number) {
    writeU16(this.bytes, 14, (vlanTci(this.#dv, 12) & 0xf000) | (value & VLAN_ID_MASK));
  }

  /** Priority code point (3 bits) of the outer tag, or `undefined` if untagged. */
  get vlanPriority(): number | undefined {
    return this.vlanTagCount > 0 ? vlanTci(this.#dv, 12) >>> 13 : undefined;
  }

  /**
   * VLAN ID of the inner tag of a double-tagged (QinQ) frame, or `undefined`.
   * Setting rewrites the VID of an existing inner tag.
   */
  get innerVlanId(): number | undefined {
    return this.vlanTagCount === 2 ? vlanTci(this.#dv, 16) & VLAN_ID_MASK : undefined;
  }
  set innerVlanId(value: number) {
    writeU16(this.bytes, 18, (vlanTci(this.#dv, 16) & 0xf000) | (value & VLAN_ID_MASK));
  }

  /** Everything after the header, including any Ethernet padding. */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength);
  }

  /**
   * tcpdump `-e` style: `src > dst, [vlan N, p P, ]ethertype NAME (0xNNNN), length L`.
   *
   * @returns One line.
   *
   * @example
   * ```ts
   * import { EthernetFrame } from "./ethernet.ts";
   * import assert from "node:assert/strict";
   *
   * const bytes = new Uint8Array(60);
   * bytes.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
   * assert.equal(
   *   EthernetFrame.unchecked(bytes).toString(),
   *   "02:00:00:00:00:01 > 02:00:00:00:00:02, vlan 5, p 0, ethertype IPv4 (0x0800), length 60",
   * );
   * ```
   */
  toString(): string {
    let out = `${formatMac(this.bytes, 6)} > ${formatMac(this.bytes, 0)}, `;
    const tags = this.vlanTagCount;
    for (let k = 0; k < tags; k++) {
      const tci = vlanTci(this.#dv, 12 + VLAN_TAG_LEN * k);
      out += `vlan ${tci & 0xfff}, p ${tci >>> 13}, `;
    }
    const type = this.etherType;
    return out + `ethertype ${etherTypeName(type)} (${hex4(type)}), length ${this.bytes.length}`;
  }
}

/**
 * The parsed header. `src` and `dst` borrow the frame's bytes: copy them to
 * keep them past `receive()`. The PCP and DEI bits of tags are not part of
 * it (emit writes 0).
 */
export interface EthernetRepr {
  /** Source MAC, 6 bytes. */
  readonly src: Uint8Array;
  /** Destination MAC, 6 bytes. */
  readonly dst: Uint8Array;
  /** EtherType of the payload. */
  readonly etherType: number;
  /** VLAN ID of the outer (or only) tag; absent when untagged. */
  readonly vlanId?: number;
  /** VLAN ID of the inner tag of a QinQ frame; only with `vlanId`. */
  readonly innerVlanId?: number;
}

/**
 * Reads the header of a checked frame. Never fails and never throws.
 *
 * @param frame A view from {@linkcode EthernetFrame.check}.
 * @returns The header; `src` and `dst` are subarrays of the frame.
 *
 * @example
 * ```ts
 * import { EthernetFrame, parseEthernet } from "./ethernet.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(18);
 * bytes.set([0x81, 0x00, 0x00, 0x07, 0x08, 0x06], 12);
 * const frame = EthernetFrame.check(bytes);
 * assert.ok(typeof frame !== "string");
 * const repr = parseEthernet(frame);
 * assert.equal(repr.etherType, 0x0806);
 * assert.equal(repr.vlanId, 7);
 * ```
 */
export function parseEthernet(frame: EthernetFrame): EthernetRepr {
  const src = frame.src;
  const dst = frame.dst;
  const etherType = frame.etherType;
  const vlanId = frame.vlanId;
  if (vlanId === undefined) return { src, dst, etherType };
  const innerVlanId = frame.innerVlanId;
  if (innerVlanId === undefined) return { src, dst, etherType, vlanId };
  return { src, dst, etherType, vlanId, innerVlanId };
}

/**
 * Length of the header {@linkcode emitEthernet} writes for `repr`: 14, or 18
 * with `vlanId`, or 22 with `vlanId` and `innerVlanId`.
 *
 * @param repr The header to emit.
 * @returns The length in bytes.
 *
 * @example
 * ```ts
 * import { ethernetHeaderLength } from "./ethernet.ts";
 * import assert from "node:assert/strict";
 *
 * const mac = new Uint8Array(6);
 * assert.equal(ethernetHeaderLength({ src: mac, dst: mac, etherType: 0x0800 }), 14);
 * assert.equal(ethernetHeaderLength({ src: mac, dst: mac, etherType: 0x0800, vlanId: 5 }), 18);
 * ```
 */
export function ethernetHeaderLength(repr: EthernetRepr): number {
  if (repr.vlanId === undefined) return ETHERNET_HEADER_LEN;
  return repr.innerVlanId === undefined
    ? ETHERNET_HEADER_LEN + VLAN_TAG_LEN
    : ETHERNET_HEADER_LEN + 2 * VLAN_TAG_LEN;
}

/**
 * Writes the header for `repr` into the first
 * {@linkcode ethernetHeaderLength}`(repr)` bytes of `bytes`. One tag is
 * written with TPID `0x8100`; two as `0x88a8` (outer) then `0x8100`. PCP and
 * DEI are 0. Never throws when `bytes` is at least that long (a shorter buffer
 * is a caller bug and throws `RangeError`).
 *
 * @param repr The header.
 * @param bytes The buffer, e.g. the start of a frame about to be sent.
 *
 * @example
 * ```ts
 * import { emitEthernet, ETHERTYPE_IPV4 } from "./ethernet.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(18);
 * const mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
 * emitEthernet({ src: mac, dst: mac, etherType: ETHERTYPE_IPV4, vlanId: 5 }, bytes);
 * assert.deepEqual([...bytes.subarray(12)], [0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
 * ```
 */
export function emitEthernet(repr: EthernetRepr, bytes: Uint8Array): void {
  bytes.set(repr.dst.subarray(0, 6), ETHERNET_DST_OFFSET);
  bytes.set(repr.src.subarray(0, 6), ETHERNET_SRC_OFFSET);
  let at = 12;
  if (repr.vlanId !== undefined) {
    if (repr.innerVlanId !== undefined) {
      writeU16(bytes, at, ETHERTYPE_QINQ);
      writeU16(bytes, at + 2, repr.vlanId & VLAN_ID_MASK);
      writeU16(bytes, at + 4, ETHERTYPE_VLAN);
      writeU16(bytes, at + 6, repr.innerVlanId & VLAN_ID_MASK);
      at += 2 * VLAN_TAG_LEN;
    } else {
      writeU16(bytes, at, ETHERTYPE_VLAN);
      writeU16(bytes, at + 2, repr.vlanId & VLAN_ID_MASK);
      at += VLAN_TAG_LEN;
    }
  }
  writeU16(bytes, at, repr.etherType);
}

/**
 * tcpdump `-e` style line for a header: `src > dst, [vlan N, ]ethertype NAME (0xNNNN)`.
 *
 * @param repr The header.
 * @returns One line.
 *
 * @example
 * ```ts
 * import { formatEthernetRepr } from "./ethernet.ts";
 * import assert from "node:assert/strict";
 *
 * const a = new Uint8Array([2, 0, 0, 0, 0, 1]);
 * const b = new Uint8Array([2, 0, 0, 0, 0, 2]);
 * assert.equal(
 *   formatEthernetRepr({ src: a, dst: b, etherType: 0x0806 }),
 *   "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype ARP (0x0806)",
 * );
 * ```
 */
export function formatEthernetRepr(repr: EthernetRepr): string {
  let out = `${formatMac(repr.src)} > ${formatMac(repr.dst)}, `;
  if (repr.vlanId !== undefined) {
    out += `vlan ${repr.vlanId}, `;
    if (repr.innerVlanId !== undefined) out += `vlan ${repr.innerVlanId}, `;
  }
  return out + `ethertype ${etherTypeName(repr.etherType)} (${hex4(repr.etherType)})`;
}
