/**
 * A queue of byte chunks that the capture parser reads from the front.
 *
 * Memory contract: bytes handed out by {@linkcode ChunkQueue.view} are never
 * overwritten. When a view has to span two chunks, the queue copies the
 * spanned chunks into a *new* buffer instead of compacting in place, so record
 * data returned earlier stays valid for as long as the caller holds it, and
 * the queue itself holds at most one block's worth of bytes plus one chunk.
 *
 * That bound holds whatever the chunking (issue 16): a chunk smaller than
 * {@linkcode COALESCE_BELOW} bytes, or one that would keep alive a backing
 * buffer more than twice its size, is copied into an append-only tail buffer
 * instead of being kept by reference. So a million 1-byte chunks cost about
 * a megabyte, not a million objects, and a 1-byte view of a 64 KiB read
 * buffer does not pin the 64 KiB. Appending never writes over bytes already
 * handed out, so the contract above still holds.
 * {@linkcode ChunkQueue.retainedBytes} reports what the queue keeps alive.
 *
 * @module
 */

/** @internal Chunks below this size are coalesced into the tail buffer. */
export const COALESCE_BELOW = 4096;
/** @internal Size of each tail buffer that small chunks are appended to. */
export const TAIL_SIZE = 65536;

/** @internal FIFO of chunks with a read position. */
export class ChunkQueue {
  #chunks: Uint8Array[] = [];
  #first = 0; // index of the first live chunk in #chunks
  #head = 0; // read position inside #chunks[#first]
  #available = 0;
  #tail: Uint8Array | null = null; // append-only buffer for small chunks
  #tailUsed = 0;
  /** Absolute offset (in the whole stream) of the read position. */
  offset = 0;

  /** Number of unread bytes. */
  get available(): number {
    return this.#available;
  }

  /**
   * Bytes of backing buffers the queue keeps alive (each buffer counted once,
   * at its full `byteLength`), unread bytes included.
   */
  get retainedBytes(): number {
    const seen = new Set<ArrayBufferLike>();
    let n = 0;
    for (let i = this.#first; i < this.#chunks.length; i++) {
      const b = this.#chunks[i]!.buffer;
      if (seen.has(b)) continue;
      seen.add(b);
      n += b.byteLength;
    }
    if (this.#tail !== null && !seen.has(this.#tail.buffer)) n += this.#tail.byteLength;
    return n;
  }

  /** Appends `chunk` by reference: it must not change later. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#available += chunk.length;
    this.#chunks.push(chunk);
  }

  /**
   * Appends `chunk`, copying it where keeping a reference would keep alive
   * more than the bytes: a chunk below {@linkcode COALESCE_BELOW} bytes goes
   * into the tail buffer, one that is a small view of a buffer more than
   * twice its size is copied out. Otherwise kept by reference, as by
   * {@linkcode push}.
   */
  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (n < COALESCE_BELOW) {
      this.#available += n;
      this.#append(chunk);
      return;
    }
    // copy: do not pin a backing buffer more than twice the bytes we need.
    this.push(chunk.buffer.byteLength > 2 * n ? chunk.slice() : chunk);
  }

  /** Appends a small chunk to the tail buffer (a new one when it is full). */
  #append(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      let tail = this.#tail;
      if (tail === null || this.#tailUsed === tail.length) {
        tail = this.#tail = new Uint8Array(TAIL_SIZE);
        this.#tailUsed = 0;
      }
      const take = Math.min(chunk.length - at, tail.length - this.#tailUsed);
      const start = this.#tailUsed;
      tail.set(chunk.subarray(at, at + take), start);
      this.#tailUsed += take;
      at += take;
      const last = this.#chunks[this.#chunks.length - 1];
      if (
        last !== undefined && this.#chunks.length > this.#first && last.buffer === tail.buffer &&
        last.byteOffset + last.length === start
      ) {
        // Extend the last chunk in place: a longer view of the same buffer.
        this.#chunks[this.#chunks.length - 1] = tail.subarray(last.byteOffset, this.#tailUsed);
      } else {
        this.#chunks.push(tail.subarray(start, this.#tailUsed));
      }
    }
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
