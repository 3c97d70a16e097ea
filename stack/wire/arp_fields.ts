/**
 * The ARP packet's fields (RFC 826) for Ethernet and IPv4: the one reader
 * and writer of them that the `ArpPacket` view (which the ARP plugin uses) and
 * the decoder share. Addresses of other lengths are not at these offsets.
 *
 * Each function takes the packet's bytes and the offset where the header
 * starts (`pkt.buf` and `pkt.start` in a plugin, a subarray and 0 in a view)
 * and reads or writes one field in network byte order. They allocate nothing
 * and check no bounds: the caller has checked the length first.
 *
 * @module
 */
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

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
 * assert.equal(arpHardwareType(b, 0), 1);
 * ```
 */
export function arpHardwareType(b: Uint8Array, off: number): number {
  return readU16(b, off);
}

/**
 * Writes the hardware type (1: Ethernet) of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpHardwareType, setArpHardwareType } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * setArpHardwareType(b, 0, 1);
 * assert.equal(arpHardwareType(b, 0), 1);
 * ```
 */
export function setArpHardwareType(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off, value);
}

/**
 * Protocol type (0x0800: IPv4) of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpProtocolType } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * assert.equal(arpProtocolType(b, 0), 2048);
 * ```
 */
export function arpProtocolType(b: Uint8Array, off: number): number {
  return readU16(b, off + 2);
}

/**
 * Writes the protocol type (0x0800: IPv4) of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpProtocolType, setArpProtocolType } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * setArpProtocolType(b, 0, 2048);
 * assert.equal(arpProtocolType(b, 0), 2048);
 * ```
 */
export function setArpProtocolType(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 2, value);
}

/**
 * Hardware address length of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpHardwareLength } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * assert.equal(arpHardwareLength(b, 0), 6);
 * ```
 */
export function arpHardwareLength(b: Uint8Array, off: number): number {
  return b[off + 4]!;
}

/**
 * Writes the hardware address length of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpHardwareLength, setArpHardwareLength } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * setArpHardwareLength(b, 0, 6);
 * assert.equal(arpHardwareLength(b, 0), 6);
 * ```
 */
export function setArpHardwareLength(b: Uint8Array, off: number, value: number): void {
  b[off + 4] = value;
}

/**
 * Protocol address length of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpProtocolLength } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * assert.equal(arpProtocolLength(b, 0), 4);
 * ```
 */
export function arpProtocolLength(b: Uint8Array, off: number): number {
  return b[off + 5]!;
}

/**
 * Writes the protocol address length of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpProtocolLength, setArpProtocolLength } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * setArpProtocolLength(b, 0, 4);
 * assert.equal(arpProtocolLength(b, 0), 4);
 * ```
 */
export function setArpProtocolLength(b: Uint8Array, off: number, value: number): void {
  b[off + 5] = value;
}

/**
 * Operation (1 request, 2 reply) of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpOperation } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * assert.equal(arpOperation(b, 0), 1);
 * ```
 */
export function arpOperation(b: Uint8Array, off: number): number {
  return readU16(b, off + 6);
}

/**
 * Writes the operation (1 request, 2 reply) of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpOperation, setArpOperation } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * setArpOperation(b, 0, 1);
 * assert.equal(arpOperation(b, 0), 1);
 * ```
 */
export function setArpOperation(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 6, value);
}

/**
 * Sender IPv4 address (Ethernet/IPv4 layout) of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpSenderIp } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * assert.equal(arpSenderIp(b, 0), 0xc0a80072);
 * ```
 */
export function arpSenderIp(b: Uint8Array, off: number): number {
  return readU32(b, off + 14);
}

/**
 * Writes the sender IPv4 address (Ethernet/IPv4 layout) of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpSenderIp, setArpSenderIp } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * setArpSenderIp(b, 0, 0xc0a80072);
 * assert.equal(arpSenderIp(b, 0), 0xc0a80072);
 * ```
 */
export function setArpSenderIp(b: Uint8Array, off: number, value: number): void {
  writeU32(b, off + 14, value);
}

/**
 * Target IPv4 address (Ethernet/IPv4 layout) of the ARP packet at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { arpTargetIp } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0, 0x72, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0, 1]); // arp_resolution.pcapng: who-has 192.168.0.1 tell 192.168.0.114
 * assert.equal(arpTargetIp(b, 0), 0xc0a80001);
 * ```
 */
export function arpTargetIp(b: Uint8Array, off: number): number {
  return readU32(b, off + 24);
}

/**
 * Writes the target IPv4 address (Ethernet/IPv4 layout) of the ARP packet at `off` (hot path).
 *
 * @example
 * ```ts
 * import { arpTargetIp, setArpTargetIp } from "./arp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * setArpTargetIp(b, 0, 0xc0a80001);
 * assert.equal(arpTargetIp(b, 0), 0xc0a80001);
 * ```
 */
export function setArpTargetIp(b: Uint8Array, off: number, value: number): void {
  writeU32(b, off + 24, value);
}
