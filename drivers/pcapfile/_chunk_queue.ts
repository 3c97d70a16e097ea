/**
 * A queue of byte chunks that the capture parser reads from the front.
 *
 * Memory contract: bytes handed out by {@linkcode ChunkQueue.view} are never
 * overwritten. When a view has to span two chunks, the queue copies the
 * spanned chunks into a *new* buffer instead of compacting in place, so record
 * data returned earlier stays valid for as long as the caller holds it, and
 * the queue itself holds at most one block's worth of bytes plus one chunk.
 *
 * @module
 */

/** @internal FIFO of chunks with a read position. */
export class ChunkQueue {
  #chunks: Uint8Array[] = [];
  #first = 0; // index of the first live chunk in #chunks
  #head = 0; // read position inside #chunks[#first]
  #available = 0;
  /** Absolute offset (in the whole stream) of the read position. */
  offset = 0;

  /** Number of unread bytes. */
  get available(): number {
    return this.#available;
  }

  /** Appends `chunk`; the queue keeps a reference, so it must not change later. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#available += chunk.length;
  }

  /**
   * The next `n` unread bytes as one contiguous view, or `null` when fewer
   * than `n` bytes are queued. Does not consume.
   */
  view(n: number): Uint8Array | null {
    if (n > this.#available) return null;
    const first = this.#chunks[this.#first];
    if (first === undefined) return n === 0 ? new Uint8Array(0) : null;
    if (first.length - this.#head >= n) return first.subarray(this.#head, this.#head + n);
    // Merge whole chunks until `n` bytes are covered (a fresh buffer: earlier
    // views of the old chunks stay intact).
    let size = first.length - this.#head;
    let last = this.#first + 1;
    while (size < n) size += this.#chunks[last++]!.length;
    const merged = new Uint8Array(size);
    merged.set(first.subarray(this.#head), 0);
    let at = first.length - this.#head;
    for (let i = this.#first + 1; i < last; i++) {
      const c = this.#chunks[i]!;
      merged.set(c, at);
      at += c.length;
    }
    this.#chunks.splice(this.#first, last - this.#first, merged);
    this.#head = 0;
    return merged.subarray(0, n);
  }

  /** Consumes `n` bytes (at most {@linkcode available}). */
  consume(n: number): void {
    n = Math.min(n, this.#available);
    this.#available -= n;
    this.offset += n;
    while (n > 0) {
      const c = this.#chunks[this.#first]!;
      const left = c.length - this.#head;
      if (n < left) {
        this.#head += n;
        return;
      }
      n -= left;
      this.#first++;
      this.#head = 0;
    }
    const c = this.#chunks[this.#first];
    if (c !== undefined && this.#head === c.length) {
      this.#first++;
      this.#head = 0;
    }
    if (this.#first > 32 || this.#first === this.#chunks.length) {
      this.#chunks.splice(0, this.#first);
      this.#first = 0;
    }
  }
}
