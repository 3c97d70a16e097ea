/**
 * The TUN loop's wait when quiet (`wait: "block"`, `block_wait.ts`):
 * instead of the worker thread's `poll()`, the JS thread sleeps in `poll()`
 * itself as soon as the device is empty and the JS thread idle (a
 * `setImmediate` callback, one event-loop turn after the last batch, saw
 * nothing read or written), so a frame after a quiet period wakes one
 * thread, not two. Under load the loop yields through those same turns
 * (~4 µs each, where a worker-thread `poll()` costs 9-27 µs), and through a
 * worker-thread `poll()` every {@linkcode MAX_IDLE_CHECKS}th time, so that
 * Deno's runtime parks and polls its own I/O. With `spin`, for that many µs
 * after a frame the quiet loop busy-polls instead of sleeping
 * (`BlockingWait.spin`): the next frame finds the thread running. With
 * `keepWarm`, for {@linkcode KEEP_WARM_WINDOW} after a frame the sleep is
 * cut into slices of that many ms and `onKeepWarm` runs between them
 * (`up`'s runs an IPv4 and an IPv6 echo through a shadow stack,
 * `cli/_up_keep_warm.ts`): idle pings 154 against 243 µs at load 8-12.
 *
 * Private to `io.ts`, whose loop decides when to call it; none of it runs
 * per frame (once per quiet turn, at most once per batch).
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { type BlockingWait, MAX_SPIN_MICROS } from "./block_wait.ts";
import { POLLIN } from "./_libc.ts";
import type { IoStats } from "./io_stats.ts";

/**
 * ms after the last frame during which a sleep is cut into `keepWarm` slices:
 * a device with no traffic pays nothing for it (each slice costs a timer
 * wake-up, ~23 µs of a C program's CPU on this project's VM; see
 * `cli/_up_keep_warm.ts`).
 */
export const KEEP_WARM_WINDOW = 1_000;

/**
 * Idle checks (setImmediate turns) in a row before a worker-thread poll.
 * While frames keep coming the loop never sleeps, and Deno's runtime, never
 * parked, would poll its I/O driver only every ~61 turns (tokio's event
 * interval); a poll() on the worker thread parks it.
 */
export const MAX_IDLE_CHECKS = 16;

/** {@linkcode QuietWait.waitQuiet}: a frame ended the wait; read it now. */
export const QUIET_FRAME = 0;
/** {@linkcode QuietWait.waitQuiet}: the runner was due and ran; poll without waiting. */
export const QUIET_RUNNER_RAN = 1;
/** {@linkcode QuietWait.waitQuiet}: no frame (I/O, a timer or `stop()` ended it). */
export const QUIET_NOTHING = 2;

/** What the wait reads of its loop (`TunIo`): its counters and callbacks, as set now. */
export interface WaitOwner {
  readonly stats: IoStats;
  readonly onBatch: (() => void) | null;
  readonly waitBudget: (() => number) | null;
  readonly onKeepWarm: (() => void) | null;
}

/** The options of the wait (`TunIoOptions`' `blockMax`, `spin`, `keepWarm`). */
export interface QuietWaitOptions {
  readonly blockMax?: number;
  readonly spin?: number;
  readonly keepWarm?: number;
}

/** The blocking wait of one loop, which holds the process's {@linkcode BlockingWait}. */
export class QuietWait {
  readonly #owner: WaitOwner;
  readonly #stats: IoStats;
  readonly #block: BlockingWait;
  readonly #blockMax: number;
  readonly #spinMs: number;
  readonly #keepWarmMs: number;
  // performance.now() of the last batch that read frames (spin and keepWarm only).
  #lastFrameAt = -Infinity;

  /** A wait for `owner`'s loop, sleeping in `block`. */
  constructor(owner: WaitOwner, block: BlockingWait, options: QuietWaitOptions) {
    this.#owner = owner;
    this.#stats = owner.stats;
    this.#block = block;
    this.#blockMax = options.blockMax ?? 0;
    this.#spinMs = Math.min(options.spin ?? 0, MAX_SPIN_MICROS) / 1000;
    this.#keepWarmMs = options.keepWarm ?? 0;
  }

  /** After a batch that read frames: when `spin` and `keepWarm` count from. */
  sawFrames(): void {
    if (this.#spinMs > 0 || this.#keepWarmMs > 0) this.#lastFrameAt = performance.now();
  }

  /**
   * Quiet and idle: spins shortly after a frame, then sleeps up to the
   * budget; when that ends with no frame, runs the runner if it is due.
   * Returns {@linkcode QUIET_FRAME}, {@linkcode QUIET_RUNNER_RAN} or
   * {@linkcode QUIET_NOTHING}.
   */
  waitQuiet(): number {
    const block = this.#block;
    const stats = this.#stats;
    // Shortly after a frame, spin instead: the next one finds the thread running.
    const spinUntil = this.#lastFrameAt + this.#spinMs;
    if (spinUntil > performance.now()) {
      stats.spins++;
      if ((block.spin(spinUntil) & POLLIN) !== 0) {
        stats.spinWakeups++;
        return QUIET_FRAME;
      }
    }
    const budget = this.#blockBudget();
    if (budget > 0) {
      stats.blockWaits++;
      if ((this.#sleep(block, budget) & POLLIN) !== 0) {
        stats.blockWakeups++;
        return QUIET_FRAME;
      }
    }
    return this.#runnerDue() ? QUIET_RUNNER_RAN : QUIET_NOTHING;
  }

  /** Frames read or written so far, whatever became of them. */
  #activity(): number {
    const s = this.#stats;
    return s.rxPackets + s.rxTruncated + s.rxErrors + s.txPackets + s.txErrors;
  }

  /**
   * The blocking wait's precondition, checked in one event-loop turn
   * (~4 µs): resolves true when no promise callback was left to run and
   * nothing was read or written meanwhile. The continuation of a `poll()`
   * on the worker thread does not show it: Deno resolves the async calls
   * that completed in one turn together, so callbacks the last frames set
   * off (an echo service's write, then its next read) may still be queued
   * after ours, even after a 1 ms `poll()` on a loaded machine. Sleeping
   * then would hold their replies until the next frame or timer (issue
   * #13: 64-byte request/response fell to 0.3 k/s, p99 40 ms). A
   * `setImmediate` callback does show it: Deno runs immediates after the
   * turn's completed calls and every microtask they set off. (A
   * `setTimeout(0)` shows it too, but Deno fires it 1-2 ms later, so until
   * session 10 the loop reached its sleep 2-4 ms after the last frame, and
   * pings 2 ms apart found it in a worker-thread `poll()`.)
   */
  idleCheck(): Promise<boolean> {
    const mark = this.#activity();
    return new Promise((resolve) => {
      setImmediate(() => resolve(this.#activity() === mark));
    });
  }

  /**
   * After a sleep that did not end with a frame: when the runner's timer is
   * due, runs the runner here (`onBatch`, its `kick`) and returns true.
   * Deno fires the timer 1-2 ms late, and the loop would spend that time in
   * worker-thread polls, where a frame wakes two threads: idle, with the
   * runner's 100 ms wake-ups, ~10% of pings 100 ms apart came in then. The
   * worker-thread `poll()` that follows still parks the runtime, so other
   * timers and I/O run, but returns at once (timeout 0).
   */
  #runnerDue(): boolean {
    const budget = this.#owner.waitBudget;
    const cb = this.#owner.onBatch;
    if (budget === null || cb === null || budget() > 0) return false;
    try {
      cb();
    } catch {
      this.#stats.callbackErrors++;
    }
    return true;
  }

  /**
   * The blocking sleep of up to `budget` ms, cut into `keepWarm` slices with
   * `onKeepWarm` run between them while the last frame is less than
   * {@linkcode KEEP_WARM_WINDOW} ms old. Returns as `BlockingWait.wait`.
   */
  #sleep(block: BlockingWait, budget: number): number {
    const slice = this.#keepWarmMs;
    const warm = this.#owner.onKeepWarm;
    if (slice <= 0 || warm === null || budget <= slice) return block.wait(budget);
    const until = performance.now() + budget;
    for (;;) {
      const now = performance.now();
      const left = Math.ceil(until - now);
      if (left <= slice || now - this.#lastFrameAt >= KEEP_WARM_WINDOW) {
        return left > 0 ? block.wait(left) : 0;
      }
      const revents = block.wait(slice);
      if (!block.timedOut) return revents;
      // A slice can end late on a loaded machine: no warm-up past the window.
      if (performance.now() - this.#lastFrameAt >= KEEP_WARM_WINDOW) continue;
      this.#stats.keepWarms++;
      try {
        warm();
      } catch {
        this.#stats.callbackErrors++;
      }
    }
  }

  // How long a blocking wait may last: blockMax, and until the runner's timer
  // (rounded up: then the sleep ends with the runner due, and #runnerDue runs it).
  #blockBudget(): number {
    const b = this.#owner.waitBudget?.() ?? Infinity;
    return Math.max(0, Math.min(this.#blockMax, Math.ceil(b)));
  }
}
