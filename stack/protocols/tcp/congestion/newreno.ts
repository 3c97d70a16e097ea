/**
 * Reno's window arithmetic (RFC 5681 §3.1): slow start with appropriate byte
 * counting (RFC 3465, every byte acknowledged, as Linux: no L limit, so that
 * stretch ACKs do not slow it down), congestion avoidance adding one SMSS per
 * window acknowledged, halving on congestion; HyStart++ (RFC 9406,
 * `hystart.ts`) in the initial slow start unless turned off. NewReno's partial-ACK handling
 * (RFC 6582) lives in the connection's recovery code.
 *
 * @module
 */
import type { Instant } from "../../../clock.ts";
import type { CongestionControl, CongestionOptions } from "./mod.ts";
import { cwndLimited, initialWindow, slowStart } from "./_window.ts";
import type { RateSample } from "./delivery_rate.ts";
import { HyStartPlusPlus } from "./hystart.ts";

/**
 * NewReno window sizing.
 *
 * @example
 * ```ts
 * import { NewReno } from "./newreno.ts";
 * import assert from "node:assert/strict";
 * const cc = new NewReno(1000, 2);
 * cc.onAck(1000, 2000, 0, 0); // slow start: +1 segment
 * assert.equal(cc.cwnd, 3000);
 * cc.onCongestion(3000, 0);
 * assert.equal(cc.ssthresh, 2000);
 * ```
 */
export class NewReno implements CongestionControl {
  /** `"newreno"`. */
  readonly name = "newreno";
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow-start threshold, bytes. */
  ssthresh = Infinity;
  #mss: number;
  #acked = 0;

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

  /** Slow start or congestion avoidance; only while the window is in use. */
  onAck(acked: number, flight: number, _now: Instant, _rtt: number): void {
    const mss = this.#mss;
    if (!cwndLimited(flight, this.cwnd, mss)) return;
    if (this.cwnd < this.ssthresh) {
      const hy = this.hystart;
      const grow = hy === null || this.ssthresh !== Infinity ? acked : Math.floor(hy.growth(acked));
      this.cwnd = slowStart(this.cwnd, grow, this.ssthresh);
      return;
    }
    this.#acked += acked;
    if (this.#acked >= this.cwnd) {
      this.#acked -= this.cwnd;
      this.cwnd += mss;
    }
  }

  /** RFC 5681 (4): ssthresh = max(FlightSize / 2, 2·SMSS). */
  onCongestion(flight: number, _now: Instant): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.#mss);
    this.cwnd = this.ssthresh;
    this.#acked = 0;
  }

  /**
   * The reduction was spurious: the connection restored cwnd and ssthresh;
   * the congestion-avoidance byte count starts over.
   */
  onSpuriousRecovery(): void {
    this.#acked = 0;
  }

  /** RFC 5681 (4) and the loss window of one segment. */
  onTimeout(flight: number, _now: Instant): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.#mss);
    this.cwnd = this.#mss;
    this.#acked = 0;
  }
}
