/**
 * ARP (RFC 826) for IPv4 over Ethernet: the only combination accepted is
 * hardware type 1 with 6-byte addresses and protocol `0x0800` with 4-byte
 * addresses.
 *
 * View contract: after {@linkcode ArpPacket.check} returns a view, no accessor
 * reads out of bounds. Writing the hardware or protocol length fields
 * invalidates that guarantee (the accessors keep the fixed Ethernet/IPv4
 * offsets). The view never owns or copies bytes.
 *
 * Not supported: other hardware or protocol types, RARP (RFC 903) and InARP
 * (RFC 2390) operations (the view reads them; {@linkcode parseArp} refuses
 * them).
 *
 * @module
 */
import { formatIpv4Address, formatMac } from "./address.ts";
import {
  ARP_SENDER_MAC_OFFSET,
  ARP_TARGET_MAC_OFFSET,
  arpHardwareLength,
  arpHardwareType,
  arpOperation,
  arpProtocolLength,
  arpProtocolType,
  arpSenderIp,
  arpTargetIp,
  setArpHardwareLength,
  setArpHardwareType,
  setArpOperation,
  setArpProtocolLength,
  setArpProtocolType,
  setArpSenderIp,
  setArpTargetIp,
} from "./arp_fields.ts";

/** Length of an Ethernet/IPv4 ARP packet (without Ethernet padding). */
export const ARP_PACKET_LEN = 28;
/** ARP hardware type of Ethernet. */
export const ARP_HARDWARE_ETHERNET = 1;
/** ARP protocol type of IPv4 (the IPv4 EtherType). */
export const ARP_PROTOCOL_IPV4 = 0x0800;
/** ARP operation: request (who-has). */
export const ARP_OPERATION_REQUEST = 1;
/** ARP operation: reply (is-at). */
export const ARP_OPERATION_REPLY = 2;

/** Why {@linkcode ArpPacket.check} refused a packet. */
export type ArpDropReason = "truncated" | "unsupported_hardware" | "unsupported_protocol";
/** Why {@linkcode parseArp} refused a checked packet. */
export type ArpParseDropReason = "unsupported_operation";

const OPERATION_NAMES: Readonly<Record<number, string>> = {
  3: "Reverse Request",
  4: "Reverse Reply",
  8: "Inverse Request",
  9: "Inverse Reply",
};

function isZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** The tcpdump text shared by the view and the Repr (internal: five positional arguments). */
function describe(
  operation: number,
  senderMac: Uint8Array,
  senderIp: number,
  targetMac: Uint8Array,
  targetIp: number,
): string {
  if (operation === ARP_OPERATION_REQUEST) {
    // tcpdump shows a non-zero target MAC in a request in parentheses.
    const tha = isZero(targetMac, 0, 6) ? "" : ` (${formatMac(targetMac)})`;
    return `ARP, Request who-has ${formatIpv4Address(targetIp)}${tha} tell ${
      formatIpv4Address(senderIp)
    }`;
  }
  if (operation === ARP_OPERATION_REPLY) {
    return `ARP, Reply ${formatIpv4Address(senderIp)} is-at ${formatMac(senderMac)}`;
  }
  const name = OPERATION_NAMES[operation] ?? `op ${operation}`;
  return `ARP, ${name} ${formatIpv4Address(senderIp)} > ${formatIpv4Address(targetIp)}`;
}

/**
 * A zero-copy view of an Ethernet/IPv4 ARP packet.
 *
 * @example
 * ```ts
 * import { ArpPacket } from "./arp.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([
 *   0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // Ethernet/IPv4, request
 *   0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1, // sender
 *   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2, // target
 * ]);
 * const arp = ArpPacket.check(bytes);
 * assert.ok(typeof arp !== "string");
 * assert.equal(arp.targetIp, 0x0a000002);
 * assert.equal(arp.toString(), "ARP, Request who-has 10.0.0.2 tell 10.0.0.1");
 * ```
 */
export class ArpPacket {
  /** The packet; may include trailing Ethernet padding past 28 bytes. */
  readonly bytes: Uint8Array;
  readonly #dv: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Validates the fixed header and the length.
   *
   * @param bytes The Ethernet payload.
   * @returns A view whose accessors stay in bounds, or a drop reason:
   * `"unsupported_hardware"` unless hardware type 1 with length 6,
   * `"unsupported_protocol"` unless protocol `0x0800` with length 4,
   * `"truncated"` if shorter than the header or than 28 bytes.
   *
   * @example
   * ```ts
   * import { ArpPacket } from "./arp.ts";
   * import assert from "node:assert/strict";
   *
   * assert.equal(ArpPacket.check(new Uint8Array(7)), "truncated");
   * assert.equal(ArpPacket.check(new Uint8Array(28)), "unsupported_hardware");
   * ```
   */
  static check(bytes: Uint8Array): ArpPacket | ArpDropReason {
    if (bytes.length < 8) return "truncated";
    const p = new ArpPacket(bytes);
    if (p.hardwareType !== ARP_HARDWARE_ETHERNET || p.hardwareLength !== 6) {
      return "unsupported_hardware";
    }
    if (p.protocolType !== ARP_PROTOCOL_IPV4 || p.protocolLength !== 4) {
      return "unsupported_protocol";
    }
    if (bytes.length < ARP_PACKET_LEN) return "truncated";
    return p;
  }

  /**
   * A view without validation, for writing into a buffer of at least
   * {@linkcode ARP_PACKET_LEN} bytes.
   *
   * @param bytes The buffer.
   * @returns The view.
   *
   * @example
   * ```ts
   * import { ArpPacket } from "./arp.ts";
   * import assert from "node:assert/strict";
   *
   * const arp = ArpPacket.unchecked(new Uint8Array(28));
   * arp.operation = 2;
   * assert.equal(arp.bytes[7], 2);
   * ```
   */
  static unchecked(bytes: Uint8Array): ArpPacket {
    return new ArpPacket(bytes);
  }

  /** Hardware type (1 for Ethernet). */
  get hardwareType(): number {
    return arpHardwareType(this.#dv, 0);
  }
  set hardwareType(value: number) {
    setArpHardwareType(this.#dv, 0, value);
  }

  /** Protocol type (`0x0800` for IPv4). */
  get protocolType(): number {
    return arpProtocolType(this.#dv, 0);
  }
  set protocolType(value: number) {
    setArpProtocolType(this.#dv, 0, value);
  }

  /** Hardware address length (6). */
  get hardwareLength(): number {
    return arpHardwareLength(this.#dv, 0);
  }
  set hardwareLength(value: number) {
    setArpHardwareLength(this.#dv, 0, value);
  }

  /** Protocol address length (4). */
  get protocolLength(): number {
    return arpProtocolLength(this.#dv, 0);
  }
  set protocolLength(value: number) {
    setArpProtocolLength(this.#dv, 0, value);
  }

  /** Operation: 1 request, 2 reply. */
  get operation(): number {
    return arpOperation(this.#dv, 0);
  }
  set operation(value: number) {
    setArpOperation(this.#dv, 0, value);
  }

  /** Sender hardware address (a 6-byte subarray); setting copies 6 bytes in. */
  get senderMac(): Uint8Array {
    return this.bytes.subarray(ARP_SENDER_MAC_OFFSET, ARP_SENDER_MAC_OFFSET + 6);
  }
  set senderMac(mac: Uint8Array) {
    this.bytes.set(mac.subarray(0, 6), ARP_SENDER_MAC_OFFSET);
  }

  /** Sender protocol address, an unsigned 32-bit number. */
  get senderIp(): number {
    return arpSenderIp(this.#dv, 0);
  }
  set senderIp(value: number) {
    setArpSenderIp(this.#dv, 0, value);
  }

  /** Target hardware address (a 6-byte subarray); setting copies 6 bytes in. */
  get targetMac(): Uint8Array {
    return this.bytes.subarray(ARP_TARGET_MAC_OFFSET, ARP_TARGET_MAC_OFFSET + 6);
  }
  set targetMac(mac: Uint8Array) {
    this.bytes.set(mac.subarray(0, 6), ARP_TARGET_MAC_OFFSET);
  }

  /** Target protocol address, an unsigned 32-bit number. */
  get targetIp(): number {
    return arpTargetIp(this.#dv, 0);
  }
  set targetIp(value: number) {
    setArpTargetIp(this.#dv, 0, value);
  }

  /** Whether sender and target IP are equal: a gratuitous ARP or announcement (RFC 5227). */
  get isGratuitous(): boolean {
    return this.senderIp === this.targetIp;
  }

  /**
   * tcpdump style: `ARP, Request who-has T tell S` or `ARP, Reply S is-at MAC`.
   *
   * @returns One line.
   *
   * @example
   * ```ts
   * import { ArpPacket } from "./arp.ts";
   * import assert from "node:assert/strict";
   *
   * const arp = ArpPacket.unchecked(new Uint8Array(28));
   * arp.operation = 2;
   * arp.senderIp = 0x0a000002;
   * arp.senderMac = new Uint8Array([2, 0, 0, 0, 0, 2]);
   * assert.equal(arp.toString(), "ARP, Reply 10.0.0.2 is-at 02:00:00:00:00:02");
   * ```
   */
  toString(): string {
    return describe(this.operation, this.senderMac, this.senderIp, this.targetMac, this.targetIp);
  }
}

/**
 * A parsed Ethernet/IPv4 ARP request or reply. The MACs from
 * {@linkcode parseArp} borrow the packet bytes: copy them to keep them past
 * `receive()`.
 */
export interface ArpRepr {
  /** 1 request, 2 reply. */
  readonly operation: 1 | 2;
  /** Sender hardware address, 6 bytes. */
  readonly senderMac: Uint8Array;
  /** Sender IPv4 address. */
  readonly senderIp: number;
  /** Target hardware address, 6 bytes (zero in a request). */
  readonly targetMac: Uint8Array;
  /** Target IPv4 address. */
  readonly targetIp: number;
}

/**
 * Reads a checked packet. Never throws.
 *
 * @param p A view from {@linkcode ArpPacket.check}.
 * @returns The request or reply (MACs are subarrays of the packet), or
 * `"unsupported_operation"` for any other operation.
 *
 * @example
 * ```ts
 * import { ArpPacket, parseArp } from "./arp.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(28);
 * bytes.set([0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03]); // RARP request
 * const p = ArpPacket.check(bytes);
 * assert.ok(typeof p !== "string");
 * assert.equal(parseArp(p), "unsupported_operation");
 * ```
 */
export function parseArp(p: ArpPacket): ArpRepr | ArpParseDropReason {
  const operation = p.operation;
  if (operation !== ARP_OPERATION_REQUEST && operation !== ARP_OPERATION_REPLY) {
    return "unsupported_operation";
  }
  return {
    operation,
    senderMac: p.senderMac,
    senderIp: p.senderIp,
    targetMac: p.targetMac,
    targetIp: p.targetIp,
  };
}

/**
 * Writes a 28-byte Ethernet/IPv4 ARP packet into the start of `bytes`. Never
 * throws when `bytes` holds at least {@linkcode ARP_PACKET_LEN} bytes (a
 * shorter buffer is a caller bug and throws `RangeError`).
 *
 * @param repr The packet.
 * @param bytes The buffer (e.g. the payload of an Ethernet frame).
 *
 * @example
 * ```ts
 * import { ArpPacket, emitArp, parseArp } from "./arp.ts";
 * import assert from "node:assert/strict";
 *
 * const repr = {
 *   operation: 1,
 *   senderMac: new Uint8Array([2, 0, 0, 0, 0, 1]),
 *   senderIp: 0x0a000001,
 *   targetMac: new Uint8Array(6),
 *   targetIp: 0x0a000002,
 * } as const;
 * const bytes = new Uint8Array(28);
 * emitArp(repr, bytes);
 * const p = ArpPacket.check(bytes);
 * assert.ok(typeof p !== "string");
 * assert.deepEqual(parseArp(p), repr);
 * ```
 */
export function emitArp(repr: ArpRepr, bytes: Uint8Array): void {
  if (bytes.length < ARP_PACKET_LEN) {
    throw new RangeError(`Cannot emit ARP into ${bytes.length} bytes: need ${ARP_PACKET_LEN}`);
  }
  const p = ArpPacket.unchecked(bytes);
  p.hardwareType = ARP_HARDWARE_ETHERNET;
  p.protocolType = ARP_PROTOCOL_IPV4;
  p.hardwareLength = 6;
  p.protocolLength = 4;
  p.operation = repr.operation;
  p.senderMac = repr.senderMac;
  p.senderIp = repr.senderIp;
  p.targetMac = repr.targetMac;
  p.targetIp = repr.targetIp;
}

/**
 * The tcpdump-style line of {@linkcode ArpPacket.toString} for a Repr.
 *
 * @param repr The packet.
 * @returns One line.
 *
 * @example
 * ```ts
 * import { formatArpRepr } from "./arp.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatArpRepr({
 *     operation: 2,
 *     senderMac: new Uint8Array([2, 0, 0, 0, 0, 2]),
 *     senderIp: 0x0a000002,
 *     targetMac: new Uint8Array([2, 0, 0, 0, 0, 1]),
 *     targetIp: 0x0a000001,
 *   }),
 *   "ARP, Reply 10.0.0.2 is-at 02:00:00:00:00:02",
 * );
 * ```
 */
export function formatArpRepr(repr: ArpRepr): string {
  return describe(repr.operation, repr.senderMac, repr.senderIp, repr.targetMac, repr.targetIp);
}
