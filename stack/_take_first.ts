/**
 * Taking the first item of a short FIFO array without losing its backing
 * store: V8 drops an array's store when `shift()` (or `splice()`, or a
 * length store) empties it, and the next `push()` allocates it again (152 B
 * each time). The TCP listener's accept queue and the socket adapter's
 * accept waiters hold one item most of the time, so that was 152 B a
 * connection (issue 13); `pop()` of the last item keeps the store.
 *
 * @module
 */

/**
 * Removes and returns the first item of `list` (undefined when empty), as
 * `shift()`, by `pop()` when it is the only one.
 *
 * @example
 * ```ts
 * import { takeFirst } from "./_take_first.ts";
 * import assert from "node:assert/strict";
 * const q = [1, 2];
 * assert.equal(takeFirst(q), 1);
 * assert.equal(takeFirst(q), 2);
 * assert.equal(takeFirst(q), undefined);
 * ```
 */
export function takeFirst<T>(list: T[]): T | undefined {
  return list.length === 1 ? list.pop() : list.shift();
}
