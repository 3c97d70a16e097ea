/**
 * Promises in tests: watching one without awaiting it, and pinging with retries.
 *
 * @module
 */
import type { Stack } from "../mod.ts";
import type { PingOptions, PingReply } from "../stack/stack.ts";

// ---- promises and captures on disk ------------------------------------------------------

/** A promise's outcome, readable synchronously. */
export interface Tracked<T> {
  /** Whether it settled. */
  readonly settled: boolean;
  /** The value, once fulfilled. */
  readonly value: T | undefined;
  /** The reason, once rejected. */
  readonly error: unknown;
  /** The promise itself (never rejects: it resolves when `p` settles). */
  readonly done: Promise<void>;
}

/**
 * Watches `p` without awaiting it, so a test can start a ping, run the
 * network by hand (`runFor`, `inject`), and look at the outcome later. A
 * rejection is captured, never unhandled.
 *
 * @example
 * ```ts
 * import { track } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const t = track(Promise.reject(new Error("boom")));
 * await t.done;
 * assert.ok(t.settled && t.error instanceof Error);
 * ```
 */
export function track<T>(p: Promise<T>): Tracked<T> {
  const t = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  const done = p.then(
    (v) => {
      t.settled = true;
      t.value = v;
    },
    (e) => {
      t.settled = true;
      t.error = e;
    },
  );
  return Object.assign(t, { done });
}
// ---- pinging with retries ----------------------------------------------------------------

/** What {@linkcode pingRetry} found. */
export interface PingOutcome {
  /** The reply, when one came. */
  readonly reply: PingReply | undefined;
  /** Echo requests sent (1..attempts). */
  readonly attempts: number;
  /** Why each failed attempt failed (error class names). */
  readonly failures: readonly string[];
}

/**
 * Pings `host` until a reply comes or `attempts` run out (default 3 tries of
 * `timeout` ms, default 500). Timeouts and unreachable errors are
 * retried; other errors propagate. Call it inside `env.run(...)`.
 *
 * @example
 * ```ts
 * import { makeLink, ms, pingRetry } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const env = makeLink({ seed: 2 });
 * env.link.partition();
 * const out = await env.run(() => pingRetry(env.a, "10.0.0.2", { attempts: 2, timeout: 100 }));
 * assert.deepEqual([out.reply, out.attempts, out.failures], [undefined, 2, ["TimedOut", "TimedOut"]]);
 * env.finish();
 * ```
 */
export async function pingRetry(
  stack: Stack,
  host: string,
  options: PingOptions & { readonly attempts?: number } = {},
): Promise<PingOutcome> {
  const { attempts = 3, ...ping } = options;
  const failures: string[] = [];
  for (let i = 1; i <= attempts; i++) {
    try {
      const reply = await stack.ping(host, { timeout: 500, ...ping });
      return { reply, attempts: i, failures };
    } catch (e) {
      if (!(e instanceof Deno.errors.TimedOut || e instanceof Deno.errors.NetworkUnreachable)) {
        throw e;
      }
      failures.push(e.name);
    }
  }
  return { reply: undefined, attempts, failures };
}
