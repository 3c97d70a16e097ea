/**
 * {@linkcode RealTimeRunner}: drives a stack (or anything with `poll` and
 * `pollAt`) on the real clock. The stack never sets timers (GUIDE: time); it
 * says when it next has work (`pollAt`) and does it when told (`poll(now)`).
 * The runner decides how to wait: a `setTimeout` until the next deadline, and
 * a kick from each driver after every batch of received frames
 * (`device.onBatch = runner.kick`).
 *
 * Timers armed from outside a batch — a user calling `stack.ping()` between
 * packets — would be invisible to the runner until its next wake-up. An
 * object with `watchPollAt` (a `Stack`) tells the runner when its deadline
 * moves earlier, so the runner re-arms at once and, idle, sleeps up to
 * `maxSleep` (default 100 ms). Without it the runner never sleeps longer than
 * `maxSleep` (default 10 ms) and {@linkcode RealTimeRunner.kick} after such a
 * call makes it take effect at once. Measured idle over TUN (`deno run -A
 * bench/tun_bench.ts idle`): 87 wake-ups/s and 1.4 CPU-s per idle minute at
 * 10 ms, 10 wake-ups/s and 0.3 CPU-s with the watch (2 busy cores).
 *
 * Received frames never wait for this timer: the device calls `kick` right
 * after each batch, in the turn that read it.
 *
 * @module
 */
import type { Clock, Duration, Instant } from "../../stack/clock.ts";

/**
 * What a runner drives: a `Stack`, a `VirtualNetwork` adapter, or several
 * stacks behind one object.
 *
 * @example
 * ```ts
 * import type { Pollable } from "./runner.ts";
 * import assert from "node:assert/strict";
 * const idle: Pollable = { pollAt: () => undefined, poll: () => {} };
 * assert.equal(idle.pollAt(0), undefined);
 * ```
 */
export interface Pollable {
  /** The next instant with work (at or before `now`: at once), or undefined. */
  pollAt(now: Instant): Instant | undefined;
  /** Does the work due at `now`. */
  poll(now: Instant): void;
  /**
   * Optional: calls `listener` whenever `pollAt` may have moved earlier (null
   * stops). A runner given such an object needs no short safety-net sleep.
   */
  watchPollAt?(listener: (() => void) | null): void;
}

/**
 * Options of {@linkcode RealTimeRunner}.
 *
 * @example
 * ```ts
 * import type { RealTimeRunnerOptions } from "./runner.ts";
 * import { SystemClock } from "../../stack/clock.ts";
 * import assert from "node:assert/strict";
 * const options: RealTimeRunnerOptions = { clock: new SystemClock(), maxSleep: 5_000 };
 * assert.equal(options.maxSleep, 5_000);
 * ```
 */
export interface RealTimeRunnerOptions {
  /** The clock the driven object's deadlines are on (a `SystemClock`). */
  readonly clock: Clock;
  /**
   * Longest sleep between polls, in µs: default 10 ms, or 100 ms when the
   * driven object has `watchPollAt` (it reports earlier deadlines itself).
   */
  readonly maxSleep?: Duration;
  /** Called when `poll` throws (it should not: the stack isolates plugin faults). */
  readonly onError?: (error: unknown) => void;
}

/** Polls in a row at one kick while the object keeps saying "due now". */
const MAX_POLLS_PER_KICK = 64;

/** Longest {@linkcode RealTimeRunner.delay}, ms, and how many may be pending. */
const MAX_DELAY_MS = 60_000;
const MAX_SLEEPS = 64;

/** Default longest sleep, µs, when the driven object cannot report earlier deadlines. */
const BLIND_MAX_SLEEP = 10_000;
/**
 * Default longest sleep, µs, when it can (`watchPollAt`): a safety net for
 * work that is not a timer (a flush an API call requested outside a batch).
 */
const WATCHED_MAX_SLEEP = 100_000;

/**
 * Runs a {@linkcode Pollable} in real time with `setTimeout`.
 *
 * @example
 * ```ts
 * import { RealTimeRunner } from "./runner.ts";
 * import { SystemClock } from "../../stack/clock.ts";
 * import assert from "node:assert/strict";
 * const clock = new SystemClock();
 * let due: number | undefined = clock.now() + 2_000; // 2 ms from now
 * const polled: number[] = [];
 * const runner = new RealTimeRunner({
 *   pollAt: () => due,
 *   poll(now) {
 *     if (due !== undefined && now >= due) {
 *       polled.push(now);
 *       due = undefined;
 *     }
 *   },
 * }, { clock });
 * runner.start();
 * while (polled.length === 0) await new Promise((r) => setTimeout(r, 1));
 * runner.stop();
 * assert.equal(polled.length, 1);
 * ```
 */
export class RealTimeRunner {
  readonly #node: Pollable;
  readonly #clock: Clock;
  readonly #maxSleep: Duration;
  readonly #onError: ((error: unknown) => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #timerDue: Instant = 0;
  #running = false;
  // Inside kick(): deadlines moved by the poll are taken when it re-arms.
  #kicking = false;
  readonly #watched: boolean;
  /** Calls to the driven object's `poll`. */
  polls = 0;
  /** Timer wake-ups. */
  wakeups = 0;
  /** Errors thrown by `poll`. */
  errors = 0;
  /** Re-arms because the driven object reported an earlier deadline between kicks. */
  earlier = 0;
  // Pending delay() sleeps, due instants and resolvers (few: start-up and stop waits).
  readonly #sleeps: { due: Instant; resolve: () => void }[] = [];

  /**
   * Drives `node` on `options.clock`; call {@linkcode start}.
   *
   * @throws {RangeError} If `maxSleep` is not a positive number.
   */
  constructor(node: Pollable, options: RealTimeRunnerOptions) {
    this.#node = node;
    this.#clock = options.clock;
    this.#watched = typeof node.watchPollAt === "function";
    this.#maxSleep = options.maxSleep ?? (this.#watched ? WATCHED_MAX_SLEEP : BLIND_MAX_SLEEP);
    if (!(this.#maxSleep >= 1_000)) {
      throw new RangeError(`Cannot create runner: maxSleep ${options.maxSleep} is below 1 ms`);
    }
    this.#onError = options.onError;
  }

  /** Whether the runner is started. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts: polls once now and arms the timer (and watches the deadline, if it can). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (this.#watched) this.#node.watchPollAt!(this.#onEarlier);
    this.kick();
  }

  /**
   * Polls now and re-arms the timer for the next deadline. Bound to the
   * instance, so it can be handed out: `device.onBatch = runner.kick`.
   */
  readonly kick = (): void => {
    if (!this.#running) return;
    const clock = this.#clock;
    const node = this.#node;
    let now = clock.now();
    let next: Instant | undefined;
    this.#kicking = true;
    try {
      for (let i = 0; i < MAX_POLLS_PER_KICK; i++) {
        node.poll(now);
        this.polls++;
        next = node.pollAt(now);
        if (next === undefined || next > now) break;
        now = clock.now();
      }
    } catch (err) {
      this.errors++;
      this.#onError?.(err);
    } finally {
      this.#kicking = false;
    }
    if (this.#sleeps.length > 0) next = this.#wakeSleepers(next, now);
    // A timer already due has had its work done by this poll: it need not
    // fire (and, still pending, it would keep msUntilWake at 0). A device's
    // blocking wait kicks the runner when its budget runs out, before Deno
    // fires the timer 1-2 ms late.
    if (this.#timer !== undefined && this.#timerDue <= now) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#running) this.#arm(next, now);
  };

  /**
   * Resolves after `ms` milliseconds, on the runner's own timer: a wait that
   * a TUN device's blocking wait (`waitBudget = runner.msUntilWake`) never
   * makes late, unlike a `setTimeout` of the caller's, which waits for the
   * device's sleep to end (up to its `blockMax`). Resolves at once when the
   * runner is stopped, or when it stops.
   *
   * @param ms Milliseconds, 0..60000.
   * @throws {TypeError} If `ms` is not a number.
   * @throws {RangeError} If `ms` is outside 0..60000, or 64 sleeps are pending.
   *
   * @example
   * ```ts
   * import { RealTimeRunner } from "./runner.ts";
   * import { SystemClock } from "../../stack/clock.ts";
   * import assert from "node:assert/strict";
   * const clock = new SystemClock();
   * const runner = new RealTimeRunner({ pollAt: () => undefined, poll() {} }, { clock });
   * runner.start();
   * const t0 = clock.now();
   * await runner.delay(5);
   * runner.stop();
   * assert.ok(clock.now() - t0 >= 5_000);
   * ```
   */
  delay(ms: number): Promise<void> {
    if (typeof ms !== "number" || Number.isNaN(ms)) {
      throw new TypeError(`Cannot delay: ms ${ms} is not a number`);
    }
    if (ms < 0 || ms > MAX_DELAY_MS) {
      throw new RangeError(`Cannot delay: ms ${ms} is not in 0..${MAX_DELAY_MS}`);
    }
    if (this.#sleeps.length >= MAX_SLEEPS) {
      throw new RangeError(`Cannot delay: ${MAX_SLEEPS} delays are already pending`);
    }
    if (!this.#running) return Promise.resolve();
    const now = this.#clock.now();
    const due = now + Math.ceil(ms * 1000);
    return new Promise((resolve) => {
      this.#sleeps.push({ due, resolve });
      this.#arm(due, now);
    });
  }

  // Resolves the sleeps due at `now`; returns the earlier of `next` and the first still pending.
  #wakeSleepers(next: Instant | undefined, now: Instant): Instant | undefined {
    const sleeps = this.#sleeps;
    for (let i = sleeps.length - 1; i >= 0; i--) {
      const s = sleeps[i]!;
      if (s.due <= now || !this.#running) {
        sleeps.splice(i, 1);
        s.resolve();
      } else if (next === undefined || s.due < next) next = s.due;
    }
    return next;
  }

  /**
   * Milliseconds until the runner's timer is due (0: due now; Infinity when
   * stopped). Bound, so it can be handed out: `device.waitBudget =
   * runner.msUntilWake` bounds a TUN device's blocking wait by it.
   */
  readonly msUntilWake = (): number => {
    if (!this.#running) return Infinity;
    if (this.#timer === undefined) return this.#maxSleep / 1000;
    return Math.max(0, (this.#timerDue - this.#clock.now()) / 1000);
  };

  /** Stops: cancels the timer and the watch. The driven object is left as it is. */
  stop(): void {
    if (this.#running && this.#watched) this.#node.watchPollAt!(null);
    this.#running = false;
    if (this.#sleeps.length > 0) this.#wakeSleepers(undefined, this.#clock.now());
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(next: Instant | undefined, now: Instant): void {
    const delay = next === undefined
      ? this.#maxSleep
      : Math.min(this.#maxSleep, Math.max(0, next - now));
    const due = now + delay;
    // An armed timer due no later is good enough: it will re-arm when it fires.
    if (this.#timer !== undefined) {
      if (this.#timerDue <= due) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    // Round up: waking before the deadline would only re-arm for the remainder.
    this.#timer = setTimeout(this.#onTimer, Math.ceil(delay / 1000));
  }

  // A timer armed between kicks (a user's ping) became the earliest: wake for it.
  readonly #onEarlier = (): void => {
    if (this.#kicking || !this.#running) return;
    const now = this.#clock.now();
    const next = this.#node.pollAt(now);
    if (next === undefined) return;
    if (this.#timer !== undefined && this.#timerDue <= Math.max(next, now)) return;
    this.earlier++;
    this.#arm(next, now);
  };

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.wakeups++;
    this.kick();
  };
}
