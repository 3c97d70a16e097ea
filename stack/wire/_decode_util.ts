/**
 * What the layer readers of `_decode_layers.ts` share: the layer list being
 * built, the IP context a transport needs, and text helpers. Never throws.
 *
 * @module
 */
import { formatIpv4Address, formatIpv6Address } from "./address.ts";
import { readU32 } from "./bytes.ts";
import { pseudoHeaderSumV4, pseudoHeaderSumV6 } from "./checksum.ts";
import type { DecodedLayer, FieldValue } from "./decode.ts";

/** @internal The layers of one decode, and how deep in quoted datagrams it is. */
export class Builder {
  readonly layers: DecodedLayer[] = [];
  depth = 0;

  add(
    name: string,
    title: string,
    offset: number,
    fields: Record<string, FieldValue>,
    notes: Record<string, string> = {},
    problem?: string,
  ): Record<string, FieldValue> {
    const layer: DecodedLayer = problem === undefined
      ? { name, title, offset, fields, notes, quoted: this.depth > 0 }
      : { name, title, offset, fields, notes, quoted: this.depth > 0, problem };
    this.layers.push(layer);
    return fields;
  }
}

/** A `DataView` over exactly `bytes`, for the header accessors (one per decoded layer: not a hot path). @internal */
export function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
/** @internal */
export function hex(n: number, digits: number): string {
  return "0x" + n.toString(16).padStart(digits, "0");
}
/** @internal */
export function ip4At(b: Uint8Array, i: number): string {
  return formatIpv4Address(readU32(b, i));
}
/** @internal */
export function ip6At(b: Uint8Array, i: number): string {
  return formatIpv6Address(b.subarray(i, i + 16));
}
/** @internal */
export function checksumNote(ok: boolean | undefined): string {
  return ok === undefined ? "unverified" : ok ? "correct" : "incorrect";
}

/** @internal Bytes as lower-case hex digits, no separators. */
export function hexBytes(bytes: Uint8Array): string {
  let s = "";
  for (const x of bytes) s += x.toString(16).padStart(2, "0");
  return s;
}

/** @internal What a transport needs from its IP header: addresses for checksums, completeness. */
export interface IpContext {
  readonly family: 4 | 6;
  readonly src4: number;
  readonly dst4: number;
  readonly src6: Uint8Array | null;
  readonly dst6: Uint8Array | null;
  /** The whole datagram is here (not a fragment, not cut by the snapshot length). */
  readonly complete: boolean;
  /**
   * Transport length the IP header claims (captured or not), or -1 when
   * unknown: a fragment, or a datagram quoted by an ICMP error.
   */
  readonly claimed: number;
}

/** @internal The pseudo-header sum for `protocol` over `ip`'s addresses. */
export function pseudoSum(ip: IpContext, protocol: number, length: number): number {
  return ip.family === 4
    ? pseudoHeaderSumV4(ip.src4, ip.dst4, protocol, length)
    : pseudoHeaderSumV6(ip.src6!, ip.dst6!, protocol, length);
}
