/**
 * The Ethernet II header's fields (IEEE 802.3) and its 802.1Q tags: the one
 * reader and writer of them that the Ethernet plugin, the `EthernetFrame` view
 * and the decoder share. MAC addresses are 6-byte runs at
 * {@linkcode ETHERNET_DST_OFFSET} and {@linkcode ETHERNET_SRC_OFFSET}.
 *
 * Each function takes a `DataView` over the packet and the offset where the
 * header starts (`pkt.dv` and `pkt.start` in a plugin; a view or the
 * decoder makes one `DataView` per buffer) and reads or writes one field in
 * network byte order. V8 compiles a big-endian `getUint16`/`getUint32` to one
 * load and a byte swap, where byte-wise reads cost two to four checked loads.
 * They allocate nothing and check no bounds: the caller has checked the
 * header length first; out of range, `DataView` throws.
 *
 * @module
 */

/** Offset of the destination MAC address in the Ethernet header. */
export const ETHERNET_DST_OFFSET = 0;
/** Offset of the source MAC address in the Ethernet header. */
export const ETHERNET_SRC_OFFSET = 6;
/** The VLAN identifier bits of an 802.1Q tag's TCI. */
export const VLAN_ID_MASK = 0x0fff;

/**
 * EtherType (or the first VLAN tag's TPID) of the Ethernet header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ethernetEtherType } from "./ethernet_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 5, 0x5d, 0x21, 0x99, 0x4c, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 8, 0]); // dns_query_response.pcapng frame 1
 * const dv = new DataView(b.buffer);
 * assert.equal(ethernetEtherType(dv, 0), 2048);
 * ```
 */
export function ethernetEtherType(dv: DataView, off: number): number {
  return dv.getUint16(off + 12);
}

/**
 * Writes the etherType (or the first VLAN tag's TPID) of the Ethernet header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ethernetEtherType, setEthernetEtherType } from "./ethernet_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(14);
 * const dv = new DataView(b.buffer);
 * setEthernetEtherType(dv, 0, 2048);
 * assert.equal(ethernetEtherType(dv, 0), 2048);
 * ```
 */
export function setEthernetEtherType(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 12, value);
}

/**
 * Tag control information (priority, DEI, VLAN id) of the 802.1Q tag whose
 * TPID is at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { VLAN_ID_MASK, vlanTci } from "./ethernet_fields.ts";
 * import assert from "node:assert/strict";
 * const tag = new Uint8Array([0x81, 0x00, 0x20, 0x05, 0x08, 0x00]); // priority 1, VLAN 5, then IPv4
 * const tagView = new DataView(tag.buffer);
 * assert.equal(vlanTci(tagView, 0) & VLAN_ID_MASK, 5);
 * ```
 */
export function vlanTci(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/**
 * The EtherType (or the next tag's TPID) after the 802.1Q tag whose TPID is
 * at `off` (hot path).
 *
 * @example
 * ```ts
 * import { vlanEtherType } from "./ethernet_fields.ts";
 * import assert from "node:assert/strict";
 * const tag = new Uint8Array([0x81, 0x00, 0x20, 0x05, 0x08, 0x00]);
 * const tagView = new DataView(tag.buffer);
 * assert.equal(vlanEtherType(tagView, 0), 0x0800);
 * ```
 */
export function vlanEtherType(dv: DataView, off: number): number {
  return dv.getUint16(off + 4);
}
