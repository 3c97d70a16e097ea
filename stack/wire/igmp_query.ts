/**
 * IGMPv3 Membership Queries as a querier writes them (RFC 3376 §4.1), and
 * a reader of the Group Records of a v3 report (§4.2) for routers. Kept
 * beside `igmp.ts` (the host side's codec) so the querier's writer and the
 * router's reader live in the wire layer too.
 *
 * Contract: {@linkcode igmpV3Records} reads only inside `[off, end)` and
 * stops at the first record that does not fit; the writer assumes a buffer
 * sized with {@linkcode igmpV3QueryLength}.
 *
 * @module
 */
import { finishChecksum, sumRange } from "./checksum.ts";
import { encodeIgmpCode, IGMP_QUERY, IGMP_V3_QUERY_MIN_LEN } from "./igmp.ts";

/** What {@linkcode writeIgmpV3Query} writes. */
export interface IgmpV3Query {
  /** The group; 0 for a General Query. */
  readonly group: number;
  /** Max Resp Time, tenths of a second (encoded as §4.1.1's code). */
  readonly maxRespTime: number;
  /** Suppress Router-Side Processing (§4.1.5). */
  readonly suppress: boolean;
  /** Querier's Robustness Variable, 1..7 (§4.1.6). */
  readonly robustness: number;
  /** Querier's Query Interval, seconds (§4.1.7, encoded). */
  readonly queryInterval: number;
  /** The sources of a Group-and-Source-Specific Query. */
  readonly sources: readonly number[];
}

/**
 * The length of a v3 query with `sourceCount` sources.
 *
 * @example
 * ```ts
 * import { igmpV3QueryLength } from "./igmp_query.ts";
 * import assert from "node:assert/strict";
 * assert.equal(igmpV3QueryLength(2), 20);
 * ```
 */
export function igmpV3QueryLength(sourceCount: number): number {
  return IGMP_V3_QUERY_MIN_LEN + 4 * sourceCount;
}

/**
 * Writes an IGMPv3 Membership Query with its checksum; returns its length.
 *
 * @example
 * ```ts
 * import { checkIgmp, igmpV3QuerySuppress } from "./igmp.ts";
 * import { writeIgmpV3Query } from "./igmp_query.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(16);
 * const q = { group: 0xef010203, maxRespTime: 10, suppress: true, robustness: 2, queryInterval: 125, sources: [0x0a000009] };
 * assert.equal(writeIgmpV3Query(b, 0, q), 16);
 * assert.equal(checkIgmp(b, 0, 16), "query_v3");
 * assert.equal(igmpV3QuerySuppress(b, 0), true);
 * assert.deepEqual([...b.subarray(8)], [0x0a, 125, 0, 1, 10, 0, 0, 9]);
 * ```
 */
export function writeIgmpV3Query(b: Uint8Array, at: number, q: IgmpV3Query): number {
  b[at] = IGMP_QUERY;
  b[at + 1] = encodeIgmpCode(q.maxRespTime);
  writeU32(b, at + 4, q.group);
  b[at + 8] = (q.suppress ? 8 : 0) | (q.robustness & 7);
  b[at + 9] = encodeIgmpCode(q.queryInterval);
  b[at + 10] = q.sources.length >> 8;
  b[at + 11] = q.sources.length;
  let r = at + IGMP_V3_QUERY_MIN_LEN;
  for (const s of q.sources) {
    writeU32(b, r, s);
    r += 4;
  }
  b[at + 2] = 0;
  b[at + 3] = 0;
  const sum = finishChecksum(sumRange(b, at, r));
  b[at + 2] = sum >> 8;
  b[at + 3] = sum;
  return r - at;
}

/** One Group Record of a received v3 report. */
export interface IgmpV3RecordRead {
  /** Record Type (§4.2.12). */
  type: number;
  /** Multicast Address. */
  group: number;
  /** Source Addresses. */
  sources: number[];
}

/**
 * The Group Records of the v3 report at `[off, end)` (after `checkIgmp`
 * said `report_v3`), each with its sources (auxiliary data skipped,
 * §4.2.6); a record that does not fit ends the list, and the second
 * result says so.
 *
 * @example
 * ```ts
 * import { writeIgmpV3Report } from "./igmp.ts";
 * import { igmpV3Records } from "./igmp_query.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * writeIgmpV3Report(b, 0, [{ type: 5, group: 0xef010203, sources: [0x0a000009] }]);
 * assert.deepEqual(igmpV3Records(b, 0, 20), [[{ type: 5, group: 0xef010203, sources: [0x0a000009] }], true]);
 * assert.deepEqual(igmpV3Records(b, 0, 19), [[], false]);
 * ```
 */
export function igmpV3Records(
  b: Uint8Array,
  off: number,
  end: number,
): [IgmpV3RecordRead[], boolean] {
  const out: IgmpV3RecordRead[] = [];
  if (end - off < 8) return [out, false];
  const n = (b[off + 6]! << 8) | b[off + 7]!;
  let r = off + 8;
  for (let i = 0; i < n; i++) {
    if (r + 8 > end) return [out, false];
    const aux = b[r + 1]!;
    const ns = (b[r + 2]! << 8) | b[r + 3]!;
    const next = r + 8 + 4 * ns + 4 * aux;
    if (next > end) return [out, false];
    const sources: number[] = [];
    for (let j = 0; j < ns; j++) sources.push(readU32(b, r + 8 + 4 * j));
    out.push({ type: b[r]!, group: readU32(b, r + 4), sources });
    r = next;
  }
  return [out, true];
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}
