/**
 * Multicast Listener Discovery messages: MLDv1 (RFC 2710 §3: Query,
 * Report, Done, 24 bytes) and MLDv2 (RFC 3810 §5: the longer Query, and
 * the Version 2 Report of Multicast Address Records), plus the Hop-by-Hop
 * header with a Router Alert every MLD message carries (RFC 2711, RFC
 * 3810 §5). Offset-based functions over the ICMPv6 message: `off` is where
 * the ICMPv6 header starts.
 *
 * Contract: {@linkcode checkMldQuery} says whether a query's fixed part and
 * its source list are inside `[off, end)`; after it, no accessor below
 * reads out of bounds. Writers assume a buffer sized by their caller.
 *
 * @module
 */
import type { IpKey } from "./ip_address.ts";
import { ipKeyAt, writeIpKey } from "./ip_address.ts";

/** Length of an MLDv1 message and of an MLDv1 Query (RFC 2710 §3). */
export const MLD_V1_LEN = 24;
/** Smallest MLDv2 Query: no sources (RFC 3810 §5.1). */
export const MLD_V2_QUERY_MIN_LEN = 28;
/** The fixed part of an MLDv2 Report before its records (RFC 3810 §5.2). */
export const MLD_V2_REPORT_HEADER_LEN = 8;
/** A Multicast Address Record without sources or auxiliary data (RFC 3810 §5.2.4); 16 more per source. */
export const MLD_V2_RECORD_LEN = 20;
/** The Hop-by-Hop header carrying Router Alert (value 0, MLD) and a PadN: 8 bytes. */
export const MLD_HOP_BY_HOP_LEN = 8;

/**
 * Multicast Address Record types (RFC 3810 §5.2.12): current state
 * (answers to queries) and state changes (filter mode changes on join and
 * leave).
 *
 * @example
 * ```ts
 * import { MldRecordType } from "./mld.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MldRecordType.CHANGE_TO_EXCLUDE, 4);
 * ```
 */
export const MldRecordType = {
  /** Current state: INCLUDE mode with the listed sources. */
  MODE_IS_INCLUDE: 1,
  /** Current state: EXCLUDE mode (no sources: listening to all). */
  MODE_IS_EXCLUDE: 2,
  /** Filter mode changed to INCLUDE (with no sources: the node left). */
  CHANGE_TO_INCLUDE: 3,
  /** Filter mode changed to EXCLUDE (with no sources: the node joined). */
  CHANGE_TO_EXCLUDE: 4,
  /** Sources added. */
  ALLOW_NEW_SOURCES: 5,
  /** Sources removed. */
  BLOCK_OLD_SOURCES: 6,
} as const;

/** Why a query cannot be read. */
export type MldQueryProblem = "bad_length" | "truncated";

/**
 * Whether the ICMPv6 message at `[off, end)` is a query MLD can read: 1 for
 * an MLDv1 query (exactly 24 bytes), 2 for an MLDv2 query (28 bytes and
 * its source list), or why not (RFC 3810 §8.1: 25..27 bytes is neither).
 *
 * @example
 * ```ts
 * import { checkMldQuery } from "./mld.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkMldQuery(new Uint8Array(24), 0, 24), 1);
 * assert.equal(checkMldQuery(new Uint8Array(28), 0, 28), 2);
 * assert.equal(checkMldQuery(new Uint8Array(26), 0, 26), "bad_length");
 * const q = new Uint8Array(28);
 * q[27] = 1; // one source announced, none there
 * assert.equal(checkMldQuery(q, 0, 28), "truncated");
 * ```
 */
export function checkMldQuery(b: Uint8Array, off: number, end: number): 1 | 2 | MldQueryProblem {
  const len = end - off;
  if (len === MLD_V1_LEN) return 1;
  if (len < MLD_V2_QUERY_MIN_LEN) return len < MLD_V1_LEN ? "truncated" : "bad_length";
  return len < MLD_V2_QUERY_MIN_LEN + 16 * mldQuerySources(b, off) ? "truncated" : 2;
}

/**
 * The Maximum Response Delay of a query in milliseconds: MLDv1's field as
 * is; MLDv2's Maximum Response Code decoded (RFC 3810 §5.1.3: below 32768
 * the value, else a floating-point mantissa and exponent).
 *
 * @example
 * ```ts
 * import { mldMaxResponseDelay } from "./mld.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(28);
 * q[4] = 0x27; q[5] = 0x10; // 10000
 * assert.equal(mldMaxResponseDelay(q, 0, 2), 10000);
 * q[4] = 0x80; q[5] = 0x00; // exp 0, mant 0: 0x1000 << 3
 * assert.equal(mldMaxResponseDelay(q, 0, 2), 32768);
 * ```
 */
export function mldMaxResponseDelay(b: Uint8Array, off: number, version: 1 | 2): number {
  const code = (b[off + 4]! << 8) | b[off + 5]!;
  if (version === 1 || code < 0x8000) return code;
  return ((code & 0x0fff) | 0x1000) * 2 ** (((code >> 12) & 7) + 3);
}

/**
 * The multicast address field (offset 8) as a key: `::` in a General Query.
 *
 * @example
 * ```ts
 * import { mldGroupKey } from "./mld.ts";
 * import { formatIpKey } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(24);
 * q[8] = 0xff; q[9] = 0x02; q[23] = 0xfb;
 * assert.equal(formatIpKey(mldGroupKey(q, 0)), "ff02::fb");
 * ```
 */
export function mldGroupKey(b: Uint8Array, off: number): IpKey {
  return ipKeyAt(b, off + 8, 6);
}

/**
 * An MLDv2 query's Querier's Robustness Variable (RFC 3810 §5.1.8), 0..7.
 *
 * @example
 * ```ts
 * import { mldQueryRobustness } from "./mld.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(28);
 * q[24] = 0x0a; // S flag and QRV 2
 * assert.equal(mldQueryRobustness(q, 0), 2);
 * ```
 */
export function mldQueryRobustness(b: Uint8Array, off: number): number {
  return b[off + 24]! & 7;
}

/**
 * An MLDv2 query's Querier's Query Interval in seconds, decoded from QQIC
 * (RFC 3810 §5.1.9).
 *
 * @example
 * ```ts
 * import { mldQueryInterval } from "./mld.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(28);
 * q[25] = 125;
 * assert.equal(mldQueryInterval(q, 0), 125);
 * q[25] = 0x80; // exp 0, mant 0: 0x10 << 3
 * assert.equal(mldQueryInterval(q, 0), 128);
 * ```
 */
export function mldQueryInterval(b: Uint8Array, off: number): number {
  const c = b[off + 25]!;
  return c < 0x80 ? c : ((c & 0x0f) | 0x10) << (((c >> 4) & 7) + 3);
}

/**
 * An MLDv2 query's Number of Sources (RFC 3810 §5.1.10).
 *
 * @example
 * ```ts
 * import { mldQuerySources } from "./mld.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(44);
 * q[27] = 1;
 * assert.equal(mldQuerySources(q, 0), 1);
 * ```
 */
export function mldQuerySources(b: Uint8Array, off: number): number {
  return (b[off + 26]! << 8) | b[off + 27]!;
}

/**
 * Source `i` of an MLDv2 query (after {@linkcode checkMldQuery} said 2).
 *
 * @example
 * ```ts
 * import { mldQuerySource } from "./mld.ts";
 * import { formatIpKey } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(44);
 * q[27] = 1;
 * q[28] = 0xfe; q[29] = 0x80; q[43] = 9;
 * assert.equal(formatIpKey(mldQuerySource(q, 0, 0)), "fe80::9");
 * ```
 */
export function mldQuerySource(b: Uint8Array, off: number, i: number): IpKey {
  return ipKeyAt(b, off + MLD_V2_QUERY_MIN_LEN + 16 * i, 6);
}

/**
 * Writes the 8-byte Hop-by-Hop Options header every MLD message carries:
 * next header ICMPv6 (58), a Router Alert option with value 0 ("the
 * datagram contains a Multicast Listener Discovery message", RFC 2711 §2.1)
 * and a two-byte PadN to the 8-byte boundary. Returns the bytes written.
 *
 * @example
 * ```ts
 * import { writeMldHopByHop } from "./mld.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * assert.equal(writeMldHopByHop(b, 0), 8);
 * assert.deepEqual([...b], [58, 0, 5, 2, 0, 0, 1, 0]);
 * ```
 */
export function writeMldHopByHop(b: Uint8Array, at: number): number {
  b[at] = 58; // next header: ICMPv6
  b[at + 1] = 0; // length: 8 bytes
  b[at + 2] = 5; // Router Alert (RFC 2711)
  b[at + 3] = 2;
  b[at + 4] = 0; // value 0: MLD
  b[at + 5] = 0;
  b[at + 6] = 1; // PadN, no data bytes
  b[at + 7] = 0;
  return MLD_HOP_BY_HOP_LEN;
}

/**
 * Writes an MLDv1 message (Report 131, Done 132, RFC 2710 §3) for `group`
 * with a zero checksum; returns its length (24).
 *
 * @example
 * ```ts
 * import { writeMldV1 } from "./mld.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(24);
 * assert.equal(writeMldV1(b, 0, 131, IpAddress.parse("ff02::1:ff00:1")!.key), 24);
 * assert.equal(b[0], 131);
 * assert.equal(b[23], 1);
 * ```
 */
export function writeMldV1(b: Uint8Array, at: number, type: number, group: IpKey): number {
  b.fill(0, at, at + MLD_V1_LEN);
  b[at] = type;
  writeIpKey(group, b, at + 8);
  return MLD_V1_LEN;
}

/** One record of a Version 2 Report: no auxiliary data. */
export interface MldRecord {
  /** One of {@linkcode MldRecordType}. */
  readonly type: number;
  /** The multicast address. */
  readonly group: IpKey;
  /** Its sources (none when absent). */
  readonly sources?: readonly IpKey[];
}

/**
 * The length of a Version 2 Report of `records` (8, then 20 + 16 per
 * source for each record).
 *
 * @example
 * ```ts
 * import { mldV2ReportLength } from "./mld.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mldV2ReportLength([{ type: 4, group: "\uff02\0\0\0\0\0\0\u00fb" }]), 28);
 * ```
 */
export function mldV2ReportLength(records: readonly MldRecord[]): number {
  let len = MLD_V2_REPORT_HEADER_LEN;
  for (const r of records) len += MLD_V2_RECORD_LEN + 16 * (r.sources?.length ?? 0);
  return len;
}

/**
 * Writes a Version 2 Multicast Listener Report (type 143, RFC 3810 §5.2)
 * of `records` with a zero checksum; returns its length
 * ({@linkcode mldV2ReportLength}).
 *
 * @example
 * ```ts
 * import { MldRecordType, writeMldV2Report } from "./mld.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const g = IpAddress.parse("ff02::1:ff00:1")!.key;
 * const b = new Uint8Array(28);
 * assert.equal(writeMldV2Report(b, 0, [{ type: MldRecordType.CHANGE_TO_EXCLUDE, group: g }]), 28);
 * assert.deepEqual([...b.subarray(0, 12)], [143, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0]);
 * ```
 */
export function writeMldV2Report(
  b: Uint8Array,
  at: number,
  records: readonly MldRecord[],
): number {
  const len = mldV2ReportLength(records);
  b.fill(0, at, at + len);
  b[at] = 143;
  b[at + 6] = records.length >> 8;
  b[at + 7] = records.length;
  let r = at + MLD_V2_REPORT_HEADER_LEN;
  for (const rec of records) {
    const n = rec.sources?.length ?? 0;
    b[r] = rec.type; // aux data length stays 0
    b[r + 2] = n >> 8;
    b[r + 3] = n;
    writeIpKey(rec.group, b, r + 4);
    r += MLD_V2_RECORD_LEN;
    for (let i = 0; i < n; i++) {
      writeIpKey(rec.sources![i]!, b, r);
      r += 16;
    }
  }
  return len;
}
