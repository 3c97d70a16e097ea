/**
 * Compact TIME-WAIT (Linux's `inet_timewait_sock`): a connection that
 * reaches TIME-WAIT with nothing left but the wait (closed by its user, no
 * data, timers or recovery pending) leaves the connection table and is kept
 * as a 112-byte record of what TIME-WAIT processing reads (tuple, sequence
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
import { urgentIdle } from "./urgent.ts";
import { dsackPending } from "./dsack.ts";
import {
  fitsRecord,
  IPV6,
  localPortOf,
  MAPPED,
  readRecord,
  remotePortOf,
  T_CLOSE_AT,
  TIMES,
  W_BITS,
  W_HASH,
  W_IRS,
  W_ISS,
  W_LA4,
  W_NEXT,
  W_PORTS,
  W_QNEXT,
  W_QPREV,
  W_RA4,
  WIDTH,
  writeRecord,
} from "./timewait_record.ts";

/** Rows allocated at first use (the first chunk of the column store, 1.8 KB). */
const INITIAL_ROWS = 16;
/**
 * Rows of a full chunk of the column store: the first chunk doubles (by
 * copying, at most 56 KB) up to this many rows, then each growth adds a
 * chunk of this many (112 KB), so a large table is never doubled at once
 * (10,000 records held 16,384 rows when it doubled) and a row's chunk is
 * `row >> 10`. Chunks of a fixed 16 rows cost a typed array each: in Deno
 * every one is an allocation outside V8's heap of tens of µs (8.4 KB:
 * 45 µs, this machine), 1,024 of them for 16,384 records.
 */
const CHUNK_ROWS = 1024;
const CHUNK_SHIFT = 10;

/** The chunk of the column store holding `row`. */
function chunkOf(row: number): number {
  return row >> CHUNK_SHIFT;
}

/** `row`'s index within its chunk. */
function indexOf(row: number): number {
  return row & (CHUNK_ROWS - 1);
}

/** The word where `row` starts in its chunk's words. */
function offsetOf(row: number): number {
  return (row & (CHUNK_ROWS - 1)) * WIDTH;
}

/** The rows after growing from `rows` (doubling up to 1,024, then 1,024 more). */
function grownRows(rows: number): number {
  if (rows === 0) return INITIAL_ROWS;
  return rows < CHUNK_ROWS ? rows * 2 : rows + CHUNK_ROWS;
}

/**
 * A chunk of `rows` free rows' words: zeroed (a free row's closeAt is 0
 * in its times, and no page is touched before a record is written there).
 */
function newChunk(rows: number): Uint32Array {
  return new Uint32Array(rows * WIDTH);
}

/**
 * The hash buckets of `rows` rows: a power of two, at least twice the
 * rows (half as many only cost 2 B a row less, and longer chains cost a
 * row read per step in every lookup: a new connection's port choice
 * makes several).
 */
function bucketsFor(rows: number): number {
  return 2 ** (33 - Math.clz32(rows - 1));
}

/**
 * The buckets of a table without storage, shared by every such table:
 * zero-length, so nothing is ever written into it.
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
    ep.prr === null && ep.undo === null && !ep.inRecovery && !dsackPending(ep) &&
    urgentIdle(ep) && ep.tfoCookie === null &&
    fitsRecord(ep);
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
 * words and one of doubles per record, `timewait_record.ts`, IPv6
 * addresses in a plain array), a chained hash by 4-tuple and an expiry
 * queue in `closeAt` order, both linked through the rows' own words. No
 * object per record: the garbage collector never sees them. Grown by
 * doubling up to 1,024 rows, then 1,024 rows at a time, up to the records
 * alive (bounded by `maxConnections`), shrunk when they fall to a quarter,
 * released when the last one ends (each once that has lasted
 * {@linkcode STORAGE_LINGER}).
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
  /** The rows' times, in the same chunks ({@linkcode TIMES} per row). */
  #times: Float64Array[] = [];
  /**
   * IPv6 local and remote keys per row ("" for IPv4), made at the first
   * IPv6 record: an IPv4-only stack keeps no array of two strings per row
   * (32,768 slots for 16,384 records, grown by copying, on V8's heap).
   */
  #v6: string[] = [];
  /** Hash buckets (a power of two, at least twice the rows): first row, or -1. */
  #heads = NO_ROWS;
  #free = -1;
  #size = 0;
  /** Expiry queue, linked through the rows: the first and the last row, or -1. */
  #qHead = -1;
  #qTail = -1;
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
    const hash = this.#hasher.hash(la, lp, ra, rp) >>> 0;
    let row = this.#heads[hash & (this.#heads.length - 1)]!;
    while (row >= 0) {
      const w = chunks[chunkOf(row)]!;
      const o = offsetOf(row);
      if (w[o + W_HASH] === hash && w[o + W_PORTS] === ports) {
        if (v4) {
          if ((w[o + W_BITS]! & IPV6) === 0 && w[o + W_LA4] === la && w[o + W_RA4] === ra) {
            return row;
          }
        } else if (this.#v6[2 * row] === la && this.#v6[2 * row + 1] === ra) return row;
      }
      row = w[o + W_NEXT]! | 0;
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
    const w = this.#words[chunkOf(row)]!;
    const o = offsetOf(row);
    this.#free = w[o + W_NEXT]! | 0;
    writeRecord(w, o, this.#times[chunkOf(row)]!, indexOf(row) * TIMES, ep);
    if (typeof ep.localAddr !== "number") {
      if (this.#v6.length === 0) this.#v6 = new Array(2 * this.#rows).fill("");
      this.#v6[2 * row] = ep.localAddr;
      this.#v6[2 * row + 1] = ep.remoteAddr as string;
    }
    const hash = ep.tupleHash; // the connection table's, stored at its insert
    w[o + W_HASH] = hash;
    const h = hash & (this.#heads.length - 1);
    w[o + W_NEXT] = this.#heads[h]!;
    this.#heads[h] = row;
    this.#size++;
    // Busy again. Stored unconditionally: a store first run after the JIT
    // has compiled settle() throws its code away (no type feedback).
    if (this.#size > this.#rows >> 2) this.#lowSince = -1;
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
    return this.#times[chunkOf(row)]![indexOf(row) * TIMES + T_CLOSE_AT]!;
  }

  /** Whether `row` holds a record (free rows have closeAt 0). */
  #live(row: number): boolean {
    return this.#closeAt(row) !== 0;
  }

  /** Word `field` of `row`, as a row number (-1 for none). */
  #link(row: number, field: number): number {
    return this.#words[chunkOf(row)]![offsetOf(row) + field]! | 0;
  }

  #setLink(row: number, field: number, to: number): void {
    this.#words[chunkOf(row)]![offsetOf(row) + field] = to;
  }

  /** A new endpoint with the record's fields (not in any table, no timer). */
  #endpoint(row: number): TcpEndpoint {
    const chunk = chunkOf(row);
    return readRecord(
      this.#core,
      this.#words[chunk]!,
      offsetOf(row),
      this.#times[chunk]!,
      indexOf(row) * TIMES,
      this.#v6[2 * row]!,
      this.#v6[2 * row + 1]!,
    );
  }

  /** Takes `row` out of its hash chain and the expiry queue, and frees it. */
  #remove(row: number): void {
    const h = this.#link(row, W_HASH) & (this.#heads.length - 1);
    let cur = this.#heads[h]!;
    let prev = -1;
    while (cur >= 0 && cur !== row) {
      prev = cur;
      cur = this.#link(cur, W_NEXT);
    }
    if (cur < 0) return;
    const after = this.#link(row, W_NEXT);
    if (prev < 0) this.#heads[h] = after;
    else this.#setLink(prev, W_NEXT, after);
    this.#dequeue(row);
    this.#times[chunkOf(row)]![indexOf(row) * TIMES + T_CLOSE_AT] = 0;
    if (this.#v6.length > 0) this.#v6[2 * row] = this.#v6[2 * row + 1] = "";
    this.#setLink(row, W_NEXT, this.#free);
    this.#free = row;
    this.#size--;
  }

  /**
   * Adds rows (doubling up to 1,024, then 1,024 more): a larger first
   * chunk, or one more chunk, and when the rows outgrow the buckets, twice
   * the buckets with every record rechained (every old row is live: rows
   * are added only when none is free).
   */
  #grow(): void {
    const old = this.#rows;
    const rows = grownRows(old);
    if (rows <= CHUNK_ROWS) {
      const words = newChunk(rows);
      const times = new Float64Array(rows * TIMES);
      if (old > 0) {
        words.set(this.#words[0]!);
        times.set(this.#times[0]!);
      }
      this.#words[0] = words;
      this.#times[0] = times;
    } else {
      this.#words.push(newChunk(CHUNK_ROWS));
      this.#times.push(new Float64Array(CHUNK_ROWS * TIMES));
    }
    if (this.#v6.length > 0) {
      for (let row = old; row < rows; row++) this.#v6.push("", "");
    }
    this.#rows = rows;
    if (rows > this.#heads.length) {
      const heads = new Int32Array(bucketsFor(rows)).fill(-1);
      for (let row = 0; row < old; row++) {
        const h = this.#link(row, W_HASH) & (heads.length - 1);
        this.#setLink(row, W_NEXT, heads[h]!);
        heads[h] = row;
      }
      this.#heads = heads;
    }
    // The new rows, on the free list in order.
    for (let row = rows - 1; row >= old; row--) {
      this.#setLink(row, W_NEXT, this.#free);
      this.#free = row;
    }
  }

  /** All records gone: give the storage back (an idle stack holds none). */
  #release(): void {
    this.#rows = 0;
    this.#words = [];
    this.#times = [];
    this.#v6 = [];
    this.#heads = NO_ROWS;
    this.#free = this.#qHead = this.#qTail = -1;
    this.#size = 0;
    this.#lowSince = -1;
  }

  /**
   * Links `row` into the expiry queue in closeAt order: after the last row
   * that ends no later. A record revived to answer a segment that did not
   * restart 2×MSL (old data, a PAWS-old ACK) goes back before the newer
   * ones, or every probed record would stay a full endpoint.
   */
  #enqueue(row: number): void {
    const closeAt = this.#closeAt(row);
    let before = this.#qTail;
    while (before >= 0 && this.#closeAt(before) > closeAt) before = this.#link(before, W_QPREV);
    // #qHead read and written on every call: touched only for an empty
    // queue (the first record of a burst), the access had no type feedback
    // when the JIT compiled this, and its code was thrown away there.
    const head = this.#qHead;
    const after = before < 0 ? head : this.#link(before, W_QNEXT);
    this.#setLink(row, W_QPREV, before);
    this.#setLink(row, W_QNEXT, after);
    this.#qHead = before < 0 ? row : head;
    if (before >= 0) this.#setLink(before, W_QNEXT, row);
    this.#qTail = after < 0 ? row : this.#qTail;
    if (after >= 0) this.#setLink(after, W_QPREV, row);
  }

  #dequeue(row: number): void {
    const before = this.#link(row, W_QPREV);
    const after = this.#link(row, W_QNEXT);
    // Both ends written every time, as in #enqueue (the last record out
    // wrote #qTail, once per burst, without type feedback).
    this.#qHead = before < 0 ? after : this.#qHead;
    if (before >= 0) this.#setLink(before, W_QNEXT, after);
    this.#qTail = after < 0 ? before : this.#qTail;
    if (after >= 0) this.#setLink(after, W_QPREV, before);
  }

  /** The timer: ends every TIME-WAIT due by `now`, then waits for the next. */
  #expire(now: Instant): void {
    this.#endDue(now);
    let next = Infinity;
    // Both read every time (see #enqueue: a field first read in compiled code deoptimizes it).
    const size = this.#size;
    const rows = this.#rows;
    if (size === 0 || (rows > INITIAL_ROWS && size <= rows >> 2)) {
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
    if (this.#size > 0) next = Math.min(next, this.#closeAt(this.#qHead));
    this.#timer!.arm(next);
  }

  /**
   * Ends every TIME-WAIT due by `now`. A loop of its own: the JIT compiles
   * a long loop while it runs (on-stack replacement), when the code after
   * it has never run; that code, without type feedback, was thrown away
   * when first reached.
   */
  #endDue(now: Instant): void {
    // Asked once per batch, not per record: a burst of closes ends in one batch.
    const tell = this.#core.ctx.hasEventListeners("connection-state");
    while (this.#qHead >= 0) {
      const row = this.#qHead;
      if (this.#closeAt(row) > now) break;
      if (tell) this.#closed(row);
      this.#remove(row);
    }
  }

  /**
   * The records fell to a quarter of the rows: moves them, in expiry
   * order, to a store of the fewest rows ({@linkcode grownRows}) at least
   * twice their number, so that a burst of closes does not keep its
   * storage for as long as any record lives (under steady load, for
   * ever). Amortized: the rows at least halve for a copy of a quarter of
   * them.
   */
  #shrink(): void {
    let rows = INITIAL_ROWS;
    while (rows < 2 * this.#size) rows = grownRows(rows);
    const words: Uint32Array[] = [];
    const times: Float64Array[] = [];
    for (let r = 0; r < rows; r += CHUNK_ROWS) {
      const n = Math.min(rows - r, CHUNK_ROWS);
      words.push(newChunk(n));
      times.push(new Float64Array(n * TIMES));
    }
    const v6: string[] = this.#v6.length > 0 ? new Array(rows * 2).fill("") : [];
    const heads = new Int32Array(bucketsFor(rows)).fill(-1);
    let to = 0;
    for (let row = this.#qHead; row >= 0; row = this.#link(row, W_QNEXT)) {
      const o = offsetOf(row);
      const w = words[chunkOf(to)]!;
      const ot = offsetOf(to);
      w.set(this.#words[chunkOf(row)]!.subarray(o, o + WIDTH), ot);
      const t = indexOf(row) * TIMES;
      times[chunkOf(to)]!.set(
        this.#times[chunkOf(row)]!.subarray(t, t + TIMES),
        indexOf(to) * TIMES,
      );
      if (v6.length > 0) {
        v6[2 * to] = this.#v6[2 * row]!;
        v6[2 * to + 1] = this.#v6[2 * row + 1]!;
      }
      const h = w[ot + W_HASH]! & (heads.length - 1);
      w[ot + W_NEXT] = heads[h]!;
      heads[h] = to;
      w[ot + W_QPREV] = to - 1;
      w[ot + W_QNEXT] = to + 1 < this.#size ? to + 1 : -1;
      to++;
    }
    this.#words = words;
    this.#times = times;
    this.#free = -1;
    for (let row = rows - 1; row >= to; row--) {
      this.#setLink(row, W_NEXT, this.#free);
      this.#free = row;
    }
    this.#v6 = v6;
    this.#heads = heads;
    this.#qHead = to > 0 ? 0 : -1;
    this.#qTail = to - 1;
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
