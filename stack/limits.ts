/**
 * The dispatcher's fixed bounds: how far one frame may be handed on, how many
 * rounds of deferred work one batch runs, and how many undeclared drop
 * reasons get a counter of their own. Each is a guard against a faulty
 * plugin (issue 16), not a tuning knob.
 *
 * @module
 */

/**
 * Most distinct undeclared drop reasons that get a counter of their own, per
 * plugin (without `strictCounters`); later ones are counted under
 * `<plugin>.undeclared` only.
 *
 * @example
 * ```ts
 * import { MAX_UNDECLARED_REASONS } from "./limits.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MAX_UNDECLARED_REASONS, 16);
 * ```
 */
export const MAX_UNDECLARED_REASONS = 16;

/**
 * Longest undeclared drop reason that gets a counter of its own.
 *
 * @example
 * ```ts
 * import { MAX_REASON_LENGTH } from "./limits.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MAX_REASON_LENGTH, 64);
 * ```
 */
export const MAX_REASON_LENGTH = 64;

/**
 * Most dispatch steps (table lookups and plugin calls) one received frame
 * may take; a frame still being handed on after that is dropped as
 * `dispatcher.rx.loop_limit` (a plugin answering `next` into itself, or two
 * plugins into each other, cannot hang the stack).
 *
 * @example
 * ```ts
 * import { MAX_DISPATCH_STEPS } from "./limits.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MAX_DISPATCH_STEPS, 32);
 * ```
 */
export const MAX_DISPATCH_STEPS = 32;

/**
 * Most rounds of deferred work (`flush()` handlers asked for with
 * `ctx.requestFlush()`) at the end of one batch of frames or timer run; a
 * flush may ask for another, and what is still asked for after the last
 * round waits for the next batch (a flush that always asks again cannot
 * hang the stack).
 *
 * @example
 * ```ts
 * import { MAX_FLUSH_ROUNDS } from "./limits.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MAX_FLUSH_ROUNDS, 8);
 * ```
 */
export const MAX_FLUSH_ROUNDS = 8;
