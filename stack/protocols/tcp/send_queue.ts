/**
 * A connection's send buffer: the bytes written and not yet acknowledged,
 * kept in pooled packet buffers ("chunks") of one segment each, with header
 * headroom in front, so that a full-sized segment *is* its chunk: TCP writes
 * its header into the headroom and hands the buffer to the network layer,
 * and the payload is never copied from a send buffer into a segment (issue
 * 13's copy 2; Linux's write queue of skbs does the same).
 *
 * **Sharing.** A chunk sent that way belongs to the network layer and the
 * driver from then on (an in-memory link gives it to the receiving stack,
 * whose receive queue may hold it until read); the queue keeps a share of it
 * ({@linkcode PacketBuffer.share}) until the bytes are acknowledged. The
 * queue writes to a chunk only while it is the owner: a retransmission of a
 * chunk anyone else still has (`PacketBuffer.reclaim` fails) is copied into
 * a fresh buffer (`tcp.tx_shared_copies`), and bytes are appended only to a
 * chunk never sent whole (only full chunks go out zero-copy).
 *
 * **TSO.** A bulk write to a TSO route is queued in chunks of one whole
 * super-segment (`sendChunkSize` in output.ts, up to 45 segments in a 64 KiB
 * buffer at MTU 1500), and TCP ends a super-segment at such a chunk's end
 * ({@linkcode SendQueue.restOfLargeChunk}), so a full super-segment is its
 * chunk too, not a copy of 45 (issue 13).
 *
 * **Everything else is copied**, as from the byte ring it replaces: a
 * segment that does not match one full chunk (partial ACKs, SACK holes,
 * a lowered MSS, a super-segment cut short by the window, a short tail,
 * SYN data) is built by {@linkcode SendQueue.peek}.
 *
 * **Bounds.** `length` and `free` count payload bytes against `max`, as the
 * ring did. A chunk takes one segment (`chunkSize`, the MSS when the MSS
 * fills at least half a buffer, else the whole buffer), so the buffers kept,
 * counted whole in {@linkcode SendQueue.allocated} and charged to the
 * stack's TCP memory, stay below about twice `max` plus one buffer.
 *
 * @module
 */
import type { RingAccount } from "./buffer.ts";
import type { PacketBuffer, PacketSharer } from "../../packet.ts";
import {
  DEFAULT_HEADROOM,
  LARGE_BUFFER_SIZE,
  MEDIUM_BUFFER_SIZE,
  type PacketPool,
  SMALL_BUFFER_SIZE,
} from "../../packet_pool.ts";

/** Headroom in front of a chunk's payload: every header of a segment fits it. */
export const CHUNK_HEADROOM = DEFAULT_HEADROOM;

const EMPTY_PACKETS = Object.freeze([]) as unknown as PacketBuffer[];
const EMPTY_NUMBERS = Object.freeze([]) as unknown as number[];
const EMPTY_FLAGS = Object.freeze([]) as unknown as boolean[];

/**
 * Payload bytes a new chunk takes for segments of `mss` bytes: one segment,
 * unless that would leave most of a small (2 KiB) buffer empty; then the
 * whole buffer (such segments are copied out, as from a ring).
 */
export function chunkPayload(mss: number): number {
  return 2 * mss >= SMALL_BUFFER_SIZE ? mss : SMALL_BUFFER_SIZE - CHUNK_HEADROOM;
}

/** The pooled buffer size of a chunk for segments of `mss` bytes (see `PacketPool.alloc`). */
export function chunkBufferSize(mss: number): number {
  const need = chunkPayload(mss) + CHUNK_HEADROOM;
  return need <= SMALL_BUFFER_SIZE
    ? SMALL_BUFFER_SIZE
    : need <= MEDIUM_BUFFER_SIZE
    ? MEDIUM_BUFFER_SIZE
    : need <= LARGE_BUFFER_SIZE
    ? LARGE_BUFFER_SIZE
    : need;
}

/**
 * The send buffer as a queue of chunks.
 *
 * @example
 * ```ts
 * import { SendQueue } from "./send_queue.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * const q = new SendQueue(8192, pool);
 * q.chunkSize = 1448; // an MSS at MTU 1500
 * assert.equal(q.write(new Uint8Array(3000).fill(1)), 3000); // chunks of 1448, 1448, 104
 * const seg = q.segmentChunk(1448, 1448); // the second chunk, whole and full
 * assert.ok(seg !== null);
 * seg.release(); // what the driver does once sent: the queue still keeps it
 * q.discard(3000); // acknowledged: the last chunk stays, emptied, for the next write
 * assert.equal(pool.outstanding, 1);
 * assert.ok(q.release()); // nothing queued: it goes back too
 * assert.equal(pool.outstanding, 0);
 * ```
 */
export class SendQueue implements PacketSharer {
  /** Most payload bytes it holds. */
  readonly max: number;
  /**
   * Payload bytes per new chunk (the connection's MSS); capped by what a
   * pooled buffer holds after the headroom.
   */
  chunkSize = 536;
  readonly #pool: PacketPool;
  readonly #account: RingAccount | null;
  readonly #sharedCopies: { value: number } | null;
  // Chunks from #first on: the buffer, its payload bytes, its capacity, and
  // whether it was sent whole (the queue shares it rather than owns it).
  #pkts: PacketBuffer[] = EMPTY_PACKETS;
  #lens: number[] = EMPTY_NUMBERS;
  #caps: number[] = EMPTY_NUMBERS;
  #shared: boolean[] = EMPTY_FLAGS;
  #first = 0;
  // Bytes of the first chunk already acknowledged.
  #at = 0;
  #length = 0;
  #allocated = 0;
  // A lookup cursor: chunk index and the payload offset (from the first
  // unacknowledged byte, plus #at) where it starts. Segments go out in order,
  // so the next lookup is almost always this chunk or the one after.
  #cursor = 0;
  #cursorAt = 0;

  /**
   * An empty queue of at most `max` bytes, chunks from `pool`, charged to
   * `account`; `sharedCopies` counts the full chunks {@linkcode segmentChunk}
   * refused because someone else still had them.
   */
  constructor(
    max: number,
    pool: PacketPool,
    account: RingAccount | null = null,
    sharedCopies: { value: number } | null = null,
  ) {
    if (!(Number.isInteger(max) && max > 0)) {
      throw new RangeError(`Cannot create a buffer of ${max} bytes`);
    }
    this.max = max;
    this.#pool = pool;
    this.#account = account;
    this.#sharedCopies = sharedCopies;
  }

  /** Unacknowledged bytes. */
  get length(): number {
    return this.#length;
  }
  /** Room left: `max - length`. */
  get free(): number {
    return this.max - this.#length;
  }
  /** Real bytes kept: the chunks' buffers whole. */
  get allocated(): number {
    return this.#allocated;
  }
  /** Whether it holds no bytes. */
  get empty(): boolean {
    return this.#length === 0;
  }
  /** Chunks kept now. */
  get chunks(): number {
    return this.#pkts.length - this.#first;
  }

  /**
   * Real bytes the queue would keep holding `need` bytes (for the memory
   * account's growth decisions): the chunks it has, and whole new ones.
   */
  sizeFor(need: number): number {
    const more = need - this.#length - this.#tailRoom();
    if (more <= 0) return this.#allocated;
    return this.#allocated +
      chunkBufferSize(this.chunkSize) * Math.ceil(more / chunkPayload(this.chunkSize));
  }

  /** Payload bytes it takes while its chunks' buffers stay within `real` bytes. */
  roomWithin(real: number): number {
    const chunks = Math.floor((real - this.#allocated) / chunkBufferSize(this.chunkSize));
    return this.#tailRoom() + (chunks > 0 ? chunks * chunkPayload(this.chunkSize) : 0);
  }

  // Room in the last chunk (one never sent whole).
  #tailRoom(): number {
    const last = this.#pkts.length - 1;
    if (last < this.#first || this.#shared[last]) return 0;
    return this.#caps[last]! - this.#lens[last]!;
  }

  /** Appends as much of `src` as fits; returns how many bytes were taken. */
  write(src: Uint8Array): number {
    let n = Math.min(src.length, this.max - this.#length);
    if (n <= 0) return 0;
    const taken = n;
    let from = 0;
    const ab = src.buffer, o = src.byteOffset;
    const last = this.#pkts.length - 1;
    const cap = chunkPayload(this.chunkSize);
    // Into the last chunk first, if it has room and was never sent whole.
    if (last >= this.#first && !this.#shared[last]) {
      if (this.#lens[last] === 0) {
        // Emptied by an ACK: sized for segments of the MSS now.
        const size = this.#pkts[last]!.buf.length - CHUNK_HEADROOM;
        this.#caps[last] = size < cap ? size : cap;
      }
      const room = this.#caps[last]! - this.#lens[last]!;
      if (room > 0) {
        const k = room < n ? room : n;
        const at = CHUNK_HEADROOM + this.#lens[last]!;
        this.#pkts[last]!.buf.set(k === src.length ? src : new Uint8Array(ab, o, k), at);
        this.#lens[last]! += k;
        from = k;
        n -= k;
      }
    }
    if (n > 0 && this.#pkts === EMPTY_PACKETS) {
      this.#pkts = [];
      this.#lens = [];
      this.#caps = [];
      this.#shared = [];
      this.#first = 0;
    }
    while (n > 0) {
      // allocKept: a medium chunk (MTU 9000) in a store of its own, so
      // keeping it keeps alive what the account charges, not an arena.
      const pkt = this.#pool.allocKept(cap, CHUNK_HEADROOM);
      const size = pkt.buf.length;
      const c = size - CHUNK_HEADROOM < cap ? size - CHUNK_HEADROOM : cap;
      const k = c < n ? c : n;
      // Views made with the constructor, not subarray() (see buffer.ts).
      pkt.buf.set(
        from === 0 && k === src.length ? src : new Uint8Array(ab, o + from, k),
        CHUNK_HEADROOM,
      );
      this.#pkts.push(pkt);
      this.#lens.push(k);
      this.#caps.push(c);
      this.#shared.push(false);
      this.#allocated += size;
      this.#account?.charge(size);
      from += k;
      n -= k;
    }
    this.#length += taken;
    return taken;
  }

  /**
   * The index of the chunk holding payload offset `offset` (from the first
   * unacknowledged byte), with {@linkcode #cursorAt} set to where it starts.
   * The offset must be below `length`.
   */
  #find(offset: number): number {
    const pos = offset + this.#at;
    let i = this.#cursor, start = this.#cursorAt;
    if (i < this.#first || start > pos) {
      i = this.#first;
      start = 0;
    }
    const lens = this.#lens;
    for (let len = lens[i]!; start + len <= pos; len = lens[++i]!) start += len;
    this.#cursor = i;
    this.#cursorAt = start;
    return i;
  }

  /**
   * The chunk to send as the segment of `n` bytes at `offset`, without
   * copying, if those bytes are exactly one full chunk the queue may write
   * to (never sent, or sent and back from everyone else): its data window
   * is set to the payload, the queue keeps a share, and the caller owns it
   * (to prepend the headers and send it). Null otherwise: copy with
   * {@linkcode peek}. Hot path.
   */
  segmentChunk(offset: number, n: number): PacketBuffer | null {
    if (offset + n > this.#length || n <= 0) return null;
    const i = this.#find(offset);
    if (this.#cursorAt !== offset + this.#at || this.#lens[i] !== n || this.#caps[i] !== n) {
      return null;
    }
    const pkt = this.#pkts[i]!;
    if (this.#shared[i]) {
      if (!pkt.reclaim()) {
        if (this.#sharedCopies !== null) this.#sharedCopies.value++;
        return null; // still with a driver or a receiver: copy
      }
    } else this.#shared[i] = true;
    pkt.reset(CHUNK_HEADROOM);
    pkt.end = CHUNK_HEADROOM + n;
    pkt.share(this);
    return pkt;
  }

  /** Chunks keep payload from here on; the headers in front are written for each send. */
  readonly keepsFrom = CHUNK_HEADROOM;

  /**
   * A sent chunk's owner made it writable (`PacketBuffer.makeWritable`: a
   * hook rewriting the payload): the queue keeps `copy` in its place.
   */
  sharedMoved(old: PacketBuffer, copy: PacketBuffer): void {
    const i = this.#pkts.lastIndexOf(old);
    if (i < this.#first) {
      copy.unshare(); // not ours (never so): the copy goes back
      return;
    }
    this.#pkts[i] = copy;
    const grown = copy.buf.length - old.buf.length;
    if (grown !== 0) {
      this.#allocated += grown;
      this.#account?.charge(grown);
    }
  }

  /** Takes no more bytes into the last chunk: the next write starts a new one. */
  sealTail(): void {
    const last = this.#pkts.length - 1;
    if (last >= this.#first && !this.#shared[last] && this.#lens[last]! > 0) {
      this.#caps[last] = this.#lens[last]!;
    }
  }

  /**
   * Bytes from payload offset `offset` to the end of the chunk holding it,
   * if that chunk takes more than `chunkPayload(mss)` bytes and two segments
   * (a TSO super-segment's, see `sendChunkSize` in output.ts; not a one-MSS
   * chunk of a larger MSS before the path MTU dropped); -1 otherwise or past
   * the end. A sender that stops there starts the next super-segment at a
   * chunk's start, where {@linkcode segmentChunk} can hand it out uncopied.
   * Hot path.
   */
  restOfLargeChunk(offset: number, mss: number): number {
    if (offset < 0 || offset >= this.#length) return -1;
    const i = this.#find(offset);
    const cap = this.#caps[i]!;
    if (cap <= chunkPayload(mss) || cap < 2 * mss) return -1;
    return this.#cursorAt + this.#lens[i]! - (offset + this.#at);
  }

  /** Copies `n` bytes from `offset` into `dst` at `at`, without consuming them. */
  peek(offset: number, dst: Uint8Array, at: number, n: number): void {
    if (n <= 0) return;
    let i = this.#find(offset);
    let skip = offset + this.#at - this.#cursorAt;
    while (n > 0) {
      const len = this.#lens[i]!;
      const k = len - skip < n ? len - skip : n;
      const buf = this.#pkts[i]!.buf;
      dst.set(new Uint8Array(buf.buffer, buf.byteOffset + CHUNK_HEADROOM + skip, k), at);
      at += k;
      n -= k;
      skip = 0;
      i++;
    }
  }

  /** Consumes `n` bytes (acknowledged), giving back the chunks read whole. */
  discard(n: number): void {
    if (n > this.#length) n = this.#length;
    if (n <= 0) return;
    this.#length -= n;
    let at = this.#at + n;
    const lens = this.#lens;
    let first = this.#first;
    let freed = 0;
    let dropped = 0;
    const count = this.#pkts.length;
    // The last chunk stays (emptied) while it was never sent whole: the next
    // write fills it again instead of taking a new buffer.
    while (first < count && at >= lens[first]!) {
      if (first === count - 1 && !this.#shared[first] && at === lens[first]) {
        lens[first] = 0;
        at = 0;
        break;
      }
      at -= lens[first]!;
      dropped += lens[first]!;
      freed += this.#drop(first);
      first++;
    }
    this.#at = at;
    this.#advance(first, dropped);
    if (freed !== 0) this.#account?.charge(-freed);
  }

  // Lets go of chunk i (shared: a share; owned: the buffer); returns its size.
  #drop(i: number): number {
    const pkt = this.#pkts[i]!;
    if (this.#shared[i]) pkt.unshare();
    else pkt.release();
    const size = pkt.buf.length;
    this.#allocated -= size;
    return size;
  }

  // Moves the first chunk to `first`, `dropped` bytes of chunks on,
  // compacting the arrays once half are gone.
  #advance(first: number, dropped: number): void {
    // Positions count from the first chunk's start: the cursor's moves with it.
    if (this.#cursor >= first) this.#cursorAt -= dropped;
    else {
      this.#cursor = first;
      this.#cursorAt = 0;
    }
    const count = this.#pkts.length;
    if (first === count) {
      this.#pkts.length =
        this.#lens.length =
        this.#caps.length =
        this.#shared.length =
          0;
      first = this.#cursor = this.#cursorAt = 0;
    } else if (first >= 64 && 2 * first >= count) {
      this.#pkts.splice(0, first);
      this.#lens.splice(0, first);
      this.#caps.splice(0, first);
      this.#shared.splice(0, first);
      this.#cursor -= first;
      first = 0;
    }
    this.#first = first;
  }

  /** Gives the (emptied) last chunk back if nothing is queued; returns whether it did. */
  release(): boolean {
    if (this.#length !== 0 || this.chunks === 0) return false;
    this.dispose();
    return true;
  }

  /** Gives every chunk back (shares dropped, owned buffers released): the queue is no longer used. */
  dispose(): void {
    let freed = 0;
    for (let i = this.#first; i < this.#pkts.length; i++) freed += this.#drop(i);
    if (freed !== 0) this.#account?.charge(-freed);
    if (this.#pkts !== EMPTY_PACKETS) {
      this.#pkts.length =
        this.#lens.length =
        this.#caps.length =
        this.#shared.length =
          0;
    }
    this.#first =
      this.#at =
      this.#length =
      this.#cursor =
      this.#cursorAt =
        0;
  }
}
