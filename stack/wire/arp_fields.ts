/**
 * The ARP packet's fields (RFC 826) for Ethernet and IPv4: the one reader
 * and writer of them that the `ArpPacket` view (which the ARP plugin uses) and
 * the decoder share. Addresses of other lengths are not at these offsets.
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

/** Offset of the sender hardware address in an Ethernet/IPv4 ARP packet. */
export const ARP_SENDER_MAC_OFFSET = 8;
/** Offset of the target hardware address in an Ethernet/IPv4 ARP packet. */
export const ARP_TARGET_MAC_OFFSET = 18;

/**
 * Hardware type (1: Ethernet) of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpHardwareType } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * const dv = new DataView(b.buffer);
 * assert.equal(arpHardwareType(dv, 0), 1);
 * ```
 */
export function arpHardwareType(dv: DataView, off: number): number {
  return dv.getUint16(off);
}

/**
 * Writes the hardware type (1: Ethernet) of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpHardwareType, setArpHardwareType } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * setArpHardwareType(dv, 0, 1);
 * assert.equal(arpHardwareType(dv, 0), 1);
 * ```
 */
export function setArpHardwareType(dv: DataView, off: number, value: number): void {
  dv.setUint16(off, value);
}

/**
 * Protocol type (0x0800: IPv4) of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpProtocolType } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * const dv = new DataView(b.buffer);
 * assert.equal(arpProtocolType(dv, 0), 2048);
 * ```
 */
export function arpProtocolType(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/**
 * Writes the protocol type (0x0800: IPv4) of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpProtocolType, setArpProtocolType } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * setArpProtocolType(dv, 0, 2048);
 * assert.equal(arpProtocolType(dv, 0), 2048);
 * ```
 */
export function setArpProtocolType(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 2, value);
}

/**
 * Hardware address length of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpHardwareLength } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * const dv = new DataView(b.buffer);
 * assert.equal(arpHardwareLength(dv, 0), 6);
 * ```
 */
export function arpHardwareLength(dv: DataView, off: number): number {
  return dv.getUint8(off + 4);
}

/**
 * Writes the hardware address length of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpHardwareLength, setArpHardwareLength } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * setArpHardwareLength(dv, 0, 6);
 * assert.equal(arpHardwareLength(dv, 0), 6);
 * ```
 */
export function setArpHardwareLength(dv: DataView, off: number, value: number): void {
  dv.setUint8(off + 4, value);
}

/**
 * Protocol address length of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpProtocolLength } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * const dv = new DataView(b.buffer);
 * assert.equal(arpProtocolLength(dv, 0), 4);
 * ```
 */
export function arpProtocolLength(dv: DataView, off: number): number {
  return dv.getUint8(off + 5);
}

/**
 * Writes the protocol address length of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpProtocolLength, setArpProtocolLength } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * setArpProtocolLength(dv, 0, 4);
 * assert.equal(arpProtocolLength(dv, 0), 4);
 * ```
 */
export function setArpProtocolLength(dv: DataView, off: number, value: number): void {
  dv.setUint8(off + 5, value);
}

/**
 * Operation (1 request, 2 reply) of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpOperation } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * const dv = new DataView(b.buffer);
 * assert.equal(arpOperation(dv, 0), 1);
 * ```
 */
export function arpOperation(dv: DataView, off: number): number {
  return dv.getUint16(off + 6);
}

/**
 * Writes the operation (1 request, 2 reply) of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpOperation, setArpOperation } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * setArpOperation(dv, 0, 1);
 * assert.equal(arpOperation(dv, 0), 1);
 * ```
 */
export function setArpOperation(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 6, value);
}

/**
 * Sender IPv4 address (Ethernet/IPv4 layout) of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpSenderIp } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * const dv = new DataView(b.buffer);
 * assert.equal(arpSenderIp(dv, 0), 0xc0a80072);
 * ```
 */
export function arpSenderIp(dv: DataView, off: number): number {
  return dv.getUint32(off + 14);
}

/**
 * Writes the sender IPv4 address (Ethernet/IPv4 layout) of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpSenderIp, setArpSenderIp } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * setArpSenderIp(dv, 0, 0xc0a80072);
 * assert.equal(arpSenderIp(dv, 0), 0xc0a80072);
 * ```
 */
export function setArpSenderIp(dv: DataView, off: number, value: number): void {
  dv.setUint32(off + 14, value);
}

/**
 * Target IPv4 address (Ethernet/IPv4 layout) of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpTargetIp } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * const dv = new DataView(b.buffer);
 * assert.equal(arpTargetIp(dv, 0), 0xc0a80001);
 * ```
 */
export function arpTargetIp(dv: DataView, off: number): number {
  return dv.getUint32(off + 24);
}

/**
 * Writes the target IPv4 address (Ethernet/IPv4 layout) of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpTargetIp, setArpTargetIp } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * setArpTargetIp(dv, 0, 0xc0a80001);
 * assert.equal(arpTargetIp(dv, 0), 0xc0a80001);
 * ```
 */
export function setArpTargetIp(dv: DataView, off: number, value: number): void {
  dv.setUint32(off + 24, value);
}
