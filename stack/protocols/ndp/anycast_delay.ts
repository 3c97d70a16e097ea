/**
 * Advertisements for anycast targets, held back a random time (RFC 4861
 * §7.2.7: between 0 and MAX_ANYCAST_DELAY_TIME, 1 s), so that several
 * routers of one subnet do not all answer at once and the solicitor takes
 * whichever came first (they carry no Override flag). Drawn from the stack's
 * RNG and timed by its clock: the same seed sends at the same instants.
 * Bounded like Linux's proxy queue (`proxy_qlen`, 64): past the limit a
 * solicitation is dropped and counted, as Linux drops it.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Counter } from "../../counters.ts";
import type { PluginContext } from "../../manifest.ts";
import type { Timer } from "../../timers.ts";
import type { IpKey } from "../../wire/ip_address.ts";

/** Advertisements waiting at once, at most (Linux's `proxy_qlen` default). */
export const ANYCAST_DELAY_QUEUE = 64;
/** MAX_ANYCAST_DELAY_TIME (RFC 4861 §10), µs. */
export const MAX_ANYCAST_DELAY_TIME = 1_000_000;

/** One advertisement to send later: fixed-size (three keys and numbers, no packet kept). */
interface Waiting {
  readonly due: Instant;
  readonly ifindex: number;
  readonly target: IpKey;
  readonly dst: IpKey;
  readonly flags: number;
}

/** Sends an advertisement for `target` to `dst` on `ifindex` with `flags`. */
export type AdvertiseLater = (ifindex: number, target: IpKey, dst: IpKey, flags: number) => void;

/**
 * The anycast advertisements of one NDP plugin instance that wait.
 *
 * @example
 * ```ts
 * import { AnycastDelay } from "./anycast_delay.ts";
 * import assert from "node:assert/strict";
 * // Built by the NDP plugin with its context, counter and sender.
 * assert.equal(typeof AnycastDelay, "function");
 * ```
 */
export class AnycastDelay {
  readonly #ctx: PluginContext;
  readonly #maxDelay: number;
  readonly #full: Counter;
  readonly #send: AdvertiseLater;
  readonly #timer: Timer;
  /** In due order (ties in arrival order). */
  #waiting: Waiting[] = [];

  /** Delays of up to `maxDelay` µs; `full` counts solicitations dropped at the limit. */
  constructor(ctx: PluginContext, maxDelay: number, full: Counter, send: AdvertiseLater) {
    this.#ctx = ctx;
    this.#maxDelay = maxDelay;
    this.#full = full;
    this.#send = send;
    this.#timer = ctx.timer((now) => this.#fire(now));
  }

  /** How many wait. */
  get size(): number {
    return this.#waiting.length;
  }

  /**
   * Sends the advertisement after a random delay in [0, maxDelay) (at once
   * when maxDelay is 0); false (counted) when {@linkcode ANYCAST_DELAY_QUEUE} wait.
   */
  add(ifindex: number, target: IpKey, dst: IpKey, flags: number): boolean {
    if (this.#maxDelay <= 0) {
      this.#send(ifindex, target, dst, flags);
      return true;
    }
    if (this.#waiting.length >= ANYCAST_DELAY_QUEUE) {
      this.#full.value++;
      return false;
    }
    const due = this.#ctx.now() + Math.floor(this.#ctx.rng.nextFloat() * this.#maxDelay);
    const w: Waiting = { due, ifindex, target, dst, flags };
    let i = this.#waiting.length;
    while (i > 0 && this.#waiting[i - 1]!.due > due) i--;
    this.#waiting.splice(i, 0, w);
    this.#timer.arm(this.#waiting[0]!.due);
    return true;
  }

  /** Forgets those of `ifindex` (its link went down or away). */
  cancelInterface(ifindex: number): void {
    this.#waiting = this.#waiting.filter((w) => w.ifindex !== ifindex);
    this.#rearm();
  }

  /** Forgets all (teardown). */
  close(): void {
    this.#waiting = [];
    this.#timer.cancel();
  }

  #fire(now: Instant): void {
    let n = 0;
    while (n < this.#waiting.length && this.#waiting[n]!.due <= now) n++;
    const due = this.#waiting.splice(0, n);
    this.#rearm();
    for (const w of due) this.#send(w.ifindex, w.target, w.dst, w.flags);
  }

  #rearm(): void {
    if (this.#waiting.length === 0) this.#timer.cancel();
    else this.#timer.arm(this.#waiting[0]!.due);
  }
}
