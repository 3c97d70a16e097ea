/**
 * Describing a thrown value for a log line, totally: a plugin may throw
 * anything, including values whose string conversion throws
 * (`Object.create(null)`, a throwing `toString`, an `Error` whose `stack`
 * getter throws, a revoked `Proxy`, on which even `instanceof` throws).
 * The dispatcher's fault handler must not throw while formatting it, or a
 * plugin could escape its isolation (issue 16).
 *
 * @module
 */

/** Longest description kept (a plugin could throw a 100 MB string). */
export const MAX_FAULT_DETAIL = 2000;

/**
 * A one-line-or-so description of `err` that never throws: the stack or
 * message of an `Error`, the string of anything else, or a fallback naming
 * the type when even that fails. At most {@linkcode MAX_FAULT_DETAIL}
 * characters.
 *
 * @example
 * ```ts
 * import { describeThrown } from "./_fault.ts";
 * import assert from "node:assert/strict";
 * assert.equal(describeThrown("plain"), "plain");
 * assert.match(describeThrown(Object.create(null)), /unprintable object/);
 * const { proxy, revoke } = Proxy.revocable({}, {});
 * revoke();
 * assert.match(describeThrown(proxy), /unprintable/);
 * ```
 */
export function describeThrown(err: unknown): string {
  let s: string;
  try {
    s = tryDescribe(err);
  } catch {
    s = fallback(err);
  }
  return s.length > MAX_FAULT_DETAIL ? `${s.slice(0, MAX_FAULT_DETAIL)}…` : s;
}

function tryDescribe(err: unknown): string {
  if (err instanceof Error) {
    let stack: unknown;
    try {
      stack = err.stack;
    } catch {
      stack = undefined;
    }
    if (typeof stack === "string" && stack !== "") return stack;
    let message: unknown;
    try {
      message = err.message;
    } catch {
      message = undefined;
    }
    return typeof message === "string" ? message : fallback(err);
  }
  const s = String(err);
  return typeof s === "string" ? s : fallback(err);
}

function fallback(err: unknown): string {
  try {
    return `(unprintable ${typeof err} thrown)`;
  } catch {
    return "(unprintable value thrown)";
  }
}
