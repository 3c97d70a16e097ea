/**
 * BBR v1 (draft-cardwell-iccrg-bbr-congestion-control-00): a model of the
 * path, the bottleneck bandwidth (a windowed maximum of delivery-rate
 * samples over 10 packet-timed rounds) and the round-trip propagation time
 * (a windowed minimum of RTT samples over 10 s), and from it a pacing rate
 * (`pacing_gain · BtlBw`) and a window (`cwnd_gain · BDP` plus three
 * segments of headroom). States: Startup (gain 2/ln 2 until the bandwidth
 * stops growing by 25% for three rounds), Drain (the inverse gain until the
 * queue Startup built is gone), ProbeBW (pacing gain cycling
 * 1.25, 0.75, 1 ×6, one phase per RTprop, starting at a random phase other
 * than 0.75), and ProbeRTT (4 segments for 200 ms and a round when RTprop
 * has not been refreshed for 10 s). Loss is not a congestion signal for
 * the model: on entering recovery the window is held to packet
 * conservation for one round and restored afterwards (§4.2.3.4).
 *
 * Units: bytes, bytes/s, µs. Not implemented from the draft: the send
 * quantum (the stack sends one MSS per segment).
 *
 * @module
 */
import type { Instant } from "../../../clock.ts";
import type { Rng } from "../../../rng.ts";
import type { CongestionControl, CongestionOptions } from "./mod.ts";
import type { RateSample } from "./delivery_rate.ts";
import { initialWindow } from "./_window.ts";

/** 2/ln(2): Startup's gains (the smallest that doubles the delivery rate each round). */
export const BBR_HIGH_GAIN = 2 / Math.LN2;
/** ProbeBW's pacing-gain cycle. */
export const BBR_GAIN_CYCLE: readonly number[] = [1.25, 0.75, 1, 1, 1, 1, 1, 1];
const BTLBW_FILTER_ROUNDS = 10;
const RTPROP_FILTER_LEN = 10_000_000;
const PROBE_RTT_DURATION = 200_000;
const FULL_BW_THRESH = 1.25;
const FULL_BW_COUNT = 3;

/** BBR's states. */
export type BbrState = "startup" | "drain" | "probe_bw" | "probe_rtt";

/**
 * A windowed maximum over the last `window` rounds keeping three samples
 * (best, second best in the newer part of the window, third): Kathleen
 * Nichols' algorithm, as Linux's `win_minmax`.
 */
class WindowedMax {
  readonly #window: number;
  readonly #t = [0, 0, 0];
  readonly #v = [0, 0, 0];

  constructor(window: number) {
    this.#window = window;
  }

  get value(): number {
    return this.#v[0]!;
  }

  #reset(t: number, v: number): number {
    this.#t[0] = this.#t[1] = this.#t[2] = t;
    this.#v[0] = this.#v[1] = this.#v[2] = v;
    return v;
  }

  update(t: number, v: number): number {
    const T = this.#t, V = this.#v;
    if (v >= V[0]! || t - T[2]! > this.#window) return this.#reset(t, v);
    if (v >= V[1]!) {
      T[2] = T[1] = t;
      V[2] = V[1] = v;
    } else if (v >= V[2]!) {
      T[2] = t;
      V[2] = v;
    }
    // The best expired: the others move up.
    if (t - T[0]! > this.#window) {
      T[0] = T[1]!;
      V[0] = V[1]!;
      T[1] = T[2]!;
      V[1] = V[2]!;
      T[2] = t;
      V[2] = v;
      if (t - T[0]! > this.#window) {
        T[0] = T[1]!;
        V[0] = V[1]!;
        T[1] = T[2]!;
        V[1] = V[2]!;
      }
    } else if (T[1] === T[0] && t - T[1]! > this.#window / 4) {
      T[2] = T[1] = t;
      V[2] = V[1] = v;
    } else if (T[2] === T[1] && t - T[2]! > this.#window / 2) {
      T[2] = t;
      V[2] = v;
    }
    return V[0]!;
  }
}

/**
 * BBR v1 window and pacing.
 *
 * @example
 * ```ts
 * import { Bbr } from "./bbr.ts";
 * import { RateSample } from "./delivery_rate.ts";
 * import assert from "node:assert/strict";
 * const bbr = new Bbr(1000, 10);
 * assert.equal(bbr.state, "startup");
 * const rs = new RateSample();
 * rs.mss = 1000;
 * // A 1 MB/s path with a 20 ms RTT, a round per sample, never growing: Startup ends.
 * for (let r = 1; r <= 6; r++) {
 *   Object.assign(rs, { now: r * 20_000, rtt: 20_000, deliveryRate: 1_000_000, roundStart: true,
 *     priorDelivered: r * 20_000, delivered: 20_000, newlyDelivered: 2000, inflight: 40_000 });
 *   bbr.onRateSample(rs);
 * }
 * assert.equal(bbr.btlBw, 1_000_000);
 * assert.equal(bbr.rtProp, 20_000);
 * assert.notEqual(bbr.state, "startup");
 * ```
 */
export class Bbr implements CongestionControl {
  /** `"bbr"`. */
  readonly name = "bbr";
  /** Congestion window, bytes. */
  cwnd: number;
  /** Infinity until a recovery saved the window there (the connection restores it when recovery ends). */
  ssthresh = Infinity;
  /** Pacing rate, bytes/s. */
  pacingRate = 0;
  /** Current state. */
  state: BbrState = "startup";
  /** Current pacing gain. */
  pacingGain = BBR_HIGH_GAIN;
  /** Current window gain. */
  cwndGain = BBR_HIGH_GAIN;
  /** RTprop estimate, µs (Infinity before the first sample). */
  rtProp = Infinity;
  /** Startup found the pipe full. */
  filledPipe = false;
  /** Packet-timed rounds seen. */
  roundCount = 0;

  #mss: number;
  readonly #initialCwnd: number;
  readonly #rng: Rng | undefined;
  readonly #btlBw = new WindowedMax(BTLBW_FILTER_ROUNDS);
  #rtPropStamp: Instant = 0;
  #rtPropExpired = false;
  #nextRoundDelivered = 0;
  #roundStart = false;
  #fullBw = 0;
  #fullBwCount = 0;
  #cycleIndex = 0;
  #cycleStamp: Instant = 0;
  #probeRttDoneStamp: Instant = 0;
  #probeRttRoundDone = false;
  #priorCwnd = 0;
  #packetConservation = false;
  #inRecovery = false;
  #rtoRecovery = false;
  #fixedPhase = 0;
  #restartRound = false;
  #idleRestart = false;
  /** Samples of segments sent before this `delivered` count count as app-limited (ProbeRTT). */
  #appLimitedUntil = 0;
  /** Recovery's window is BBR's own (packet conservation), not PRR's. */
  readonly ownsRecoveryWindow = true;

  /** Initial window `initialSegments` segments of `mss` bytes; `options.rng` picks ProbeBW's first phase. */
  constructor(mss: number, initialSegments: number, options: CongestionOptions = {}) {
    this.#mss = mss;
    this.cwnd = this.#initialCwnd = initialWindow(mss, initialSegments);
    this.#rng = options.rng;
  }

  /** The bottleneck-bandwidth estimate, bytes/s. */
  get btlBw(): number {
    return this.#btlBw.value;
  }

  /** Updates the MSS. */
  setMss(mss: number): void {
    this.#mss = mss;
  }

  /** BBR sizes the window from rate samples ({@linkcode onRateSample}), not from ACK counts. */
  onAck(_acked: number, _flight: number, _now: Instant, _rtt: number): void {}

  /** Entering fast recovery: packet conservation for a round, the window saved (§4.2.3.4). */
  onCongestion(flight: number, _now: Instant): void {
    this.#priorCwnd = this.#saveCwnd();
    this.ssthresh = this.#priorCwnd; // the connection sets cwnd to this when recovery ends
    this.cwnd = Math.max(flight, this.#mss) + this.#mss;
    this.#packetConservation = true;
    this.#inRecovery = true;
    this.#restartRound = true; // a round starts now: conservation lasts until it ends
  }

  /** RTO: the window saved, one segment, restored after a round of conservation. */
  onTimeout(_flight: number, _now: Instant): void {
    this.#priorCwnd = this.#saveCwnd();
    this.cwnd = this.#mss;
    this.#packetConservation = true;
    this.#rtoRecovery = true;
    this.#restartRound = true;
  }

  /** A spurious recovery: the saved window comes back. */
  onSpuriousRecovery(): void {
    if (this.#priorCwnd > this.cwnd) this.cwnd = this.#priorCwnd;
    this.#packetConservation = false;
  }

  /**
   * Restarting from idle (§4.3.4.4): pace at exactly the bandwidth estimate
   * in ProbeBW, keep the window, and let no ProbeRTT start on this restart's first ACK.
   */
  onIdleRestart(): void {
    this.#idleRestart = true;
    if (this.state === "probe_bw" && this.btlBw > 0) this.pacingRate = Math.round(this.btlBw);
  }

  /** The model and the control parameters, per ACK (draft §4.1 `BBRUpdateOnACK`). */
  onRateSample(rs: RateSample): void {
    if (rs.newlyDelivered <= 0) return;
    if (rs.mss > 0) this.#mss = rs.mss;
    this.#updateRound(rs);
    this.#recoveryOver(rs);
    this.#updateBtlBw(rs);
    this.#checkCyclePhase(rs);
    this.#checkFullPipe(rs);
    this.#checkDrain(rs);
    this.#updateRtProp(rs);
    this.#checkProbeRtt(rs);
    this.#setPacingRate(rs);
    this.#setCwnd(rs);
    this.#idleRestart = false;
  }

  #bdp(gain: number): number {
    if (this.rtProp === Infinity || this.btlBw === 0) return this.#initialCwnd;
    return gain * this.btlBw * this.rtProp / 1e6;
  }

  /** BBRInflight(gain): the BDP scaled, plus three segments for delayed and stretched ACKs. */
  #inflight(gain: number): number {
    return Math.floor(this.#bdp(gain)) + 3 * this.#mss;
  }

  #updateRound(rs: RateSample): void {
    const delivered = rs.priorDelivered + rs.delivered;
    this.#roundStart = false;
    if (rs.delivered <= 0) return; // no segment record behind this ACK
    if (this.#restartRound) {
      this.#restartRound = false;
      this.#nextRoundDelivered = delivered;
    } else if (rs.priorDelivered >= this.#nextRoundDelivered) {
      this.#nextRoundDelivered = delivered;
      this.roundCount++;
      this.#roundStart = true;
      this.#packetConservation = false;
    }
  }

  #recoveryOver(rs: RateSample): void {
    // Recovery is over (the connection left it; after an RTO, a round later).
    if ((this.#inRecovery && !rs.inRecovery) || (this.#rtoRecovery && this.#roundStart)) {
      this.#inRecovery = this.#rtoRecovery = false;
      this.#packetConservation = false;
      if (this.#priorCwnd > this.cwnd) this.cwnd = this.#priorCwnd;
    }
  }

  #updateBtlBw(rs: RateSample): void {
    if (rs.deliveryRate <= 0) return;
    // Low samples of what ProbeRTT sent are app-limited too (draft §4.3.5, Linux bbr).
    const appLimited = rs.isAppLimited || rs.priorDelivered < this.#appLimitedUntil;
    if (rs.deliveryRate >= this.btlBw || !appLimited) {
      this.#btlBw.update(this.roundCount, rs.deliveryRate);
    }
  }

  #checkCyclePhase(rs: RateSample): void {
    if (this.state !== "probe_bw") return;
    const fullLength = rs.now - this.#cycleStamp > this.rtProp;
    const priorInflight = rs.inflight + rs.newlyDelivered;
    let next: boolean;
    if (this.pacingGain === 1) next = fullLength;
    else if (this.pacingGain > 1) {
      next = fullLength && priorInflight >= this.#inflight(this.pacingGain);
    } else next = fullLength || priorInflight <= this.#inflight(1);
    if (next) this.#advanceCyclePhase(rs.now);
  }

  #advanceCyclePhase(now: Instant): void {
    this.#cycleStamp = now;
    this.#cycleIndex = (this.#cycleIndex + 1) % BBR_GAIN_CYCLE.length;
    this.pacingGain = BBR_GAIN_CYCLE[this.#cycleIndex]!;
  }

  #checkFullPipe(rs: RateSample): void {
    if (this.filledPipe || !this.#roundStart || rs.isAppLimited) return;
    if (rs.priorDelivered < this.#appLimitedUntil) return;
    if (this.btlBw >= this.#fullBw * FULL_BW_THRESH) {
      this.#fullBw = this.btlBw;
      this.#fullBwCount = 0;
      return;
    }
    if (++this.#fullBwCount >= FULL_BW_COUNT) this.filledPipe = true;
  }

  #checkDrain(rs: RateSample): void {
    if (this.state === "startup" && this.filledPipe) {
      this.state = "drain";
      this.pacingGain = 1 / BBR_HIGH_GAIN;
      this.cwndGain = BBR_HIGH_GAIN;
    }
    if (this.state === "drain" && rs.inflight <= this.#inflight(1)) this.#enterProbeBw(rs.now);
  }

  #enterProbeBw(now: Instant): void {
    this.state = "probe_bw";
    this.pacingGain = 1;
    this.cwndGain = 2;
    // A random phase other than the 0.75 one (draft: cycle_index = 8 − 1 − random(0..6)).
    const r = this.#rng !== undefined ? this.#rng.range(0, 6) : (this.#fixedPhase++ % 7);
    this.#cycleIndex = BBR_GAIN_CYCLE.length - 1 - r;
    this.#advanceCyclePhase(now);
  }

  #updateRtProp(rs: RateSample): void {
    this.#rtPropExpired = rs.now > this.#rtPropStamp + RTPROP_FILTER_LEN;
    if (rs.rtt >= 0 && (rs.rtt <= this.rtProp || this.#rtPropExpired)) {
      this.rtProp = rs.rtt;
      this.#rtPropStamp = rs.now;
    }
  }

  #checkProbeRtt(rs: RateSample): void {
    if (this.state !== "probe_rtt" && this.#rtPropExpired && !this.#idleRestart) {
      this.state = "probe_rtt";
      this.pacingGain = 1;
      this.cwndGain = 1;
      this.#priorCwnd = this.#saveCwnd();
      this.#probeRttDoneStamp = 0;
    }
    if (this.state !== "probe_rtt") return;
    this.#appLimitedUntil = Math.max(rs.priorDelivered + rs.delivered + rs.inflight, 1);
    const minPipe = 4 * this.#mss;
    if (this.#probeRttDoneStamp === 0 && rs.inflight <= minPipe) {
      this.#probeRttDoneStamp = rs.now + PROBE_RTT_DURATION;
      this.#probeRttRoundDone = false;
      this.#nextRoundDelivered = rs.priorDelivered + rs.delivered;
    } else if (this.#probeRttDoneStamp !== 0) {
      if (this.#roundStart) this.#probeRttRoundDone = true;
      if (this.#probeRttRoundDone && rs.now > this.#probeRttDoneStamp) {
        this.#rtPropStamp = rs.now;
        if (this.#priorCwnd > this.cwnd) this.cwnd = this.#priorCwnd;
        if (this.filledPipe) this.#enterProbeBw(rs.now);
        else {
          this.state = "startup";
          this.pacingGain = this.cwndGain = BBR_HIGH_GAIN;
        }
      }
    }
  }

  #setPacingRate(rs: RateSample): void {
    // The first sample with an RTT (pacingRate still 0) starts from the
    // initial window per RTT, as Linux `bbr_init_pacing_rate_from_rtt`:
    // a one-segment bandwidth sample must not set the Startup rate.
    if (this.btlBw === 0 || this.pacingRate === 0) {
      // No bandwidth sample yet: the initial window per RTT, at Startup's gain.
      const rtt = rs.rtt > 0 ? rs.rtt : 1000;
      this.pacingRate = Math.round(this.pacingGain * this.cwnd * 1e6 / rtt);
      if (this.btlBw === 0) return;
    }
    const rate = Math.round(this.pacingGain * this.btlBw);
    if (this.filledPipe || rate > this.pacingRate) this.pacingRate = rate;
  }

  #setCwnd(rs: RateSample): void {
    const acked = rs.newlyDelivered;
    const target = this.#inflight(this.cwndGain);
    if (this.#packetConservation) {
      this.cwnd = Math.max(this.cwnd, rs.inflight + acked);
    } else if (this.filledPipe) {
      this.cwnd = Math.min(this.cwnd + acked, target);
    } else if (this.cwnd < target || rs.priorDelivered + rs.delivered < this.#initialCwnd) {
      this.cwnd += acked;
    }
    const minPipe = 4 * this.#mss;
    if (this.cwnd < minPipe) this.cwnd = minPipe;
    if (this.state === "probe_rtt" && this.cwnd > minPipe) this.cwnd = minPipe;
  }

  #saveCwnd(): number {
    return this.#inRecovery || this.state === "probe_rtt"
      ? Math.max(this.#priorCwnd, this.cwnd)
      : this.cwnd;
  }
}
