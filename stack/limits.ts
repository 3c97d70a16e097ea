/**
 * The dispatcher's fixed bounds: how far one frame may be handed on, how many
 * rounds of deferred work one batch runs, and how many undeclared drop
 * reasons get a counter of their own. Each is a guard against a faulty
 * plugin (issue 16), not a tuning knob.
 *
 * @module
 */

/**
 * Most distinct undeclared drop reasons remembered (and logged once each) per
 * plugin without `strictCounters`; every undeclared drop is counted under
 * `<plugin>.undeclared` alone, and later reasons are not logged.
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
 * Longest drop reason: a declared counter's reason may not be longer (a boot
 * error), and a longer undeclared one is cut to it in the log.
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
 * What a counter name declared in a manifest looks like: lowercase words of
 * `[a-z0-9_]` joined by dots (`rx.bad_checksum`, `prerouting.blocked`).
 *
 * @example
 * ```ts
 * import { COUNTER_NAME_PATTERN } from "./limits.ts";
 * import assert from "node:assert/strict";
 * assert.ok(COUNTER_NAME_PATTERN.test("rx.bad_checksum"));
 * assert.ok(!COUNTER_NAME_PATTERN.test("rx.Bad Checksum"));
 * ```
 */
export const COUNTER_NAME_PATTERN: RegExp = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;

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
