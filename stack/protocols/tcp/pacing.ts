/**
 * Pacing and rate sampling for a connection: the glue between the
 * endpoint and the delivery-rate sampler (`congestion/delivery_rate.ts`),
 * and the pacing gate of the output loop. A paced connection sends a
 * segment only when its pacing clock allows, then moves the clock by the
 * segment's transmission time at the pacing rate; held back, it arms its
 * timer (`paceAt`) for the instant the next segment may go (Linux's
 * `tcp_wstamp_ns` with the EDT model, without a qdisc or per-packet
 * promises). The rate is the congestion control's (BBR's
 * `pacing_gain · BtlBw`) or, with the `pacing` option, Linux's default for
 * other algorithms: `cwnd / SRTT` times 2 in slow start (cwnd below half of
 * ssthresh) and 1.2 afterwards (`tcp_update_pacing_rate`).
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { prrRenoPipe } from "./prr.ts";
import { seqDiff } from "./seq.ts";
import { armTimer } from "./timers.ts";

/** Linux `sysctl_tcp_pacing_ss_ratio` and `…_ca_ratio`. */
const PACING_SS_RATIO = 2;
const PACING_CA_RATIO = 1.2;

/** The connection's pacing rate now, bytes/s, or 0 when it is not paced. */
export function pacingRate(ep: TcpEndpoint): number {
  const cc = ep.cc;
  const own = cc.pacingRate;
  if (own !== undefined && own > 0) return own;
  if (!ep.pacing) return 0;
  const srtt = ep.srtt > 0 ? ep.srtt : 1000;
  const ratio = cc.cwnd < cc.ssthresh / 2 ? PACING_SS_RATIO : PACING_CA_RATIO;
  return Math.round(ratio * Math.max(cc.cwnd, ep.mss) * 1e6 / srtt);
}

/**
 * Whether the pacing clock lets a segment go at `now`; if not, the timer is
 * armed for when it will. Hot path: one comparison when not paced.
 */
export function paceAllows(ep: TcpEndpoint, now: Instant): boolean {
  if (ep.paceNext <= now) return true;
  if (pacingRate(ep) === 0) {
    ep.paceNext = 0;
    return true;
  }
  ep.paceAt = ep.paceNext;
  armTimer(ep);
  return false;
}

/**
 * A data segment `[seq, seq + len)` leaves now: the rate sampler records
 * it, the pacing clock moves. Hot path: positional.
 */
export function noteSend(ep: TcpEndpoint, seq: number, len: number, retransmit: boolean): void {
  const now = ep.core.now();
  const inflight = seqDiff(ep.sndMax, ep.sndUna) - (retransmit ? 0 : len);
  const sampler = ep.rateSampler();
  if (inflight <= 0 && sampler.appLimited !== 0) ep.cc.onIdleRestart?.(); // draft-cardwell §4.3.4.4
  if (!sampler.onSend(seq, len, now, inflight, retransmit)) ep.core.c.rate_untracked.value++;
  const rate = pacingRate(ep);
  if (rate === 0) return;
  const start = ep.paceNext > now ? ep.paceNext : now;
  ep.paceNext = start + Math.max(1, Math.round(len * 1e6 / rate));
}

/**
 * After an ACK was processed: the rate sample, handed to the congestion
 * control (BBR's model, HyStart++'s rounds).
 */
export function sampleAck(ep: TcpEndpoint): void {
  const sampler = ep.rate;
  if (sampler === null) return; // no data sent yet: nothing delivered, no sample
  const sb = ep.scoreboard;
  const sacked = sb === null ? 0 : sb.sacked;
  const rs = sampler.onAck(ep.sndUna, sacked, sb?.highest, ep.core.now());
  if (rs.newlyDelivered === 0) return;
  // In recovery, what Linux's tcp_packets_in_flight counts: segments judged
  // lost (by RACK when it runs, else RFC 6675's IsLost) are not in flight;
  // without SACK, the duplicate ACKs' segments are not either.
  rs.inflight = !ep.inRecovery
    ? seqDiff(ep.sndMax, ep.sndUna) - sacked
    : ep.rack !== null
    ? ep.rack.pipe()
    : ep.sackRecovery && sb !== null
    ? sb.pipe(ep.sndUna, ep.sndMax, ep.highRxt, ep.mss)
    : prrRenoPipe(ep);
  rs.inRecovery = ep.inRecovery;
  rs.mss = ep.mss;
  ep.cc.onRateSample?.(rs);
}

/**
 * The output loop stopped with nothing left to send and room in the
 * window: the sender is application-limited (draft-cheng §3.4), so rate
 * samples taken until this flight is delivered do not lower BBR's
 * bandwidth estimate.
 */
export function noteOutputDone(ep: TcpEndpoint): void {
  const flight = seqDiff(ep.sndMax, ep.sndUna);
  if (flight < ep.cc.cwnd && seqDiff(ep.dataEnd, ep.sndNxt) <= 0) {
    // No sampler before the first data segment (nothing delivered yet):
    // the mark, DeliveryRate.markAppLimited's with delivered 0, waits for it.
    if (ep.rate !== null) ep.rate.markAppLimited(flight);
    else ep.rateAppLimited = Math.max(flight, 1);
  }
}
