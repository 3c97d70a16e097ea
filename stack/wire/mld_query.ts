/**
 * MLDv2 Multicast Listener Queries as a querier writes them (RFC 3810
 * §5.1), and a reader of the Multicast Address Records of a Version 2
 * Report (§5.2) for routers. Beside `mld.ts` (the listener side's codec).
 *
 * Contract: {@linkcode mldV2Records} reads only inside `[off, end)` and
 * stops at the first record that does not fit; the writer assumes a buffer
 * sized with {@linkcode mldV2QueryLength} and leaves the ICMPv6 checksum
 * zero (it needs the IPv6 pseudo-header: `setIcmpv6Checksum`).
 *
 * @module
 */
import { encodeIgmpCode } from "./igmp.ts";
import { type IpKey, ipKeyAt, writeIpKey } from "./ip_address.ts";
import { MLD_V2_QUERY_MIN_LEN, MLD_V2_REPORT_HEADER_LEN } from "./mld.ts";

/** What {@linkcode writeMldV2Query} writes. */
export interface MldV2Query {
  /** The group; null for a General Query (the unspecified address). */
  readonly group: IpKey | null;
  /** Maximum Response Delay, ms (encoded as §5.1.3's code). */
  readonly maxResponseDelay: number;
  /** Suppress Router-Side Processing (§5.1.7). */
  readonly suppress: boolean;
  /** Querier's Robustness Variable, 1..7 (§5.1.8). */
  readonly robustness: number;
  /** Querier's Query Interval, seconds (§5.1.9, encoded). */
  readonly queryInterval: number;
  /** The sources of a Multicast Address and Source Specific Query. */
  readonly sources: readonly IpKey[];
}

/**
 * The length of an MLDv2 query with `sourceCount` sources.
 *
 * @example
 * ```ts
 * import { mldV2QueryLength } from "./mld_query.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mldV2QueryLength(1), 44);
 * ```
 */
export function mldV2QueryLength(sourceCount: number): number {
  return MLD_V2_QUERY_MIN_LEN + 16 * sourceCount;
}

/**
 * Encodes a Maximum Response Delay in ms as §5.1.3's 16-bit code: below
 * 32768 the value, else `1 exp(3) mant(12)` meaning `(mant | 0x1000) <<
 * (exp + 3)`, rounding down; values past the largest saturate.
 *
 * @example
 * ```ts
 * import { encodeMldCode } from "./mld_query.ts";
 * import assert from "node:assert/strict";
 * assert.equal(encodeMldCode(10000), 10000);
 * assert.equal(encodeMldCode(32768), 0x8000);
 * assert.equal(encodeMldCode(1e12), 0xffff);
 * ```
 */
export function encodeMldCode(value: number): number {
  if (value < 0x8000) return value;
  for (let exp = 7; exp >= 0; exp--) {
    const mant = Math.floor(value / 2 ** (exp + 3)) - 0x1000;
    if (mant >= 0) return 0x8000 | (exp << 12) | Math.min(mant, 0x0fff);
  }
  return 0x7fff; // unreachable for value >= 32768
}

/**
 * Writes an MLDv2 query (type 130) with a zero checksum; returns its length.
 *
 * @example
 * ```ts
 * import { checkMldQuery, mldQueryRobustness, mldQuerySource } from "./mld.ts";
 * import { writeMldV2Query } from "./mld_query.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const g = IpAddress.parse("ff05::1:3")!.key;
 * const s = IpAddress.parse("2001:db8::9")!.key;
 * const b = new Uint8Array(44);
 * assert.equal(writeMldV2Query(b, 0, { group: g, maxResponseDelay: 1000, suppress: true, robustness: 2, queryInterval: 125, sources: [s] }), 44);
 * assert.equal(checkMldQuery(b, 0, 44), 2);
 * assert.equal(mldQueryRobustness(b, 0), 2);
 * assert.equal(mldQuerySource(b, 0, 0), s);
 * assert.equal(b[24], 0x0a); // S and QRV
 * ```
 */
export function writeMldV2Query(b: Uint8Array, at: number, q: MldV2Query): number {
  const len = mldV2QueryLength(q.sources.length);
  b.fill(0, at, at + len);
  b[at] = 130;
  const code = encodeMldCode(q.maxResponseDelay);
  b[at + 4] = code >> 8;
  b[at + 5] = code;
  if (q.group !== null) writeIpKey(q.group, b, at + 8);
  b[at + 24] = (q.suppress ? 8 : 0) | (q.robustness & 7);
  b[at + 25] = encodeIgmpCode(q.queryInterval); // the same 8-bit code as IGMPv3's QQIC
  b[at + 26] = q.sources.length >> 8;
  b[at + 27] = q.sources.length;
  let r = at + MLD_V2_QUERY_MIN_LEN;
  for (const s of q.sources) {
    writeIpKey(s, b, r);
    r += 16;
  }
  return len;
}

/** One Multicast Address Record of a received Version 2 Report. */
export interface MldV2RecordRead {
  /** Record Type (§5.2.12). */
  type: number;
  /** Multicast Address. */
  group: IpKey;
  /** Source Addresses. */
  sources: IpKey[];
}

/**
 * The records of the Version 2 Report at `[off, end)` (type 143), each with
 * its sources (auxiliary data skipped, §5.2.6); a record that does not fit
 * ends the list, and the second result says so.
 *
 * @example
 * ```ts
 * import { writeMldV2Report } from "./mld.ts";
 * import { mldV2Records } from "./mld_query.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const g = IpAddress.parse("ff05::1:3")!.key;
 * const b = new Uint8Array(28);
 * writeMldV2Report(b, 0, [{ type: 4, group: g }]);
 * assert.deepEqual(mldV2Records(b, 0, 28), [[{ type: 4, group: g, sources: [] }], true]);
 * assert.deepEqual(mldV2Records(b, 0, 27), [[], false]);
 * ```
 */
export function mldV2Records(
  b: Uint8Array,
  off: number,
  end: number,
): [MldV2RecordRead[], boolean] {
  const out: MldV2RecordRead[] = [];
  if (end - off < MLD_V2_REPORT_HEADER_LEN) return [out, false];
  const n = (b[off + 6]! << 8) | b[off + 7]!;
  let r = off + MLD_V2_REPORT_HEADER_LEN;
  for (let i = 0; i < n; i++) {
    if (r + 20 > end) return [out, false];
    const aux = b[r + 1]!;
    const ns = (b[r + 2]! << 8) | b[r + 3]!;
    const next = r + 20 + 16 * ns + 4 * aux;
    if (next > end) return [out, false];
    const sources: IpKey[] = [];
    for (let j = 0; j < ns; j++) sources.push(ipKeyAt(b, r + 20 + 16 * j, 6));
    out.push({ type: b[r]!, group: ipKeyAt(b, r + 4, 6), sources });
    r = next;
  }
  return [out, true];
}
