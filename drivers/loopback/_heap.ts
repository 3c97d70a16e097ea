/**
 * A binary min-heap of timed entries ordered by `(at, seq)`: earliest first,
 * and among entries due at the same instant, the one pushed first. The
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
  /** Insertion order, the tie-break among entries due at the same instant. */
  readonly seq: number;
}

function before(x: Timed, y: Timed): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

/** @internal A min-heap on `(at, seq)`. */
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
