/**
 * CUBIC (RFC 9438): after a congestion event the window follows
 * `W(t) = C·(t − K)³ + W_max` (segments, seconds), with C = 0.4 and a
 * multiplicative decrease β = 0.7, fast convergence (§4.7), and the
 * Reno-friendly region (§4.3) using α = 3(1 − β)/(1 + β). Slow start is
 * Reno's with HyStart++ (RFC 9406, `hystart.ts`) unless turned off.
 *
 * @module
 */
import type { Instant } from "../../../clock.ts";
import type { CongestionControl, CongestionOptions } from "./mod.ts";
import { cwndLimited, initialWindow, slowStart } from "./_window.ts";
import type { RateSample } from "./delivery_rate.ts";
import { HyStartPlusPlus } from "./hystart.ts";

const C = 0.4;
const BETA = 0.7;
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);

/**
 * CUBIC window sizing.
 *
 * @example
 * ```ts
 * import { Cubic } from "./cubic.ts";
 * import assert from "node:assert/strict";
 * const cc = new Cubic(1000, 10);
 * cc.onCongestion(10_000, 0);
 * assert.equal(cc.cwnd, 7000); // β = 0.7
 * // One second later the window has grown back towards W_max = 10 segments.
 * for (let t = 1; t <= 100; t++) cc.onAck(1000, cc.cwnd, t * 10_000, 10_000);
 * assert.ok(cc.cwnd > 7000);
 * ```
 */
export class Cubic implements CongestionControl {
  /** `"cubic"`. */
  readonly name = "cubic";
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow-start threshold, bytes. */
  ssthresh = Infinity;
  #mss: number;
  /** Window before the last reduction, segments. */
  #wMax = 0;
  /** Start of the current congestion-avoidance epoch, or -1. */
  #epoch = -1;
  #k = 0;
  /** Reno-friendly estimate, segments. */
  #wEst = 0;
  #cwndEpoch = 0;
  /** W_max and K before the last reduction (for an undo). */
  #priorWMax = 0;
  #priorK = 0;

  /**
   * HyStart++ in the initial slow start, made at the first rate sample (a
   * connection that delivers no data, most short ones, never needs it; a
   * new one would only return slow start's growth until then); null
   * before that, and always when turned off.
   */
  hystart: HyStartPlusPlus | null = null;
  /** HyStart++ is on (`options.hystart` not false). */
  readonly #hystartOn: boolean;

  /**
   * Initial window `initialSegments` segments of `mss` bytes (RFC 6928);
   * HyStart++ unless `options.hystart` is false.
   */
  constructor(mss: number, initialSegments: number, options: CongestionOptions = {}) {
    this.#mss = mss;
    this.cwnd = initialWindow(mss, initialSegments);
    this.#hystartOn = options.hystart !== false;
  }

  /** HyStart++'s RTT rounds while in the initial slow start. */
  onRateSample(rs: RateSample): void {
    if (this.ssthresh !== Infinity) return;
    let hy = this.hystart;
    if (hy === null) {
      if (!this.#hystartOn) return;
      hy = this.hystart = new HyStartPlusPlus();
    }
    if (hy.done) return;
    if (hy.onSample(rs)) this.ssthresh = this.cwnd; // RFC 9406: CSS over, congestion avoidance
  }

  /** Updates the MSS. */
  setMss(mss: number): void {
    this.#mss = mss;
  }

  /** Slow start, then the cubic curve (or the Reno-friendly line, whichever is higher). */
  onAck(acked: number, flight: number, now: Instant, rtt: number): void {
    const mss = this.#mss;
    if (!cwndLimited(flight, this.cwnd, mss)) return;
    if (this.cwnd < this.ssthresh) {
      const hy = this.hystart;
      const grow = hy === null || this.ssthresh !== Infinity ? acked : Math.floor(hy.growth(acked));
      this.cwnd = slowStart(this.cwnd, grow, this.ssthresh);
      return;
    }
    const segs = this.cwnd / mss;
    if (this.#epoch < 0) {
      this.#epoch = now;
      this.#cwndEpoch = segs;
      if (segs < this.#wMax) {
        this.#k = Math.cbrt((this.#wMax - segs) / C);
      } else {
        this.#k = 0;
        this.#wMax = segs;
      }
      this.#wEst = segs;
    }
    const t = (now - this.#epoch + rtt) / 1e6;
    let target = C * (t - this.#k) ** 3 + this.#wMax;
    if (target < segs) target = segs;
    if (target > 1.5 * segs) target = 1.5 * segs;
    const ackedSegs = acked / mss;
    // §4.3: W_est grows like Reno with an AIMD increase of ALPHA per window.
    this.#wEst += ALPHA * ackedSegs / segs;
    let next: number;
    if (this.#wEst > target) next = this.#wEst;
    else next = segs + ((target - segs) / segs) * ackedSegs;
    this.cwnd = Math.max(this.cwnd, Math.floor(next * mss));
  }

  #reduce(): void {
    const segs = this.cwnd / this.#mss;
    this.#priorWMax = this.#wMax;
    this.#priorK = this.#k;
    // §4.7 fast convergence.
    this.#wMax = segs < this.#wMax ? segs * (1 + BETA) / 2 : segs;
    this.ssthresh = Math.max(Math.floor(this.cwnd * BETA), 2 * this.#mss);
    this.#epoch = -1;
  }

  /** §4.6: ssthresh = cwnd·β, cwnd = ssthresh. */
  onCongestion(_flight: number, _now: Instant): void {
    this.#reduce();
    this.cwnd = this.ssthresh;
  }

  /**
   * The reduction was spurious: W_max as it was before it (so fast
   * convergence does not lower it), and a new epoch from the restored window.
   */
  onSpuriousRecovery(): void {
    this.#wMax = Math.max(this.#priorWMax, this.cwnd / this.#mss);
    this.#k = this.#priorK;
    this.#epoch = -1;
  }

  /** §4.8: the same reduction, then one segment. */
  onTimeout(_flight: number, _now: Instant): void {
    this.#reduce();
    this.cwnd = this.#mss;
  }
}
