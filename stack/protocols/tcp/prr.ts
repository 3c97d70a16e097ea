/**
 * Proportional Rate Reduction (RFC 6937), PRR-SSRB: during fast recovery
 * the window is computed on every ACK from what the ACK delivered, so that
 * by the end of recovery the data in flight has come down smoothly to
 * ssthresh (not in one step, and not below it after burst losses), whatever
 * the controller chose as ssthresh. Applies to SACK recovery (RACK or RFC
 * 6675) with every congestion controller; recovery without SACK keeps RFC
 * 6582's window inflation.
 *
 * @module
 */
import type { TcpEndpoint } from "./endpoint.ts";

/**
 * PRR state of one recovery episode.
 *
 * @example
 * ```ts
 * import { Prr } from "./prr.ts";
 * import assert from "node:assert/strict";
 * const prr = new Prr();
 * prr.start(10_000, 7_000); // RecoverFS 10 segments, ssthresh 7
 * // 2 segments delivered, 9 still in flight (above ssthresh): send 0.7 of what left.
 * assert.equal(prr.sendCount(2_000, 9_000, 1000), 1400);
 * ```
 */
export class Prr {
  /** prr_delivered: bytes delivered to the receiver since recovery began. */
  delivered = 0;
  /** prr_out: bytes sent since recovery began. */
  out = 0;
  /** RecoverFS: the data in flight when recovery began. */
  recoverFs = 1;
  /** ssthresh the controller chose. */
  ssthresh = 0;

  /** A recovery episode begins with `pipe` bytes in flight and the new `ssthresh`. */
  start(pipe: number, ssthresh: number): void {
    this.delivered = this.out = 0;
    this.recoverFs = pipe > 0 ? pipe : 1;
    this.ssthresh = ssthresh;
  }

  /**
   * RFC 6937 §3.1 on an ACK that delivered `delivered` bytes with `pipe`
   * bytes in flight after it: how many bytes may be sent now. `safeAck`:
   * the ACK advanced SND.UNA and showed no new loss (RFC 6937bis, Linux's
   * `tcp_cwnd_reduction`): only then may the bound exceed what was delivered.
   */
  sendCount(delivered: number, pipe: number, mss: number, safeAck = true): number {
    this.delivered += delivered;
    let sndcnt: number;
    if (pipe > this.ssthresh) {
      // Proportional part: send ssthresh/RecoverFS of what was delivered.
      sndcnt = Math.ceil(this.delivered * this.ssthresh / this.recoverFs) - this.out;
    } else {
      // Slow-start reduction bound: grow back towards ssthresh, at most one
      // segment more than delivered (PRR-SSRB), and that only on a safe ACK.
      const limit = Math.max(this.delivered - this.out, delivered) + (safeAck ? mss : 0);
      sndcnt = Math.min(this.ssthresh - pipe, limit);
    }
    return sndcnt > 0 ? sndcnt : 0;
  }
}

/** Recovery began: PRR starts from the data in flight now (`pipe`). */
export function prrStart(ep: TcpEndpoint, pipe: number): void {
  if (ep.prr === null) ep.prr = new Prr();
  ep.prr.start(pipe, ep.cc.ssthresh);
}

/**
 * An ACK during SACK recovery delivered `delivered` bytes (cumulatively
 * acknowledged plus newly SACKed) and `pipe` bytes are in flight: cwnd
 * becomes pipe + sndcnt (as Linux's `tcp_cwnd_reduction`). The first
 * ACK of an episode always lets the fast retransmission go.
 */
export function prrOnAck(ep: TcpEndpoint, delivered: number, pipe: number, safeAck = true): void {
  const prr = ep.prr;
  if (prr === null) return;
  if (ep.cc.ownsRecoveryWindow === true) {
    // The controller's packet conservation starts from what is in flight
    // (pipe: SACKed and lost bytes out), not FlightSize: until the fast
    // retransmission goes, at most pipe + 1 segment (Linux BBR on entering
    // recovery: cwnd = packets in flight + acked).
    if (prr.out === 0 && ep.cc.cwnd > pipe + ep.mss) ep.cc.cwnd = pipe + ep.mss;
    return;
  }
  let sndcnt = prr.sendCount(delivered, pipe, ep.mss, safeAck);
  if (prr.out === 0 && sndcnt < ep.mss) sndcnt = ep.mss;
  ep.cc.cwnd = pipe + sndcnt;
}

/** `n` bytes (data or FIN) left during recovery: prr_out. */
export function prrSent(ep: TcpEndpoint, n: number): void {
  if (ep.prr !== null && ep.inRecovery) ep.prr.out += n;
}
