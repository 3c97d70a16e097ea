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
 * - a super-segment carries a tail shorter than one MSS only when the stack
 *   would send that tail alone: Nagle holds it back while a short segment is
 *   unacknowledged, and sends the whole segments before it (Linux's
 *   `tcp_mss_split_point` under `tcp_nagle_check`); a congestion window in
 *   bytes sends whole segments (Linux counts packets);
 * - the RTT is timed on a super-segment's first segment (`output.ts`), as
 *   Linux samples an ACK of part of a TSO skb;
 * - `segs_out`, `total_retrans` and their stack counters count the
 *   segments on the wire (Linux's `tcp_skb_pcount`).
 *
 * Without TSO every segment is at most one MSS and none of this changes
 * what is sent.
 *
 * @module
 */
import type { TcpEndpoint } from "./endpoint.ts";
import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from "./seq.ts";

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
 * The length of a super-segment of new data: of `len` bytes (more than one
 * MSS, at most `avail`, the data not yet sent), the whole segments always
 * go, and the last `len mod mss` only when `sendOne` would send it alone as
 * the next segment: so a super-segment is exactly the segments the stack
 * sends without TSO, back to back. That holds back a short tail under
 * Nagle's rule (RFC 9293 §3.7.4, Minshall's form) while another short
 * segment is unacknowledged, as Linux's `tcp_mss_split_point` with
 * `tcp_nagle_check`; a tail that is not the end of the data only when it
 * fills half the peer's largest window (SWS avoidance, §3.8.6.2.1); and it
 * keeps a congestion window in bytes (PRR's) from sending part of a segment,
 * as Linux counts the window in packets. A tail carrying the FIN, a
 * retransmission (go-back-N) or a forced send is not trimmed. Called only
 * when `len` exceeds one MSS, so only with TSO.
 *
 * @example
 * ```ts
 * import { nagleTrim } from "./tso_split.ts";
 * import type { TcpEndpoint } from "./endpoint.ts";
 * import assert from "node:assert/strict";
 * // 100 bytes sent, unacknowledged: a short segment is out.
 * const ep = {
 *   sndUna: 1, sndNxt: 101, sndMax: 101, sndSml: 101, noDelay: false, maxSndWnd: 65535,
 *   finQueued: false,
 * } as TcpEndpoint;
 * assert.equal(nagleTrim(ep, 2500, 1000, 2500, false), 2000); // the 500-byte tail waits
 * assert.equal(nagleTrim(ep, 3000, 1000, 3000, false), 3000);
 * ep.sndUna = 101; // acknowledged: nothing short is out
 * assert.equal(nagleTrim(ep, 2500, 1000, 2500, false), 2500);
 * assert.equal(nagleTrim(ep, 1546, 1000, 9000, false), 1000); // not the end of the data
 * ```
 */
export function nagleTrim(
  ep: TcpEndpoint,
  len: number,
  mss: number,
  avail: number,
  force: boolean,
): number {
  const partial = len % mss;
  const sndNxt = ep.sndNxt;
  if (partial === 0 || force || seqLt(sndNxt, ep.sndMax)) return len;
  if (ep.finQueued && seqAdd(sndNxt, len) === ep.finSeq) return len;
  const smallOut = seqGt(ep.sndSml, ep.sndUna) && seqLe(ep.sndSml, ep.sndMax);
  const all = len === avail && (ep.noDelay || !smallOut);
  const half = ep.maxSndWnd > 0 && partial >= (ep.maxSndWnd >>> 1);
  return all || half ? len : len - partial;
}

/**
 * Counts a super-segment of `len` bytes (more than one MSS) as the segments
 * it becomes on the wire, as Linux counts `tcp_skb_pcount` in `segs_out`,
 * OutSegs, `total_retrans` and RetransSegs: the caller counted one already,
 * this adds the rest, to `segsOut` and `out_segs`, or with `retrans` to
 * `retransSegs` and `retrans_segs`.
 *
 * @example
 * ```ts
 * import { countSuperSegment } from "./tso_split.ts";
 * import type { TcpEndpoint } from "./endpoint.ts";
 * import assert from "node:assert/strict";
 * const counter = () => ({ value: 0 });
 * const ep = {
 *   mss: 1000, segsOut: 1, retransSegs: 0,
 *   core: { c: { out_segs: counter(), retrans_segs: counter() } },
 * } as unknown as TcpEndpoint;
 * countSuperSegment(ep, 2500, false); // three segments on the wire
 * assert.equal(ep.segsOut, 3);
 * ```
 */
export function countSuperSegment(ep: TcpEndpoint, len: number, retrans: boolean): void {
  const more = Math.ceil(len / ep.mss) - 1;
  if (more <= 0) return;
  if (retrans) {
    ep.retransSegs += more;
    ep.core.c.retrans_segs.value += more;
  } else {
    ep.segsOut += more;
    ep.core.c.out_segs.value += more;
  }
}
