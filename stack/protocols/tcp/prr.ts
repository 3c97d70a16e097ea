/**
 * Proportional Rate Reduction (RFC 6937), PRR-SSRB: during fast recovery
 * the window is computed on every ACK from what the ACK delivered, so that
 * by the end of recovery the data in flight has come down smoothly to
 * ssthresh (not in one step, and not below it after burst losses), whatever
 * the controller chose as ssthresh. Applies to every fast recovery (RACK,
 * RFC 6675, and NewReno's without SACK) with every congestion controller.
 *
 * Without SACK (RFC 6937 §3), DeliveredData is the change in SND.UNA plus
 * one segment per duplicate ACK, and the pipe is FlightSize less those
 * segments: Linux's "Reno SACK emulation" (`tcp_add_reno_sack`,
 * `tcp_remove_reno_sacks`), in bytes. A cumulative ACK after duplicates
 * takes back the segments they counted, all but the hole it filled (so it
 * delivers at least that), and over an episode DeliveredData adds up to
 * what was acknowledged. NewReno's partial-ACK retransmission (RFC 6582
 * §3.2 step 5) and its exit stay; only the window is PRR's.
 *
 * @module
 */
import type { TcpEndpoint } from "./endpoint.ts";
import { seqDiff } from "./seq.ts";

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
  /**
   * Without SACK: bytes the duplicate ACKs stand for (one segment each, Linux's
   * emulated `sacked_out`), at most FlightSize less the one hole.
   */
  renoSacked = 0;

  /** A recovery episode begins with `pipe` bytes in flight and the new `ssthresh`. */
  start(pipe: number, ssthresh: number): void {
    this.delivered = this.out = 0;
    this.recoverFs = pipe > 0 ? pipe : 1;
    this.ssthresh = ssthresh;
    this.renoSacked = 0;
  }

  /**
   * Without SACK: a duplicate ACK with `flight` bytes outstanding stands for
   * one more `mss` delivered above the hole; returns DeliveredData (0 once
   * the duplicates account for everything but the hole: more of them are
   * reordering or duplication, not delivery).
   */
  renoDupAck(mss: number, flight: number): number {
    const before = this.renoSacked;
    let next = before + mss;
    const cap = flight - mss;
    if (next > cap) next = cap > 0 ? cap : 0;
    this.renoSacked = next;
    return next > before ? next - before : 0;
  }

  /**
   * Without SACK: SND.UNA moved by `acked` bytes, leaving `flight` out.
   * Returns DeliveredData: what was acknowledged less what the duplicate
   * ACKs counted already, and at least the hole (one segment, or all of
   * `acked` when less). The duplicates' count keeps what the ACK did not
   * cover (a partial ACK: the segments above the next hole).
   */
  renoAcked(acked: number, mss: number, flight: number): number {
    const hole = acked < mss ? acked : mss;
    const delivered = Math.max(acked - this.renoSacked, hole);
    let left = this.renoSacked - (acked - hole);
    const cap = flight - mss;
    if (left > cap) left = cap;
    this.renoSacked = left > 0 ? left : 0;
    return delivered;
  }

  /**
   * Without SACK, the pipe: `flight` bytes outstanding less those the
   * duplicate ACKs stand for, less `lost` bytes judged lost and not yet
   * resent (the hole at SND.UNA before its retransmission).
   */
  renoPipe(flight: number, lost = 0): number {
    const pipe = flight - this.renoSacked - lost;
    return pipe > 0 ? pipe : 0;
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
 * An ACK during fast recovery delivered `delivered` bytes (cumulatively
 * acknowledged plus newly SACKed, or
 * their emulation without SACK) and `pipe` bytes are in flight: cwnd
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

/**
 * Fast recovery without SACK begins on the `DUP_THRESH`th duplicate ACK
 * (RFC 6582 §3.2 step 2 with RFC 6937 in place of the window inflation):
 * every duplicate so far stands for a segment above the hole, the last one
 * is this ACK's DeliveredData, and the hole at SND.UNA is lost and not yet
 * resent. Call after the controller set ssthresh, before the retransmission.
 */
export function prrRenoStart(ep: TcpEndpoint): void {
  const flight = seqDiff(ep.sndMax, ep.sndUna);
  prrStart(ep, flight);
  const prr = ep.prr!;
  prr.renoSacked = Math.max(0, Math.min((ep.dupAcks - 1) * ep.mss, flight - ep.mss));
  const delivered = prr.renoDupAck(ep.mss, flight);
  prrOnAck(ep, delivered, prr.renoPipe(flight, ep.mss), false);
}

/**
 * A duplicate ACK during fast recovery without SACK: one segment delivered
 * (unless the duplicates already account for the whole flight), the window
 * set by PRR. An ACK that delivered nothing leaves cwnd alone (Linux's
 * `tcp_cwnd_reduction` returns early).
 */
export function prrRenoDupAck(ep: TcpEndpoint): void {
  const prr = ep.prr;
  if (prr === null) return;
  const flight = seqDiff(ep.sndMax, ep.sndUna);
  const delivered = prr.renoDupAck(ep.mss, flight);
  if (delivered > 0) prrOnAck(ep, delivered, prr.renoPipe(flight), false);
}

/**
 * A partial ACK of `acked` bytes during fast recovery without SACK
 * (SND.UNA already moved): DeliveredData per RFC 6937 §3 and the window
 * from PRR, with the next hole (at the new SND.UNA) counted lost and not
 * yet resent. Not a safe ACK: it shows that loss. Call before the hole's
 * retransmission.
 */
export function prrRenoPartialAck(ep: TcpEndpoint, acked: number): void {
  const prr = ep.prr;
  if (prr === null) return;
  const flight = seqDiff(ep.sndMax, ep.sndUna);
  const delivered = prr.renoAcked(acked, ep.mss, flight);
  prrOnAck(ep, delivered, prr.renoPipe(flight, flight > 0 ? ep.mss : 0), false);
}

/**
 * The data in flight during fast recovery without SACK (the hole resent):
 * what the output loop measures cwnd against, as Linux's
 * `tcp_packets_in_flight` with emulated SACKs.
 */
export function prrRenoPipe(ep: TcpEndpoint): number {
  const flight = seqDiff(ep.sndMax, ep.sndUna);
  return ep.prr === null ? flight : ep.prr.renoPipe(flight);
}

/** `n` bytes (data or FIN) left during recovery: prr_out. */
export function prrSent(ep: TcpEndpoint, n: number): void {
  if (ep.prr !== null && ep.inRecovery) ep.prr.out += n;
}
