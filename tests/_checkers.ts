/**
 * gVisor-style composable frame checkers: each validates its header (lengths, checksums), then runs the inner checkers on its payload.
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatIpv4Address, formatMac } from "../stack/wire/address.ts";
import { checksum, hex, mac } from "./_convert.ts";

// ---- checkers ---------------------------------------------------------------------------

/**
 * Checks one layer of a frame and hands its payload to inner checkers;
 * throws an `AssertionError` naming the layer and field. `matches(bytes)`
 * is the same check as a boolean, for filtering captures: a well-formed
 * frame whose fields differ from the wanted ones does not match (false), but
 * a malformed one (too short, bad length field, bad checksum: a
 * {@linkcode MalformedFrameError}) still throws, so "no frame matches"
 * checks cannot hide a broken frame.
 */
export interface Checker {
  /** Asserts; throws on the first mismatch. */
  (bytes: Uint8Array): void;
  /** Whether `bytes` passes; throws {@linkcode MalformedFrameError} for a malformed frame. */
  matches(bytes: Uint8Array): boolean;
}

/**
 * A frame that cannot be parsed as the layer a checker expects (as opposed
 * to a field that differs): {@linkcode Checker.matches} lets it through.
 *
 * @example
 * ```ts
 * import { checkIpv4, MalformedFrameError } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const truncated = new Uint8Array([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17]);
 * assert.throws(() => checkIpv4({ dst: "10.0.0.9" }).matches(truncated), MalformedFrameError);
 * ```
 */
export class MalformedFrameError extends assert.AssertionError {
  /** @param message What is wrong, naming the layer. */
  constructor(message: string) {
    super({ message });
    this.name = "MalformedFrameError";
  }
}

/**
 * Makes a {@linkcode Checker} of an asserting function: `matches` is false
 * on an `AssertionError` (a field differs) and rethrows a
 * {@linkcode MalformedFrameError} or anything else.
 *
 * @example
 * ```ts
 * import { makeChecker, malformed } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const even = makeChecker((b) => {
 *   if (b.length === 0) malformed("empty");
 *   assert.equal(b[0]! % 2, 0);
 * });
 * assert.equal(even.matches(new Uint8Array([1])), false);
 * assert.throws(() => even.matches(new Uint8Array(0)));
 * ```
 */
export function makeChecker(fn: (bytes: Uint8Array) => void): Checker {
  const c = fn as Checker;
  c.matches = (bytes) => {
    try {
      fn(bytes);
      return true;
    } catch (e) {
      if (e instanceof assert.AssertionError && !(e instanceof MalformedFrameError)) return false;
      throw e;
    }
  };
  return c;
}

const checker = makeChecker;

function expect(layer: string, field: string, got: unknown, want: unknown): void {
  if (want === undefined) return;
  if (got !== want) {
    throw new assert.AssertionError({
      message: `${layer}.${field} is ${String(got)}, expected ${String(want)}`,
      actual: got,
      expected: want,
      operator: "strictEqual",
    });
  }
}

/**
 * Throws a {@linkcode MalformedFrameError}: the bytes cannot be the layer
 * being checked (for checkers built with {@linkcode makeChecker}).
 *
 * @throws {MalformedFrameError} Always.
 */
export function malformed(message: string): never {
  throw new MalformedFrameError(message);
}

const fail = malformed;

function macText(m: string | Uint8Array | undefined): string | undefined {
  return m === undefined ? undefined : formatMac(mac(m));
}

/** Expected Ethernet fields (each optional). */
export interface EthernetCheck {
  /** Destination MAC. */
  readonly dst?: string | Uint8Array;
  /** Source MAC. */
  readonly src?: string | Uint8Array;
  /** Innermost EtherType. */
  readonly etherType?: number;
  /** VLAN ids of the tags, outermost first (`[]`: untagged). */
  readonly vids?: readonly number[];
  /** Exact frame length. */
  readonly length?: number;
  /** Smallest frame length (60 for a padded frame). */
  readonly minLength?: number;
}

/**
 * Checks an Ethernet II frame (tags skipped) and runs `inner` on its payload.
 *
 * @example
 * ```ts
 * import { checkEthernet, ethernetFrame } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const f = ethernetFrame({ dst: "ff:ff:ff:ff:ff:ff", src: "02:00:00:00:00:01", etherType: 0x0806 }, new Uint8Array(46));
 * checkEthernet({ dst: "ff:ff:ff:ff:ff:ff", etherType: 0x0806, length: 60 })(f);
 * assert.equal(checkEthernet({ etherType: 0x0800 }).matches(f), false);
 * ```
 */
export function checkEthernet(want: EthernetCheck, ...inner: Checker[]): Checker {
  return checker((f) => {
    if (f.length < 14) fail(`ethernet: frame of ${f.length} bytes is shorter than a header`);
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    expect("ethernet", "dst", formatMac(f, 0), macText(want.dst));
    expect("ethernet", "src", formatMac(f, 6), macText(want.src));
    expect("ethernet", "length", f.length, want.length);
    if (want.minLength !== undefined && f.length < want.minLength) {
      fail(`ethernet.length is ${f.length}, expected at least ${want.minLength}`);
    }
    let off = 12;
    const vids: number[] = [];
    let type = dv.getUint16(off);
    while ((type === 0x8100 || type === 0x88a8) && off + 6 <= f.length) {
      vids.push(dv.getUint16(off + 2) & 0x0fff);
      off += 4;
      type = dv.getUint16(off);
    }
    if (want.vids !== undefined) expect("ethernet", "vids", vids.join(","), want.vids.join(","));
    expect(
      "ethernet",
      "etherType",
      `0x${type.toString(16)}`,
      want.etherType === undefined ? undefined : `0x${want.etherType.toString(16)}`,
    );
    const payload = f.subarray(off + 2);
    for (const c of inner) c(payload);
  });
}

/** Expected ARP fields (each optional). */
export interface ArpCheck {
  /** 1 request, 2 reply. */
  readonly operation?: number;
  /** Sender MAC. */
  readonly senderMac?: string | Uint8Array;
  /** Sender IP. */
  readonly senderIp?: string;
  /** Target MAC. */
  readonly targetMac?: string | Uint8Array;
  /** Target IP. */
  readonly targetIp?: string;
}

/**
 * Checks an ARP packet for IPv4 over Ethernet (hardware 1, protocol 0x0800,
 * lengths 6 and 4); trailing padding is allowed.
 *
 * @example
 * ```ts
 * import { arpPacket, checkArp } from "./_harness.ts";
 * const p = arpPacket({ operation: 2, senderMac: "02:00:00:00:00:02", senderIp: "10.0.0.2", targetIp: "10.0.0.1" });
 * checkArp({ operation: 2, senderIp: "10.0.0.2", targetIp: "10.0.0.1" })(p);
 * ```
 */
export function checkArp(want: ArpCheck): Checker {
  return checker((p) => {
    if (p.length < 28) fail(`arp: ${p.length} bytes is shorter than 28`);
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    expect("arp", "hardware", dv.getUint16(0), 1);
    expect("arp", "protocol", dv.getUint16(2), 0x0800);
    expect("arp", "hlen", p[4], 6);
    expect("arp", "plen", p[5], 4);
    expect("arp", "operation", dv.getUint16(6), want.operation);
    expect("arp", "senderMac", formatMac(p, 8), macText(want.senderMac));
    expect("arp", "senderIp", formatIpv4Address(dv.getUint32(14)), want.senderIp);
    expect("arp", "targetMac", formatMac(p, 18), macText(want.targetMac));
    expect("arp", "targetIp", formatIpv4Address(dv.getUint32(24)), want.targetIp);
  });
}

/** Expected IPv4 fields (each optional). */
export interface Ipv4Check {
  /** Source address. */
  readonly src?: string;
  /** Destination address. */
  readonly dst?: string;
  /** TTL. */
  readonly ttl?: number;
  /** Protocol number. */
  readonly protocol?: number;
  /** Total length. */
  readonly totalLength?: number;
  /** Header length in bytes. */
  readonly headerLength?: number;
  /** DF bit. */
  readonly dontFragment?: boolean;
  /** Identification. */
  readonly id?: number;
}

/**
 * Checks an IPv4 header (version 4, IHL ≥ 5, total length within the bytes,
 * valid header checksum) and runs `inner` on the payload as the total length
 * bounds it (link padding excluded).
 *
 * @example
 * ```ts
 * import { checkIpv4, ipv4Packet } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const p = ipv4Packet({ src: "10.0.0.2", dst: "10.0.0.1", protocol: 1, ttl: 9 }, new Uint8Array(8));
 * checkIpv4({ src: "10.0.0.2", ttl: 9, protocol: 1 })(p);
 * assert.equal(checkIpv4({ ttl: 10 }).matches(p), false); // well formed, another TTL
 * p[10]! ^= 1; // break the checksum: malformed, so even `matches` throws
 * assert.throws(() => checkIpv4({}).matches(p));
 * ```
 */
export function checkIpv4(want: Ipv4Check, ...inner: Checker[]): Checker {
  return checker((p) => {
    // Another version is a different packet, not a broken one (raw-IP links carry both).
    if (p.length > 0) expect("ipv4", "version", p[0]! >> 4, 4);
    if (p.length < 20) fail(`ipv4: ${p.length} bytes is shorter than a header`);
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const hlen = (p[0]! & 0x0f) * 4;
    if (hlen < 20) fail(`ipv4.headerLength is ${hlen}, below 20`);
    const total = dv.getUint16(2);
    if (total < hlen || total > p.length) {
      fail(`ipv4.totalLength is ${total}: header ${hlen}, ${p.length} bytes present`);
    }
    if (checksum(p.subarray(0, hlen)) !== 0) {
      fail(`ipv4.checksum 0x${dv.getUint16(10).toString(16)} is wrong`);
    }
    expect("ipv4", "headerLength", hlen, want.headerLength);
    expect("ipv4", "totalLength", total, want.totalLength);
    expect("ipv4", "src", formatIpv4Address(dv.getUint32(12)), want.src);
    expect("ipv4", "dst", formatIpv4Address(dv.getUint32(16)), want.dst);
    expect("ipv4", "ttl", p[8], want.ttl);
    expect("ipv4", "protocol", p[9], want.protocol);
    expect("ipv4", "id", dv.getUint16(4), want.id);
    expect("ipv4", "dontFragment", (p[6]! & 0x40) !== 0, want.dontFragment);
    const payload = p.subarray(hlen, total);
    for (const c of inner) c(payload);
  });
}

/** Expected ICMP fields (each optional). */
export interface IcmpCheck {
  /** Type. */
  readonly type?: number;
  /** Code. */
  readonly code?: number;
  /** Echo identifier. */
  readonly identifier?: number;
  /** Echo sequence number. */
  readonly sequence?: number;
  /** The data after the 8-byte header, exactly. */
  readonly data?: Uint8Array;
}

/**
 * Checks an ICMP message (checksum over all of it) and its fields.
 *
 * @example
 * ```ts
 * import { checkIcmp, icmpEcho } from "./_harness.ts";
 * const data = new Uint8Array([1, 2, 3]);
 * checkIcmp({ type: 8, code: 0, identifier: 7, sequence: 1, data })(
 *   icmpEcho({ identifier: 7, sequence: 1, data }),
 * );
 * ```
 */
export function checkIcmp(want: IcmpCheck, ...inner: Checker[]): Checker {
  return checker((m) => {
    if (m.length < 8) fail(`icmp: ${m.length} bytes is shorter than a header`);
    const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
    if (checksum(m) !== 0) fail(`icmp.checksum 0x${dv.getUint16(2).toString(16)} is wrong`);
    expect("icmp", "type", m[0], want.type);
    expect("icmp", "code", m[1], want.code);
    expect("icmp", "identifier", dv.getUint16(4), want.identifier);
    expect("icmp", "sequence", dv.getUint16(6), want.sequence);
    if (want.data !== undefined) expect("icmp", "data", hex(m.subarray(8)), hex(want.data));
    for (const c of inner) c(m.subarray(8));
  });
}

/**
 * The frames among `frames` that pass `check`.
 *
 * @example
 * ```ts
 * import { checkEthernet, ethernetFrame, framesMatching } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const arp = ethernetFrame({ dst: "ff:ff:ff:ff:ff:ff", src: "02:00:00:00:00:01", etherType: 0x0806 }, new Uint8Array(28));
 * assert.equal(framesMatching([arp, arp], checkEthernet({ etherType: 0x0806 })).length, 2);
 * ```
 */
export function framesMatching(frames: readonly Uint8Array[], check: Checker): Uint8Array[] {
  return frames.filter((f) => check.matches(f));
}
