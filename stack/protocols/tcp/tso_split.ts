/**
 * Where TCP with TSO must see a super-segment as the MSS-sized segments the
 * link cuts it into, as Linux does with its multi-packet skbs
 * (`tcp_skb_pcount`):
 *
 * - the tail loss probe resends the LAST segment of the last super-segment,
 *   not its first (Linux's `tcp_send_loss_probe` fragments the skb to keep
 *   its last MSS);
 * - RACK breaks a tie of transmit times by end sequence, so that the pieces
 *   of one super-segment split by SACK are ordered as the wire saw them
 *   (Linux's `tcp_rack_sent_after`);
 * - Nagle holds back a super-segment's tail shorter than one MSS while a
 *   short segment is unacknowledged, and sends the whole segments before it
 *   (Linux's `tcp_mss_split_point` under `tcp_nagle_check`).
 *
 * Without TSO every segment is at most one MSS and none of this changes
 * what is sent.
 *
 * @module
 */
import { seqDiff } from "./seq.ts";

/**
 * The first sequence number of the last MSS-sized segment of
 * `[start, end)`: the part a tail loss probe resends. A record no longer
 * than `mss` is probed whole.
 *
 * @example
 * ```ts
 * import { probeStart } from "./tso_split.ts";
 * import assert from "node:assert/strict";
 * assert.equal(probeStart(1, 2001, 1000), 1001); // two segments: the second
 * assert.equal(probeStart(1, 2501, 1000), 2001); // 2.5 segments: the 500-byte tail
 * assert.equal(probeStart(1, 801, 1000), 1); // one short segment: itself
 * ```
 */
export function probeStart(start: number, end: number, mss: number): number {
  const len = seqDiff(end, start);
  if (len <= mss || mss <= 0) return start;
  return (start + Math.floor((len - 1) / mss) * mss) >>> 0;
}

/**
 * The length of a new super-segment under Nagle's rule (RFC 9293 §3.7.4,
 * Minshall's form): `len` bytes are ready, of which the last `len mod mss`
 * would be a short segment that Nagle holds back; the whole segments before
 * it go now. Returns `len` when it is at most one MSS or a multiple of it
 * (the caller's own Nagle check then decides), else the whole segments.
 *
 * @example
 * ```ts
 * import { nagleSplit } from "./tso_split.ts";
 * import assert from "node:assert/strict";
 * assert.equal(nagleSplit(2500, 1000), 2000); // the 500-byte tail waits
 * assert.equal(nagleSplit(3000, 1000), 3000);
 * assert.equal(nagleSplit(700, 1000), 700);
 * ```
 */
export function nagleSplit(len: number, mss: number): number {
  if (len <= mss) return len;
  return len - (len % mss);
}
