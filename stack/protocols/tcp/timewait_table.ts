/**
 * Compact TIME-WAIT (Linux's `inet_timewait_sock`): a connection that
 * reaches TIME-WAIT with nothing left but the wait (closed by its user, no
 * data, timers or recovery pending) leaves the connection table and is kept
 * as a 120-byte record of what TIME-WAIT processing reads (tuple, sequence
 * spaces, windows, timestamps, options: `timewait_record.ts`), in a table
 * of its own with one stack timer for all of them (every record waits the
 * same 2×MSL, so they expire in insertion order). A full endpoint weighs about 2 KiB of heap (its congestion
 * control, rate sampler and timer included) and, since thousands are kept
 * for a minute, every garbage collection copied or marked them: that was
 * more than half of the time of a connect/accept/close cycle.
 *
 * Nothing changes on the wire: a segment for a record makes it a full
 * endpoint again ({@linkcode TimeWaitTable.revive}), with every field the
 * TIME-WAIT processing reads restored (buffers, timers and recovery were
 * empty, or the connection would not have been compacted; RTT, congestion
 * control and statistics start afresh: nothing in TIME-WAIT sends by them,
 * and `ss` shows a TIME-WAIT entry's tuple and timer only), the usual code
 * answers, and the endpoint is compacted again afterwards. The
 * record expires at the same instant the endpoint's timer would have
 * fired, publishing the same `connection-state` event. TIME-WAIT entries
 * still count towards `maxConnections` and still hold their 4-tuple.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Timer } from "../../timers.ts";
import { formatIpKeyPort, type IpKey } from "../../wire/ip_address.ts";
import type { TcpCore } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { CLOSED, type TcpState, TIME_WAIT } from "./state.ts";
import type { TupleHasher } from "./table.ts";
import { armTimer } from "./timers.ts";
import {
  D_CLOSE_AT,
  IPV6,
  localPortOf,
  MAPPED,
  readRecord,
  remotePortOf,
  W_BITS,
  W_IRS,
  W_ISS,
  W_LA4,
  W_PORTS,
  W_RA4,
  WIDTH,
  writeRecord,
} from "./timewait_record.ts";

/** Stale queue entries (revived records) tolerated beyond the live ones before the queue is rebuilt. */
const STALE_SLACK = 64;
/** Rows allocated at first use (the first chunk of the column store, 8.4 KB). */
const INITIAL_ROWS = 16;

/**
 * The chunk of the column store holding `row`: chunk 0 holds rows 0–15,
 * chunk k ≥ 1 rows 2^(k+3) to 2^(k+4) − 1, so that each doubling adds one
 * chunk as large as all before it. Chunks of a fixed 16 rows cost a typed
 * array each: in Deno every one is an allocation outside V8's heap of tens
 * of µs (8.4 KB: 45 µs, this machine), 1,024 of them for 16,384 records.
 */
function chunkOf(row: number): number {
  return row < INITIAL_ROWS ? 0 : 28 - Math.clz32(row);
}

/** The word where `row` starts in its chunk ({@linkcode chunkOf}). */
function offsetOf(row: number): number {
  return (row < INITIAL_ROWS ? row : row & ((1 << (31 - Math.clz32(row))) - 1)) * WIDTH;
}

/**
 * A chunk for `rows` free rows, as words: zeroed, and a closeAt of 0 marks a
 * free row (a record's is never 0: `canCompact`), so no page of it is
 * touched before a record is written there.
 */
function newChunk(rows: number): Uint32Array {
  return new Uint32Array(rows * WIDTH);
}

/** The doubles of `chunk` (the same buffer). */
function timesOf(chunk: Uint32Array): Float64Array {
  return new Float64Array(chunk.buffer);
}
/**
 * The row arrays of a table without storage, shared by every such table
 * (four empty typed arrays per idle stack were 800 B): zero-length, so
 * nothing is ever written into it.
 */
const NO_ROWS = new Int32Array(0);
/**
 * How long the records must stay few (a quarter of the rows, or none)
 * before the storage shrinks or is released, µs. Records of a burst of
 * closes all end together 2×MSL later; a workload that closes in bursts
 * (a benchmark's rounds, a crawler's batches) would otherwise release the
 * storage at the end of each and grow it again, row by row, in the next.
 */
export const STORAGE_LINGER = 5_000_000;

/**
 * Whether `ep` holds nothing beyond what a TIME-WAIT record
 * keeps: in TIME-WAIT, closed by its user, everything sent acknowledged,
 * no buffer, scoreboard, recovery, pending ACK, D-SACK, urgent data or
 * Fast Open cookie, and no deadline but the TIME-WAIT one (a buffer trim
 * is dropped: TIME-WAIT holds no buffer).
 */
export function canCompact(ep: TcpEndpoint): boolean {
  return ep.state === TIME_WAIT && ep.user === null && ep.listener === null &&
    ep.error === null && ep.closeAt !== 0 && ep.rtoAt === 0 && ep.delackAt === 0 &&
    ep.keepAt === 0 && ep.pmtuAt === 0 && ep.rackAt === 0 && ep.paceAt === 0 &&
    !ep.ackNow && ep.ackPendingBytes === 0 && !ep.ackAtFlush &&
    ep.sndUna === ep.sndMax && ep.sndNxt === ep.sndMax && ep.sndBuf === null &&
    ep.rcvBuf === null && ep.asm === null && ep.scoreboard === null && ep.rack === null &&
    ep.prr === null && ep.undo === null && !ep.inRecovery && ep.dsackLeft === ep.dsackRight &&
    !ep.urgentMode && ep.urgSeq === -1 && ep.oobByte === -1 && ep.tfoCookie === null;
}

/**
 * Whether `ep` is a TIME-WAIT endpoint compacted into a record: its
 * user's socket still holds it, but it is in no table and never changes
 * again (a segment revives a new endpoint; the record expires alone).
 */
export function isCompacted(ep: TcpEndpoint): boolean {
  return ep.state === TIME_WAIT &&
    ep.core.conns.lookup(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort) !== ep;
}

/**
 * The state a user's socket shows of `ep`: its own, or for a compacted
 * endpoint TIME-WAIT while its connection is still kept (as a record, or
 * revived) and CLOSED once it has ended, as the full endpoint would have.
 */
export function shownState(ep: TcpEndpoint): TcpState {
  if (!isCompacted(ep)) return ep.state;
  const core = ep.core;
  const cur = core.conns.lookup(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort);
  if (cur !== undefined) {
    return cur.state === TIME_WAIT && cur.iss === ep.iss && cur.irs === ep.irs ? TIME_WAIT : CLOSED;
  }
  return core.timeWait.holds(ep) ? TIME_WAIT : CLOSED;
}

/** What `ss` lists of one TIME-WAIT record ({@linkcode TimeWaitTable.records}). */
export interface TimeWaitEntry {
  readonly localAddr: IpKey;
  readonly localPort: number;
  readonly remoteAddr: IpKey;
  readonly remotePort: number;
  /** The connection showed IPv4-mapped addresses (a dual-stack listener's). */
  readonly mapped: boolean;
  /** When the TIME-WAIT ends, µs. */
  readonly closeAt: Instant;
}

/**
 * The TIME-WAIT records of one stack: a column store (a row of 32-bit
 * words per record, `timewait_record.ts`, IPv6 addresses in a plain array), a chained hash
 * by 4-tuple in `Int32Array`s, and an expiry queue of (row, generation)
 * pairs in `closeAt` order. No object per record: the garbage collector
 * never sees them. Grown by doubling up to the records alive (bounded by
 * `maxConnections`), shrunk when they fall to a quarter, released when the
 * last one ends (each once that has lasted {@linkcode STORAGE_LINGER}).
 */
export class TimeWaitTable {
  readonly #core: TcpCore;
  /** The connection table's hasher (keyed): the same hash, kept per row. */
  readonly #hasher: TupleHasher;
  #rows = 0;
  /**
   * The rows' words, in chunks ({@linkcode chunkOf}): growing adds one chunk
   * and copies nothing (copying, and touching fresh pages twice, made
   * growth cost more than the records).
   */
  #words: Uint32Array[] = [];
  /** The same chunks as doubles (the times). */
  #times: Float64Array[] = [];
  /**
   * IPv6 local and remote keys per row ("" for IPv4), made at the first
   * IPv6 record: an IPv4-only stack keeps no array of two strings per row
   * (32,768 slots for 16,384 records, grown by copying, on V8's heap).
   */
  #v6: string[] = [];
  /** Each row's tuple hash, kept from `settle` so growing and removing rehash nothing. */
  #hash = NO_ROWS;
  /** Next row in the hash chain, or the next free row; -1 ends. */
  #next = NO_ROWS;
  /** Bumped when a row is freed: queue entries of an older generation are stale. */
  #gen = NO_ROWS;
  /** Hash buckets (a power of two, twice the rows): first row, or -1. */
  #heads = NO_ROWS;
  #free = -1;
  #size = 0;
  /** Expiry queue: row, generation, row, generation… from `#qHead` to `#qTail`. */
  #queue = NO_ROWS;
  #qHead = 0;
  #qTail = 0;
  #stale = 0;
  #timer: Timer | null = null;
  /** Since when the records have been few (a quarter of the rows or fewer), or -1. */
  #lowSince = -1;

  /**
   * An empty table for `core`'s connections, hashing by `hasher` (the
   * connection table's): nothing allocated until the first record.
   */
  constructor(core: TcpCore, hasher: TupleHasher) {
    this.#core = core;
    this.#hasher = hasher;
  }

  /** Number of records. */
  get size(): number {
    return this.#size;
  }

  /** Whether a record holds a tuple. */
  has(la: IpKey, lp: number, ra: IpKey, rp: number): boolean {
    return this.#find(la, lp, ra, rp) >= 0;
  }

  /** Whether a record holds `ep`'s connection (its tuple, ISS and IRS). */
  holds(ep: TcpEndpoint): boolean {
    const row = this.#find(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort);
    if (row < 0) return false;
    const w = this.#words[chunkOf(row)]!;
    const o = offsetOf(row);
    return w[o + W_ISS] === ep.iss && w[o + W_IRS] === ep.irs;
  }

  #find(la: IpKey, lp: number, ra: IpKey, rp: number): number {
    if (this.#size === 0) return -1;
    const chunks = this.#words;
    const v4 = typeof la === "number";
    const ports = (lp << 16 | rp) >>> 0;
    const hash = this.#hasher.hash(la, lp, ra, rp);
    const hashes = this.#hash;
    let row = this.#heads[hash & (this.#heads.length - 1)]!;
    while (row >= 0) {
      // The kept hash first: a row of another tuple is passed over without
      // reading its record (a cache miss per row in a table of megabytes).
      if (hashes[row] !== hash) {
        row = this.#next[row]!;
        continue;
      }
      const w = chunks[chunkOf(row)]!;
      const o = offsetOf(row);
      if (w[o + W_PORTS] === ports) {
        if (v4) {
          if ((w[o + W_BITS]! & IPV6) === 0 && w[o + W_LA4] === la && w[o + W_RA4] === ra) {
            return row;
          }
        } else if (this.#v6[2 * row] === la && this.#v6[2 * row + 1] === ra) return row;
      }
      row = this.#next[row]!;
    }
    return -1;
  }

  /**
   * Compacts `ep` if it may be ({@linkcode canCompact}): it leaves the
   * connection table and its timer stops; a record takes its place, in
   * the expiry queue at its `closeAt`.
   */
  settle(ep: TcpEndpoint): void {
    if (!canCompact(ep)) return;
    if (this.#free < 0) this.#grow();
    const row = this.#free;
    this.#free = this.#next[row]!;
    const chunk = chunkOf(row);
    writeRecord(this.#words[chunk]!, this.#times[chunk]!, offsetOf(row), ep);
    if (typeof ep.localAddr !== "number") {
      if (this.#v6.length === 0) this.#v6 = new Array(2 * this.#rows).fill("");
      this.#v6[2 * row] = ep.localAddr;
      this.#v6[2 * row + 1] = ep.remoteAddr as string;
    }
    const hash = this.#hasher.hash(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort);
    this.#hash[row] = hash;
    const h = hash & (this.#heads.length - 1);
    this.#next[row] = this.#heads[h]!;
    this.#heads[h] = row;
    this.#size++;
    if (this.#lowSince >= 0 && this.#size > this.#rows >> 2) this.#lowSince = -1; // busy again
    this.#enqueue(row);
    this.#core.conns.remove(ep);
    ep.timer.cancel();
    const timer = this.#timer ??= this.#core.ctx.timer((now) => this.#expire(now));
    timer.armEarlier(ep.closeAt);
  }

  /**
   * Makes the record for a tuple a full endpoint again, in the connection
   * table with its timer armed, or returns undefined when there is none.
   */
  revive(la: IpKey, lp: number, ra: IpKey, rp: number): TcpEndpoint | undefined {
    const row = this.#find(la, lp, ra, rp);
    if (row < 0) return undefined;
    const ep = this.#endpoint(row);
    this.#remove(row);
    this.#stale++;
    // Bounded: the queue holds at most twice the live records, plus a little.
    if (this.#stale > STALE_SLACK && this.#stale > this.#size) this.#rebuildQueue();
    this.#core.conns.insert(ep);
    armTimer(ep);
    return ep;
  }

  /** Every record, for `ss` (which shows a TIME-WAIT entry's tuple and timer only). */
  records(): TimeWaitEntry[] {
    const out: TimeWaitEntry[] = [];
    for (let row = 0; row < this.#rows; row++) {
      if (!this.#live(row)) continue;
      const w = this.#words[chunkOf(row)]!;
      const o = offsetOf(row);
      const bits = w[o + W_BITS]!;
      const v6 = (bits & IPV6) !== 0;
      out.push({
        localAddr: v6 ? this.#v6[2 * row]! : w[o + W_LA4]!,
        localPort: localPortOf(w, o),
        remoteAddr: v6 ? this.#v6[2 * row + 1]! : w[o + W_RA4]!,
        remotePort: remotePortOf(w, o),
        mapped: (bits & MAPPED) !== 0,
        closeAt: this.#closeAt(row),
      });
    }
    return out;
  }

  /** Ends every TIME-WAIT now (the stack stops), with the usual events. */
  clear(): void {
    const tell = this.#core.ctx.hasEventListeners("connection-state");
    for (let row = 0; row < this.#rows; row++) {
      if (!this.#live(row)) continue;
      if (tell) this.#closed(row);
      this.#remove(row);
    }
    this.#timer?.cancel();
    this.#release();
  }

  /** When `row`'s TIME-WAIT ends, or 0 for a free row. */
  #closeAt(row: number): Instant {
    return this.#times[chunkOf(row)]![(offsetOf(row) >> 1) + D_CLOSE_AT]!;
  }

  /** Whether `row` holds a record (free rows have closeAt 0). */
  #live(row: number): boolean {
    return this.#closeAt(row) !== 0;
  }

  /** A new endpoint with the record's fields (not in any table, no timer). */
  #endpoint(row: number): TcpEndpoint {
    const chunk = chunkOf(row);
    return readRecord(
      this.#core,
      this.#words[chunk]!,
      this.#times[chunk]!,
      offsetOf(row),
      this.#v6[2 * row]!,
      this.#v6[2 * row + 1]!,
    );
  }

  /** Takes `row` out of the hash chains and frees it; its queue entry goes stale. */
  #remove(row: number): void {
    const h = this.#hash[row]! & (this.#heads.length - 1);
    const next = this.#next;
    let cur = this.#heads[h]!;
    let prev = -1;
    while (cur >= 0 && cur !== row) {
      prev = cur;
      cur = next[cur]!;
    }
    if (cur < 0) return;
    if (prev < 0) this.#heads[h] = next[row]!;
    else next[prev] = next[row]!;
    this.#times[chunkOf(row)]![(offsetOf(row) >> 1) + D_CLOSE_AT] = 0;
    if (this.#v6.length > 0) this.#v6[2 * row] = this.#v6[2 * row + 1] = "";
    this.#gen[row] = (this.#gen[row]! + 1) | 0;
    next[row] = this.#free;
    this.#free = row;
    this.#size--;
  }

  /** Doubles the rows (the first time: makes them), rehashing every record. */
  #grow(): void {
    const old = this.#rows;
    const rows = old === 0 ? INITIAL_ROWS : old * 2;
    const chunk = newChunk(rows - old);
    this.#words.push(chunk);
    this.#times.push(timesOf(chunk));
    const next = new Int32Array(rows);
    const gen = new Int32Array(rows);
    gen.set(this.#gen);
    const hash = new Int32Array(rows);
    hash.set(this.#hash);
    if (this.#v6.length > 0) {
      for (let row = old; row < rows; row++) this.#v6.push("", "");
    }
    const heads = new Int32Array(rows * 2).fill(-1);
    this.#gen = gen;
    this.#hash = hash;
    this.#heads = heads;
    this.#next = next;
    // Rechain the records (every old row is live: rows are added only when none is free).
    for (let row = 0; row < old; row++) {
      const h = hash[row]! & (heads.length - 1);
      next[row] = heads[h]!;
      heads[h] = row;
    }
    // The new rows, on the free list in order.
    for (let row = rows - 1; row >= old; row--) {
      next[row] = this.#free;
      this.#free = row;
    }
    this.#rows = rows;
  }

  /** All records gone: give the storage back (an idle stack holds none). */
  #release(): void {
    this.#rows = 0;
    this.#words = [];
    this.#times = [];
    this.#v6 = [];
    this.#next = NO_ROWS;
    this.#gen = NO_ROWS;
    this.#hash = NO_ROWS;
    this.#heads = NO_ROWS;
    this.#queue = NO_ROWS;
    this.#free = -1;
    this.#size =
      this.#qHead =
      this.#qTail =
      this.#stale =
        0;
    this.#lowSince = -1;
  }

  #enqueue(row: number): void {
    if (this.#qTail + 2 > this.#queue.length) {
      // Slide the live part to the front, growing if it is more than half full.
      const live = this.#qTail - this.#qHead;
      const q = live * 2 + 2 > this.#queue.length
        ? new Int32Array(Math.max(2 * INITIAL_ROWS, this.#queue.length * 2))
        : this.#queue;
      q.copyWithin(0, this.#qHead, this.#qTail);
      if (q !== this.#queue) q.set(this.#queue.subarray(this.#qHead, this.#qTail));
      this.#queue = q;
      this.#qHead = 0;
      this.#qTail = live;
    }
    // In closeAt order: a record revived to answer a segment that did not
    // restart 2×MSL (old data, a PAWS-old ACK) goes back before the newer
    // ones, or every probed record would stay a full endpoint.
    const q = this.#queue;
    const closeAt = this.#closeAt(row);
    let at = this.#qTail;
    while (at > this.#qHead) {
      const r = q[at - 2]!;
      const live = this.#gen[r] === q[at - 1];
      if (live && this.#closeAt(r) <= closeAt) {
        break;
      }
      at -= 2;
    }
    if (at < this.#qTail) q.copyWithin(at + 2, at, this.#qTail);
    q[at] = row;
    q[at + 1] = this.#gen[row]!;
    this.#qTail += 2;
  }

  #rebuildQueue(): void {
    const q = this.#queue;
    let w = 0;
    for (let i = this.#qHead; i < this.#qTail; i += 2) {
      const row = q[i]!;
      if (this.#gen[row] !== q[i + 1]) continue;
      q[w++] = row;
      q[w++] = q[i + 1]!;
    }
    this.#qHead = 0;
    this.#qTail = w;
    this.#stale = 0;
  }

  /** The timer: ends every TIME-WAIT due by `now`, then waits for the next. */
  #expire(now: Instant): void {
    const q = this.#queue;
    // Asked once per batch, not per record: a burst of closes ends in one batch.
    const tell = this.#core.ctx.hasEventListeners("connection-state");
    while (this.#qHead < this.#qTail) {
      const row = q[this.#qHead]!;
      if (this.#gen[row] === q[this.#qHead + 1]) {
        if (this.#closeAt(row) > now) break;
        if (tell) this.#closed(row);
        this.#remove(row);
      } else this.#stale--;
      this.#qHead += 2;
    }
    let next = Infinity;
    if (this.#size === 0 || (this.#rows > INITIAL_ROWS && this.#size <= this.#rows >> 2)) {
      // Few records left: give storage back only once that has lasted
      // STORAGE_LINGER, so back-to-back bursts reuse it (see there).
      if (this.#lowSince < 0) this.#lowSince = now;
      if (now - this.#lowSince >= STORAGE_LINGER) {
        if (this.#size === 0) {
          this.#release();
          return;
        }
        this.#shrink();
      } else next = this.#lowSince + STORAGE_LINGER;
    } else this.#lowSince = -1;
    if (this.#size > 0) {
      const row = this.#queue[this.#qHead]!;
      next = Math.min(next, this.#closeAt(row));
    }
    this.#timer!.arm(next);
  }

  /**
   * The records fell to a quarter of the rows: moves them, in expiry
   * order, to a store of the smallest power of two at least twice their
   * number, so that a burst of closes does not keep its storage for as
   * long as any record lives (under steady load, for ever). Amortized:
   * the rows at least halve for a copy of a quarter of them.
   */
  #shrink(): void {
    let rows = INITIAL_ROWS;
    while (rows < 2 * this.#size) rows *= 2;
    const words: Uint32Array[] = [];
    for (let r = 0; r < rows; r = r === 0 ? INITIAL_ROWS : 2 * r) {
      words.push(newChunk(r === 0 ? INITIAL_ROWS : r));
    }
    const v6: string[] = this.#v6.length > 0 ? new Array(rows * 2).fill("") : [];
    const hash = new Int32Array(rows);
    const next = new Int32Array(rows);
    const heads = new Int32Array(rows * 2).fill(-1);
    const queue = new Int32Array(Math.max(2 * INITIAL_ROWS, 4 * this.#size));
    const q = this.#queue;
    let to = 0;
    for (let i = this.#qHead; i < this.#qTail; i += 2) {
      const row = q[i]!;
      if (this.#gen[row] !== q[i + 1]) continue; // stale
      const o = offsetOf(row);
      words[chunkOf(to)]!.set(this.#words[chunkOf(row)]!.subarray(o, o + WIDTH), offsetOf(to));
      if (v6.length > 0) {
        v6[2 * to] = this.#v6[2 * row]!;
        v6[2 * to + 1] = this.#v6[2 * row + 1]!;
      }
      hash[to] = this.#hash[row]!;
      const h = hash[to]! & (heads.length - 1);
      next[to] = heads[h]!;
      heads[h] = to;
      queue[2 * to] = to; // generation 0
      to++;
    }
    this.#free = -1;
    for (let row = rows - 1; row >= to; row--) {
      next[row] = this.#free;
      this.#free = row;
    }
    this.#words = words;
    this.#times = words.map(timesOf);
    this.#v6 = v6;
    this.#hash = hash;
    this.#next = next;
    this.#gen = new Int32Array(rows);
    this.#heads = heads;
    this.#queue = queue;
    this.#qHead = this.#stale = 0;
    this.#qTail = 2 * to;
    this.#rows = rows;
    this.#lowSince = -1;
  }

  /**
   * What the endpoint's destroy() would publish: TIME-WAIT → CLOSED (the
   * caller has asked whether anyone listens).
   */
  #closed(row: number): void {
    const ctx = this.#core.ctx;
    const w = this.#words[chunkOf(row)]!;
    const o = offsetOf(row);
    const v6 = (w[o + W_BITS]! & IPV6) !== 0;
    ctx.publish({
      type: "connection-state",
      plugin: "tcp",
      local: formatIpKeyPort(v6 ? this.#v6[2 * row]! : w[o + W_LA4]!, localPortOf(w, o)),
      remote: formatIpKeyPort(v6 ? this.#v6[2 * row + 1]! : w[o + W_RA4]!, remotePortOf(w, o)),
      from: "TIME-WAIT",
      to: "CLOSED",
    });
  }
}
