/**
 * Injected time. An {@linkcode Instant} is a whole number of microseconds on
 * some clock's time line. Nothing in `stack/` reads the wall clock: the stack
 * is handed a {@linkcode Clock} and every deadline is computed from it.
 *
 * `SystemClock` is the only wall-clock read in the codebase (GUIDE: time).
 *
 * @module
 */

/** Microseconds on a clock's time line (an integer). */
export type Instant = number;
/** A span of time in microseconds (an integer). */
export type Duration = number;

/** One millisecond as a {@linkcode Duration}. */
export const MILLISECOND: Duration = 1_000;
/** One second as a {@linkcode Duration}. */
export const SECOND: Duration = 1_000_000;

/** A source of the current time. */
export interface Clock {
  /** The current instant in microseconds. */
  now(): Instant;
}

/**
 * A clock that moves only when told to: tests and the loopback network run on
 * it, so that the same scenario always sees the same times.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * import assert from "node:assert/strict";
 * const clock = new ManualClock();
 * clock.advance(1_500);
 * assert.equal(clock.now(), 1_500);
 * ```
 */
export class ManualClock implements Clock {
  #now: Instant;
  /** Starts at `start` microseconds (default 0). */
  constructor(start: Instant = 0) {
    if (!Number.isFinite(start)) throw new RangeError(`Cannot start clock at ${start}`);
    this.#now = Math.floor(start);
  }
  /** The current instant. */
  now(): Instant {
    return this.#now;
  }
  /** Moves the clock forward by `by` microseconds. */
  advance(by: Duration): void {
    if (!(by >= 0) || !Number.isFinite(by)) {
      throw new RangeError(
        `Cannot advance clock by ${by}: expected a finite, non-negative duration`,
      );
    }
    this.#now += Math.floor(by);
  }
  /** Moves the clock to `at`, which must not be in the past. */
  set(at: Instant): void {
    if (!Number.isFinite(at)) throw new RangeError(`Cannot set clock to ${at}`);
    if (at < this.#now) throw new RangeError(`Cannot set clock backwards to ${at}`);
    this.#now = Math.floor(at);
  }
}

/**
 * The real monotonic clock (`performance.now()`), in microseconds since the
 * clock was created.
 *
 * @example
 * ```ts
 * import { SystemClock } from "./clock.ts";
 * import assert from "node:assert/strict";
 * const clock = new SystemClock();
 * assert.ok(clock.now() >= 0);
 * ```
 */
export class SystemClock implements Clock {
  readonly #origin = performance.now();
  /** Microseconds since this clock was created. */
  now(): Instant {
    return Math.floor((performance.now() - this.#origin) * 1000);
  }
}
