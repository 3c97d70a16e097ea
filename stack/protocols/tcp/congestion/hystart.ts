/**
 * HyStart++ (RFC 9406): slow start that watches the per-ACK RTT round by
 * round and, when a round's minimum RTT rises by more than
 * `clamp(lastRoundMinRTT / 8, 4 ms, 16 ms)` over the previous round's,
 * leaves slow start for Conservative Slow Start (CSS): growth divided by
 * `CSS_GROWTH_DIVISOR` for up to `CSS_ROUNDS` rounds, then congestion
 * avoidance with ssthresh = cwnd. If the RTT falls back below the baseline
 * during CSS, the rise was spurious: back to slow start. Shared by NewReno
 * and CUBIC.
 *
 * Choices: used only for the initial slow start (ssthresh still infinite,
 * RFC 9406 §4.3's SHOULD); rounds are the delivery-rate sampler's
 * packet-timed rounds (a segment sent after the round began is delivered),
 * which is the RFC's `windowEnd = SND.NXT` test; no `L` cap on the
 * per-ACK increase (the stack counts every byte a stretch ACK covers, as
 * Linux's slow start does, see `_window.ts`).
 *
 * @module
 */
import type { RateSample } from "./delivery_rate.ts";

/** RFC 9406 §4.2 constants (µs and counts). */
export const HYSTART = {
  MIN_RTT_THRESH: 4_000,
  MAX_RTT_THRESH: 16_000,
  MIN_RTT_DIVISOR: 8,
  N_RTT_SAMPLE: 8,
  CSS_GROWTH_DIVISOR: 4,
  CSS_ROUNDS: 5,
} as const;

/**
 * The HyStart++ state of one connection's slow start.
 *
 * @example
 * ```ts
 * import { HyStartPlusPlus } from "./hystart.ts";
 * import { RateSample } from "./delivery_rate.ts";
 * import assert from "node:assert/strict";
 * const hy = new HyStartPlusPlus();
 * const rs = new RateSample();
 * function round(rtt: number): void {
 *   for (let i = 0; i < 8; i++) {
 *     rs.roundStart = i === 0;
 *     rs.rtt = rtt;
 *     hy.onSample(rs);
 *   }
 * }
 * round(20_000);
 * round(20_500); // +0.5 ms: below the 4 ms threshold
 * assert.equal(hy.inCss, false);
 * round(25_000); // +4.5 ms: Conservative Slow Start
 * assert.equal(hy.inCss, true);
 * assert.equal(hy.growth(4000), 1000); // a quarter of slow start's growth
 * ```
 */
export class HyStartPlusPlus {
  /** In Conservative Slow Start. */
  inCss = false;
  /** CSS rounds completed: slow start is over (the caller sets ssthresh = cwnd). */
  done = false;
  /** Times CSS was entered (for tests and `ss`). */
  cssEntries = 0;
  #lastRoundMinRtt = Infinity;
  #currentRoundMinRtt = Infinity;
  #samples = 0;
  #cssBaselineMinRtt = Infinity;
  #cssRounds = 0;

  /** What slow start adds for `acked` bytes: all of it, or a quarter in CSS. */
  growth(acked: number): number {
    return this.inCss ? acked / HYSTART.CSS_GROWTH_DIVISOR : acked;
  }

  /**
   * One ACK's sample in slow start (RFC 9406 §4.2): round bookkeeping,
   * the delay-increase test, and CSS's way out either side. Returns true
   * when CSS has run its rounds: enter congestion avoidance now.
   */
  onSample(rs: RateSample): boolean {
    if (this.done) return false;
    if (rs.roundStart) {
      this.#lastRoundMinRtt = this.#currentRoundMinRtt;
      this.#currentRoundMinRtt = Infinity;
      this.#samples = 0;
      if (this.inCss && ++this.#cssRounds >= HYSTART.CSS_ROUNDS) {
        this.inCss = false;
        this.done = true;
        return true;
      }
    }
    if (rs.rtt < 0) return false;
    if (rs.rtt < this.#currentRoundMinRtt) this.#currentRoundMinRtt = rs.rtt;
    this.#samples++;
    if (this.#samples < HYSTART.N_RTT_SAMPLE) return false;
    if (!this.inCss) {
      const last = this.#lastRoundMinRtt;
      if (last === Infinity) return false;
      const thresh = Math.max(
        HYSTART.MIN_RTT_THRESH,
        Math.min(last / HYSTART.MIN_RTT_DIVISOR, HYSTART.MAX_RTT_THRESH),
      );
      if (this.#currentRoundMinRtt >= last + thresh) {
        this.#cssBaselineMinRtt = this.#currentRoundMinRtt;
        this.inCss = true;
        this.#cssRounds = 0;
        this.cssEntries++;
      }
    } else if (this.#currentRoundMinRtt < this.#cssBaselineMinRtt) {
      // The delay increase was spurious: slow start again.
      this.#cssBaselineMinRtt = Infinity;
      this.inCss = false;
    }
    return false;
  }

  /** A congestion event or timeout ended slow start: HyStart++ is done for this connection. */
  stop(): void {
    this.inCss = false;
    this.done = true;
  }
}
