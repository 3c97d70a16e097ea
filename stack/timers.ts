/**
 * Deadline timers on the stack's clock: an indexed binary min-heap, so arming,
 * re-arming and cancelling are O(log n) and hundreds of thousands of pending
 * timers cost little. Timers never fire by themselves: the stack's `poll(now)`
 * runs the due ones and `pollAt()` says when the next one is due.
 *
 * A {@linkcode Timer} is made once (one callback, created at set-up) and then
 * armed and disarmed as often as needed, so the hot path allocates nothing.
 *
 * @module
 */
import type { Instant } from "./clock.ts";

/** A re-armable deadline with one callback. */
export class Timer {
  /** When it fires, if armed. */
  at: Instant = 0;
  /** Position in the heap, or -1 when not armed. */
  index: number = -1;
  /** Insertion order, so that timers due at the same instant fire in arming order. */
  seq = 0;
  readonly #queue: TimerQueue;
  /** What runs when it fires (the stack wraps it for fault isolation). */
  readonly callback: (now: Instant) => void;
  /** Who owns it (a plugin name), for fault attribution. */
  readonly owner: string;

  /** Use {@linkcode TimerQueue.create}. */
  constructor(queue: TimerQueue, owner: string, callback: (now: Instant) => void) {
    this.#queue = queue;
    this.owner = owner;
    this.callback = callback;
  }
  /** Whether the timer is pending. */
  get armed(): boolean {
    return this.index >= 0;
  }
  /** Arms (or re-arms) the timer to fire at `at`. */
  arm(at: Instant): void {
    this.#queue.arm(this, at);
  }
  /** Arms the timer only if it is not armed or would fire later than `at`. */
  armEarlier(at: Instant): void {
    if (this.index < 0 || at < this.at) this.#queue.arm(this, at);
  }
  /** Cancels the timer if armed. */
  cancel(): void {
    this.#queue.cancel(this);
  }
}

/**
 * The heap of armed timers.
 *
 * @example
 * ```ts
 * import { TimerQueue } from "./timers.ts";
 * import assert from "node:assert/strict";
 * const q = new TimerQueue();
 * const fired: number[] = [];
 * const t = q.create("test", (now) => fired.push(now));
 * t.arm(50);
 * assert.equal(q.nextDeadline(), 50);
 * q.runDue(49, () => {});
 * q.runDue(60, (timer, now) => timer.callback(now));
 * assert.deepEqual(fired, [60]);
 * ```
 */
export class TimerQueue {
  readonly #heap: Timer[] = [];
  #seq = 0;
  /**
   * Called when an arm makes a timer the earliest (the deadline a runner
   * caches may have moved), so a simulator need not ask every idle stack.
   */
  onEarliest: (() => void) | null = null;

  /** Number of armed timers. */
  get size(): number {
    return this.#heap.length;
  }

  /** A new, unarmed timer. */
  create(owner: string, callback: (now: Instant) => void): Timer {
    return new Timer(this, owner, callback);
  }

  /** The earliest deadline, or undefined if nothing is armed. */
  nextDeadline(): Instant | undefined {
    return this.#heap[0]?.at;
  }

  /** @internal */
  arm(t: Timer, at: Instant): void {
    // NaN compares false both ways and would break the heap order silently.
    if (at !== at) throw new RangeError(`Cannot arm timer of "${t.owner}" at NaN`);
    t.at = at;
    t.seq = this.#seq++;
    if (t.index < 0) {
      t.index = this.#heap.length;
      this.#heap.push(t);
      this.#up(t.index);
    } else {
      this.#up(t.index);
      this.#down(t.index);
    }
    if (t.index === 0 && this.onEarliest !== null) this.onEarliest();
  }

  /** Owner (plugin name) of the earliest timer, if any: who `nextDeadline()` speaks for. */
  nextOwner(): string | undefined {
    return this.#heap[0]?.owner;
  }

  /** @internal */
  cancel(t: Timer): void {
    const i = t.index;
    if (i < 0) return;
    const last = this.#heap.pop()!;
    t.index = -1;
    if (last !== t) {
      this.#heap[i] = last;
      last.index = i;
      this.#up(i);
      this.#down(last.index);
    }
  }

  /**
   * Fires every timer due at or before `now`, earliest first, by calling
   * `fire(timer, now)` (the stack wraps callbacks for fault isolation). A timer
   * re-armed for `now` or earlier while running fires again in this call, but at
   * most `limit` timers fire in one call.
   */
  runDue(now: Instant, fire: (t: Timer, now: Instant) => void, limit = 1_000_000): number {
    let n = 0;
    while (n < limit) {
      const t = this.#heap[0];
      if (t === undefined || t.at > now) break;
      this.cancel(t);
      n++;
      fire(t, now);
    }
    return n;
  }

  #less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  #up(i: number): void {
    const h = this.#heap;
    const t = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!this.#less(t, parent)) break;
      h[i] = parent;
      parent.index = i;
      i = p;
    }
    h[i] = t;
    t.index = i;
  }
  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const t = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#less(h[r]!, h[l]!) ? r : l;
      const child = h[c]!;
      if (!this.#less(child, t)) break;
      h[i] = child;
      child.index = i;
      i = c;
    }
    h[i] = t;
    t.index = i;
  }
}
