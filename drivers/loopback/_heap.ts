/**
 * A binary min-heap of timed entries ordered by `(at, key, seq)`: earliest
 * first, and among entries due at the same instant, by a stable key and then
 * the order they were made in. The
 * sequence number is what makes the virtual network deterministic when many
 * frames share a delivery time.
 *
 * @module
 */
import type { Instant } from "../../stack/clock.ts";

/** @internal An entry of {@linkcode EventHeap}. */
export interface Timed {
  /** When the entry is due. */
  readonly at: Instant;
  /**
   * First tie-break among entries due at the same instant: who the entry is
   * for (a link direction's stable id; -1 for callbacks), so the order does
   * not depend on which partition of a split network inserted it.
   */
  readonly key: number;
  /** Second tie-break: the order entries with the same `key` were made in. */
  readonly seq: number;
}

function before(x: Timed, y: Timed): boolean {
  return x.at < y.at || (x.at === y.at && (x.key < y.key || (x.key === y.key && x.seq < y.seq)));
}

/** @internal A min-heap on `(at, key, seq)`. */
export class EventHeap<T extends Timed> {
  readonly #items: T[] = [];

  /** Number of entries. */
  get size(): number {
    return this.#items.length;
  }

  /** The earliest entry, not removed. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds `item`. */
  push(item: T): void {
    const a = this.#items;
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = a[parent]!;
      if (!before(item, p)) break;
      a[i] = p;
      i = parent;
    }
    a[i] = item;
  }

  /** Keeps only the entries `keep` accepts (O(n): rebuilds the heap). */
  retain(keep: (item: T) => boolean): void {
    const kept = this.#items.filter(keep);
    this.#items.length = 0;
    for (const item of kept) this.push(item);
  }

  /** Removes and returns the earliest entry. */
  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    const n = a.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(a[r]!, a[l]!)) c = r;
      if (!before(a[c]!, last)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/** Slots a drained FIFO keeps for the next burst (8 bytes each). */
const FIFO_KEEP = 1 << 16;

/**
 * @internal A min-queue on `(at, key, seq)` for the network's frames and
 * callbacks, which mostly arrive in order: an entry not earlier
 * than the newest queued in order goes to a FIFO, the rest to a heap, and
 * the earlier of the two heads comes out first: the same order as one heap
 * (the keys are unique), without a sift-down per frame when a burst shares
 * a delivery instant (every zero-delay link).
 */
export class EventQueue<T extends Timed> {
  readonly #heap = new EventHeap<T>();
  /**
   * The FIFO's entries are `#fifo[#head..#tail)`. A drained FIFO keeps its
   * array (a `length = 0` dropped the backing store, which every burst then
   * grew again: allocations per frame).
   */
  readonly #fifo: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  /** Number of entries. */
  get size(): number {
    return this.#heap.size + this.#tail - this.#head;
  }

  /** The earliest entry, not removed. */
  peek(): T | undefined {
    const f = this.#head < this.#tail ? this.#fifo[this.#head] : undefined;
    const h = this.#heap.peek();
    if (f === undefined) return h;
    return h !== undefined && before(h, f) ? h : f;
  }

  /** Adds `item`. */
  push(item: T): void {
    const fifo = this.#fifo;
    const t = this.#tail;
    if (t === this.#head || !before(item, fifo[t - 1]!)) {
      if (t < fifo.length) fifo[t] = item;
      else fifo.push(item);
      this.#tail = t + 1;
    } else this.#heap.push(item);
  }

  /**
   * Removes and returns the earliest entry if it is due at or before `now`
   * (one comparison of the two heads, where `peek()` then `pop()` made two).
   */
  popDue(now: Instant): T | undefined {
    const f = this.#head < this.#tail ? this.#fifo[this.#head] : undefined;
    const h = this.#heap.peek();
    if (f === undefined || (h !== undefined && before(h, f))) {
      return h !== undefined && h.at <= now ? this.#heap.pop() : undefined;
    }
    return f.at <= now ? this.#shiftFifo(f) : undefined;
  }

  /** Removes and returns the earliest entry. */
  pop(): T | undefined {
    const f = this.#head < this.#tail ? this.#fifo[this.#head] : undefined;
    const h = this.#heap.peek();
    if (f === undefined || (h !== undefined && before(h, f))) return this.#heap.pop();
    return this.#shiftFifo(f);
  }

  /** Takes `f`, the FIFO's head. */
  #shiftFifo(f: T): T {
    const fifo = this.#fifo;
    fifo[this.#head] = undefined; // hold no frame or callback past its turn
    const head = ++this.#head;
    const tail = this.#tail;
    if (head === tail) {
      this.#head = this.#tail = 0;
      if (fifo.length > FIFO_KEEP) fifo.length = 0; // a burst's array is not kept forever
    } else if (head > 1024 && 2 * head > tail) {
      // A loop, not copyWithin()/fill(): those builtins go element by
      // element through the generic property path.
      const n = tail - head;
      for (let i = 0; i < n; i++) fifo[i] = fifo[head + i];
      for (let i = n; i < tail; i++) fifo[i] = undefined;
      this.#head = 0;
      this.#tail = n;
    }
    return f;
  }
}
