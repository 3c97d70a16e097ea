/**
 * IGMP messages: IGMPv1 (RFC 1112 App. I), IGMPv2 (RFC 2236 §2) and
 * IGMPv3 (RFC 3376 §4): queries of the three versions, v1/v2 reports, the
 * v2 Leave, and the v3 Membership Report of Group Records; plus the
 * 24-byte IPv4 header every report travels in (TTL 1, Router Alert, RFC
 * 3376 §4). Offset-based functions: `off` is where the IGMP message starts.
 *
 * Contract: {@linkcode checkIgmp} says whether the message at `[off, end)`
 * is whole (length, checksum, a v3 query's source list); after it, no
 * accessor below reads out of bounds. Writers assume a buffer sized by
 * their caller ({@linkcode igmpV3ReportLength}).
 *
 * @module
 */
import { finishChecksum, sumRange } from "./checksum.ts";
import { writeIpv4FixedHeader } from "./ipv4_fields.ts";
import { IPV4_OPT_RA } from "./ipv4_options.ts";
import { IP_PROTOCOL_IGMP } from "./numbers.ts";

/** Membership Query (all versions). */
export const IGMP_QUERY = 0x11;
/** IGMPv1 Membership Report. */
export const IGMP_V1_REPORT = 0x12;
/** IGMPv2 Membership Report. */
export const IGMP_V2_REPORT = 0x16;
/** IGMPv2 Leave Group. */
export const IGMP_V2_LEAVE = 0x17;
/** IGMPv3 Membership Report. */
export const IGMP_V3_REPORT = 0x22;
/** Length of a v1/v2 message (and of a v1/v2 query). */
export const IGMP_V12_LEN = 8;
/** Smallest IGMPv3 query: no sources (RFC 3376 §4.1). */
export const IGMP_V3_QUERY_MIN_LEN = 12;
/** The fixed part of a v3 report before its records. */
export const IGMP_V3_REPORT_HEADER_LEN = 8;
/** A Group Record without sources or auxiliary data (RFC 3376 §4.2.4). */
export const IGMP_V3_RECORD_LEN = 8;
/** The IPv4 header of a report: 20 bytes and a 4-byte Router Alert option. */
export const IGMP_IP_HEADER_LEN = 24;
/** 224.0.0.1, all systems (queries; never reported). */
export const IGMP_ALL_SYSTEMS = 0xe0000001;
/** 224.0.0.2, all routers (IGMPv2 Leave, RFC 2236 §3). */
export const IGMP_ALL_ROUTERS = 0xe0000002;
/** 224.0.0.22, where IGMPv3 reports go (RFC 3376 §4.2.14). */
export const IGMP_ALL_V3_ROUTERS = 0xe0000016;

/** What kind of IGMP message {@linkcode checkIgmp} found. */
export type IgmpKind =
  | "query_v1"
  | "query_v2"
  | "query_v3"
  | "report_v1"
  | "report_v2"
  | "leave_v2"
  | "report_v3"
  | "unknown";

/** Why an IGMP message cannot be read. */
export type IgmpProblem = "truncated" | "bad_length" | "bad_checksum";

/**
 * Checks and classifies the IGMP message at `[off, end)`: its checksum
 * over the whole message, and the query version by length (RFC 3376 §7.1:
 * 8 bytes with Max Resp Code 0 is v1, 8 with a code v2, 12 and more v3,
 * 9–11 none). A v3 query's source list must fit.
 *
 * @example
 * ```ts
 * import { checkIgmp, writeIgmpV12 } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * writeIgmpV12(b, 0, 0x11, 0, 100);
 * assert.equal(checkIgmp(b, 0, 8), "query_v2");
 * b[7] = b[7]! ^ 1;
 * assert.equal(checkIgmp(b, 0, 8), "bad_checksum");
 * assert.equal(checkIgmp(b, 0, 7), "truncated");
 * ```
 */
export function checkIgmp(b: Uint8Array, off: number, end: number): IgmpKind | IgmpProblem {
  const len = end - off;
  if (len < IGMP_V12_LEN) return "truncated";
  if (sumRange(b, off, end) !== 0xffff) return "bad_checksum";
  switch (b[off]) {
    case IGMP_QUERY:
      if (len === IGMP_V12_LEN) return b[off + 1] === 0 ? "query_v1" : "query_v2";
      if (len < IGMP_V3_QUERY_MIN_LEN) return "bad_length";
      if (len < IGMP_V3_QUERY_MIN_LEN + 4 * igmpV3QuerySourceCount(b, off)) return "truncated";
      return "query_v3";
    case IGMP_V1_REPORT:
      return "report_v1";
    case IGMP_V2_REPORT:
      return "report_v2";
    case IGMP_V2_LEAVE:
      return "leave_v2";
    case IGMP_V3_REPORT:
      return "report_v3";
    default:
      return "unknown";
  }
}

/**
 * The Group Address field (offset 4): 0 in a General Query.
 *
 * @example
 * ```ts
 * import { igmpGroup } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(igmpGroup(new Uint8Array([0x16, 0, 0, 0, 239, 1, 2, 3]), 0), 0xef010203);
 * ```
 */
export function igmpGroup(b: Uint8Array, off: number): number {
  return ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
}

/**
 * Decodes an IGMPv3 8-bit code (Max Resp Code, QQIC; RFC 3376 §4.1.1,
 * §4.1.7): below 128 the value, else `1 exp(3) mant(4)` meaning
 * `(mant | 0x10) << (exp + 3)`.
 *
 * @example
 * ```ts
 * import { decodeIgmpCode } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(decodeIgmpCode(100), 100);
 * assert.equal(decodeIgmpCode(0x80), 128);
 * assert.equal(decodeIgmpCode(0xff), 31744);
 * ```
 */
export function decodeIgmpCode(code: number): number {
  return code < 0x80 ? code : ((code & 0x0f) | 0x10) << (((code >> 4) & 7) + 3);
}

/**
 * Encodes a value as an IGMPv3 8-bit code (the inverse of
 * {@linkcode decodeIgmpCode}, rounding down; values past 31744 saturate).
 *
 * @example
 * ```ts
 * import { decodeIgmpCode, encodeIgmpCode } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(encodeIgmpCode(100), 100);
 * assert.equal(decodeIgmpCode(encodeIgmpCode(250)), 248);
 * assert.equal(encodeIgmpCode(1e9), 0xff);
 * ```
 */
export function encodeIgmpCode(value: number): number {
  if (value < 0x80) return value;
  for (let exp = 7; exp >= 0; exp--) {
    const mant = (value >> (exp + 3)) - 0x10;
    if (mant >= 0) return 0x80 | (exp << 4) | Math.min(mant, 0x0f);
  }
  return 0x7f; // unreachable for value >= 128
}

/**
 * A query's Max Resp Time in tenths of a second: v1 has none (0: the
 * caller uses RFC 1112's 10 s), v2 the field, v3 the decoded code.
 *
 * @example
 * ```ts
 * import { igmpMaxRespTime } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(12);
 * q[1] = 0x8f; // exp 0, mant 15: 31 << 3
 * assert.equal(igmpMaxRespTime(q, 0, 3), 248);
 * assert.equal(igmpMaxRespTime(q, 0, 2), 0x8f);
 * ```
 */
export function igmpMaxRespTime(b: Uint8Array, off: number, version: 1 | 2 | 3): number {
  if (version === 1) return 0;
  return version === 2 ? b[off + 1]! : decodeIgmpCode(b[off + 1]!);
}

/**
 * An IGMPv3 query's S flag (Suppress Router-Side Processing, §4.1.5).
 *
 * @example
 * ```ts
 * import { igmpV3QuerySuppress } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(12);
 * q[8] = 0x0a;
 * assert.equal(igmpV3QuerySuppress(q, 0), true);
 * ```
 */
export function igmpV3QuerySuppress(b: Uint8Array, off: number): boolean {
  return (b[off + 8]! & 8) !== 0;
}

/**
 * An IGMPv3 query's Querier's Robustness Variable, 0..7 (§4.1.6).
 *
 * @example
 * ```ts
 * import { igmpV3QueryRobustness } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(12);
 * q[8] = 0x0a;
 * assert.equal(igmpV3QueryRobustness(q, 0), 2);
 * ```
 */
export function igmpV3QueryRobustness(b: Uint8Array, off: number): number {
  return b[off + 8]! & 7;
}

/**
 * An IGMPv3 query's Querier's Query Interval in seconds (QQIC decoded, §4.1.7).
 *
 * @example
 * ```ts
 * import { igmpV3QueryInterval } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(12);
 * q[9] = 125;
 * assert.equal(igmpV3QueryInterval(q, 0), 125);
 * ```
 */
export function igmpV3QueryInterval(b: Uint8Array, off: number): number {
  return decodeIgmpCode(b[off + 9]!);
}

/**
 * An IGMPv3 query's Number of Sources (§4.1.8).
 *
 * @example
 * ```ts
 * import { igmpV3QuerySourceCount } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array(16);
 * q[11] = 1;
 * assert.equal(igmpV3QuerySourceCount(q, 0), 1);
 * ```
 */
export function igmpV3QuerySourceCount(b: Uint8Array, off: number): number {
  return (b[off + 10]! << 8) | b[off + 11]!;
}

/**
 * Source `i` of an IGMPv3 query (after {@linkcode checkIgmp} said `query_v3`).
 *
 * @example
 * ```ts
 * import { igmpV3QuerySource } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const q = new Uint8Array([0x11, 10, 0, 0, 239, 1, 2, 3, 2, 125, 0, 1, 10, 0, 0, 9]);
 * assert.equal(igmpV3QuerySource(q, 0, 0), 0x0a000009);
 * ```
 */
export function igmpV3QuerySource(b: Uint8Array, off: number, i: number): number {
  const at = off + IGMP_V3_QUERY_MIN_LEN + 4 * i;
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * Writes an 8-byte IGMPv1/v2 message (query, report, leave) with its
 * checksum; returns 8.
 *
 * @example
 * ```ts
 * import { writeIgmpV12 } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * assert.equal(writeIgmpV12(b, 0, 0x16, 0xef010203), 8);
 * assert.deepEqual([...b], [0x16, 0, 0xf8, 0xfa, 239, 1, 2, 3]);
 * ```
 */
export function writeIgmpV12(
  b: Uint8Array,
  at: number,
  type: number,
  group: number,
  maxResp = 0,
): number {
  b[at] = type;
  b[at + 1] = maxResp;
  b[at + 2] = 0;
  b[at + 3] = 0;
  writeU32(b, at + 4, group);
  writeChecksum(b, at, at + IGMP_V12_LEN);
  return IGMP_V12_LEN;
}

/** One Group Record of a v3 report: type, group and sources (no auxiliary data). */
export interface IgmpRecord {
  /** A Record Type (RFC 3376 §4.2.12), 1..6. */
  readonly type: number;
  /** The group. */
  readonly group: number;
  /** The sources. */
  readonly sources: readonly number[];
}

/**
 * The length of a v3 report of `records`.
 *
 * @example
 * ```ts
 * import { igmpV3ReportLength } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(igmpV3ReportLength([{ type: 4, group: 0xef010203, sources: [] }]), 16);
 * ```
 */
export function igmpV3ReportLength(records: readonly IgmpRecord[]): number {
  let len = IGMP_V3_REPORT_HEADER_LEN;
  for (const r of records) len += IGMP_V3_RECORD_LEN + 4 * r.sources.length;
  return len;
}

/**
 * Writes an IGMPv3 Membership Report (type 0x22, RFC 3376 §4.2) of
 * `records` with its checksum; returns its length.
 *
 * @example
 * ```ts
 * import { checkIgmp, writeIgmpV3Report } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * assert.equal(writeIgmpV3Report(b, 0, [{ type: 1, group: 0xef010203, sources: [0x0a000009] }]), 20);
 * assert.deepEqual([...b.subarray(8)], [1, 0, 0, 1, 239, 1, 2, 3, 10, 0, 0, 9]);
 * assert.equal(checkIgmp(b, 0, 20), "report_v3");
 * ```
 */
export function writeIgmpV3Report(
  b: Uint8Array,
  at: number,
  records: readonly IgmpRecord[],
): number {
  b[at] = IGMP_V3_REPORT;
  b[at + 1] = 0;
  b[at + 2] = 0;
  b[at + 3] = 0;
  b[at + 4] = 0;
  b[at + 5] = 0;
  b[at + 6] = records.length >> 8;
  b[at + 7] = records.length;
  let r = at + IGMP_V3_REPORT_HEADER_LEN;
  for (const rec of records) {
    b[r] = rec.type;
    b[r + 1] = 0; // Aux Data Len
    b[r + 2] = rec.sources.length >> 8;
    b[r + 3] = rec.sources.length;
    writeU32(b, r + 4, rec.group);
    r += IGMP_V3_RECORD_LEN;
    for (const s of rec.sources) {
      writeU32(b, r, s);
      r += 4;
    }
  }
  writeChecksum(b, at, r);
  return r - at;
}

/**
 * Writes the IPv4 header of an IGMP message of `payloadLength` bytes:
 * TTL 1, DF, protocol 2, a Router Alert option (RFC 2113) and the header
 * checksum (RFC 3376 §4, RFC 2236 §2); returns 24.
 *
 * @example
 * ```ts
 * import { writeIgmpIpHeader } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(24);
 * assert.equal(writeIgmpIpHeader(b, 0, 16, 0x0a000001, 0xe0000016), 24);
 * assert.deepEqual([...b.subarray(0, 4)], [0x46, 0, 0, 40]);
 * assert.deepEqual([...b.subarray(8, 10)], [1, 2]);
 * assert.deepEqual([...b.subarray(20)], [148, 4, 0, 0]);
 * ```
 */
export function writeIgmpIpHeader(
  b: Uint8Array,
  at: number,
  payloadLength: number,
  src: number,
  dst: number,
): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  writeIpv4FixedHeader(
    dv,
    at,
    IGMP_IP_HEADER_LEN,
    IGMP_IP_HEADER_LEN + payloadLength,
    0, // atomic datagram: DF set, the ID means nothing (RFC 6864 §4.1)
    0x4000,
    1,
    IP_PROTOCOL_IGMP,
    src,
    dst,
  );
  b[at + 20] = IPV4_OPT_RA;
  b[at + 21] = 4;
  b[at + 22] = 0; // value 0: every router examines the packet
  b[at + 23] = 0;
  b[at + 10] = 0;
  b[at + 11] = 0;
  const sum = finishChecksum(sumRange(b, at, at + IGMP_IP_HEADER_LEN));
  b[at + 10] = sum >> 8;
  b[at + 11] = sum;
  return IGMP_IP_HEADER_LEN;
}

/**
 * A one-line tcpdump-style description of the IGMP message at `[off, end)`.
 *
 * @example
 * ```ts
 * import { formatIgmp, writeIgmpV12 } from "./igmp.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * writeIgmpV12(b, 0, 0x17, 0xef010203);
 * assert.equal(formatIgmp(b, 0, 8), "igmp leave 239.1.2.3");
 * ```
 */
export function formatIgmp(b: Uint8Array, off: number, end: number): string {
  const kind = checkIgmp(b, off, end);
  switch (kind) {
    case "truncated":
    case "bad_length":
    case "bad_checksum":
      return `igmp [${kind.replace("_", " ")}]`;
    case "query_v1":
      return `igmp query v1`;
    case "query_v2":
    case "query_v3": {
      const v = kind === "query_v2" ? 2 : 3;
      const g = igmpGroup(b, off);
      const what = g === 0 ? "" : ` [gaddr ${dotted(g)}]`;
      const n = v === 3 ? igmpV3QuerySourceCount(b, off) : 0;
      const src = n > 0 ? ` ${n} source(s)` : "";
      return `igmp query v${v}${what}${src} [max resp time ${igmpMaxRespTime(b, off, v) / 10}s]`;
    }
    case "report_v1":
      return `igmp v1 report ${dotted(igmpGroup(b, off))}`;
    case "report_v2":
      return `igmp v2 report ${dotted(igmpGroup(b, off))}`;
    case "leave_v2":
      return `igmp leave ${dotted(igmpGroup(b, off))}`;
    case "report_v3":
      return `igmp v3 report, ${(b[off + 6]! << 8) | b[off + 7]!} group record(s)`;
    default:
      return `igmp type 0x${b[off]!.toString(16)}`;
  }
}

function dotted(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

function writeChecksum(b: Uint8Array, at: number, end: number): void {
  b[at + 2] = 0;
  b[at + 3] = 0;
  const sum = finishChecksum(sumRange(b, at, end));
  b[at + 2] = sum >> 8;
  b[at + 3] = sum;
}
