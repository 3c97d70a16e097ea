/**
 * Errors of `VirtualNetwork.run()`.
 *
 * @module
 */
import type { Duration, Instant } from "../../stack/clock.ts";

/**
 * Thrown by `VirtualNetwork.run()` when the user's promise is pending
 * but nothing is scheduled: no frame in flight, no callback, no node deadline.
 *
 * @example
 * ```ts
 * import { DeadlockError, VirtualNetwork } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * await assert.rejects(net.run(() => new Promise(() => {})), DeadlockError);
 * ```
 */
export class DeadlockError extends Error {
  /** Stable error code. */
  readonly code = "ERR_VIRTUAL_DEADLOCK";
  /**
   * Makes the error for a deadlock found at `at`.
   *
   * @param at The virtual time of the deadlock.
   */
  constructor(at: Instant) {
    super(
      `Cannot finish run(): the scenario is deadlocked at ${at} µs: the promise is pending, but ` +
        `no frame is in flight and no node or timer has a deadline, so nothing can ever settle it`,
    );
    this.name = "DeadlockError";
  }
}

/**
 * Thrown by `VirtualNetwork.run()` when its `timeout` passes on the
 * virtual clock before the user's promise settles.
 *
 * @example
 * ```ts
 * import { VirtualNetwork, VirtualTimeoutError } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * net.addNode({ pollAt: (now) => now + 1_000, poll() {} }); // never idle
 * await assert.rejects(net.run(() => new Promise(() => {}), { timeout: 5_000 }), VirtualTimeoutError);
 * assert.equal(net.now(), 5_000);
 * ```
 */
export class VirtualTimeoutError extends Error {
  /** Stable error code. */
  readonly code = "ERR_VIRTUAL_TIMEOUT";
  /**
   * Makes the error for a `timeout` that passed at `at`.
   *
   * @param timeout The timeout that passed.
   * @param at The virtual time now.
   */
  constructor(timeout: Duration, at: Instant) {
    super(`Cannot finish run(): timed out after ${timeout} µs of virtual time (at ${at} µs)`);
    this.name = "VirtualTimeoutError";
  }
}
