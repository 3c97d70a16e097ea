/**
 * TIME-WAIT reuse (RFC 9293 §3.10.7.4, RFC 1122 §4.2.2.13, RFC 6191): a SYN
 * for a connection in TIME-WAIT may open a new incarnation of it, but only
 * when nothing of the old one can be mistaken for the new one: the SYN is
 * beyond the old connection (its sequence number past the old RCV.NXT, or
 * with timestamps its TSval past the last one seen), and the new
 * connection's ISN is above the old connection's SND.NXT, so the peer's
 * window for the new connection cannot accept the old one's duplicates.
 *
 * @module
 */
import type { TcpEndpoint } from "./endpoint.ts";
import { seqAdd, seqGt } from "./seq.ts";

/**
 * Space left between the old connection's SND.NXT and the new ISN: the
 * largest unscaled window, so no old segment still in flight lands in the
 * new connection's first window (Linux `tcp_timewait_state_process` leaves
 * the same 65535 + 2).
 */
export const REOPEN_ISN_GAP = 65537;

/**
 * The lowest ISN a new incarnation of `ep` (in TIME-WAIT) may use: just past
 * its SND.NXT (SND.MAX: everything it ever sent) and a window.
 *
 * @example
 * ```ts
 * import { reopenIssFloor } from "./timewait.ts";
 * import assert from "node:assert/strict";
 * // deno-lint-ignore no-explicit-any
 * const old = { sndMax: 0xffff_fff0 } as any;
 * assert.equal(reopenIssFloor(old), (0xffff_fff0 + 65537) >>> 0);
 * ```
 */
export function reopenIssFloor(ep: Pick<TcpEndpoint, "sndMax">): number {
  return seqAdd(ep.sndMax, REOPEN_ISN_GAP);
}

/**
 * The ISN for a new connection: `isn` (RFC 6528's hash) when there is no
 * old incarnation (`floor` undefined) or when it already lies beyond
 * `floor` in sequence space, else `floor` itself.
 *
 * @example
 * ```ts
 * import { issAbove } from "./timewait.ts";
 * import assert from "node:assert/strict";
 * assert.equal(issAbove(100, undefined), 100);
 * assert.equal(issAbove(100, 5000), 5000); // the hash's ISN is below the old SND.NXT
 * assert.equal(issAbove(9000, 5000), 9000);
 * ```
 */
export function issAbove(isn: number, floor: number | undefined): number {
  if (floor === undefined || seqGt(isn, floor)) return isn;
  return floor >>> 0;
}
