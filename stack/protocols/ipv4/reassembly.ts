/**
 * IPv4 reassembly (RFC 791 §3.2, RFC 815 hole tracking, RFC 1122 §3.3.2).
 *
 * Datagrams are keyed by (source, destination, identification, protocol)
 * (RFC 791). Each one being rebuilt owns one pooled buffer: fragment data is
 * copied straight to its offset (one copy per byte; nothing to gather at the
 * end), and the header of the offset-0 fragment is copied in front of it.
 * The buffer starts small (a 2 KiB pooled buffer) and is swapped once for a
 * large one (64 KiB) when a fragment reaches past it.
 *
 * Hole tracking (RFC 815): the holes are the gaps between the received
 * fragment ranges, which are kept sorted by offset, so a new fragment is
 * accepted only when it lies inside one hole (a binary search finds its
 * neighbours; in-order arrival is an append). Keeping the ranges rather than
 * the holes themselves lets an exact duplicate (same offset, same length,
 * same bytes: a retransmitted or duplicated frame) be told from an overlap.
 * The datagram is complete when its length is known (a fragment with MF
 * clear) and the received bytes add up to it.
 *
 * Policy decisions:
 * - **Overlap** (any fragment that is not an exact duplicate and covers bytes
 *   already received, or disagrees with them): the whole datagram is
 *   discarded and counted (`reasm_overlap`). This is RFC 5722's rule for
 *   IPv6 applied to IPv4, as Linux does since 4.19 (CVE-2018-5391); it
 *   defeats overlap-based IDS evasion (RFC 1858 §4) and teardrop.
 * - **Exact duplicates** are dropped (`reasm_duplicate`) and the datagram kept.
 * - **Inconsistent length** (two last fragments disagreeing, data past the
 *   end, more than 65,535 bytes: ping of death): the datagram is discarded.
 * - A non-last fragment whose length is not a multiple of 8, or an empty
 *   fragment, is dropped on its own (`fragment_bad_length`).
 * - **Timeout**: 30 s from the first fragment (Linux `ipfrag_time`; RFC 1122
 *   §3.3.2 suggests 60-120 s, but 30 s bounds memory held by lost datagrams
 *   sooner). Entries live on one list in arrival order, which is also
 *   deadline order, so a single timer armed at the oldest deadline expires
 *   them. When the offset-0 fragment had arrived, `onTimeout` is called (the
 *   plugin sends ICMP time exceeded, code 1: RFC 792, RFC 1122 §3.3.2).
 * - **Caps**: at most `maxDatagrams` (64) datagrams in progress and
 *   `maxBytes` (4 MiB, Linux's `ipfrag_high_thresh`) of memory, counting the
 *   pooled buffers held plus 16 bytes per fragment record; the caps are never
 *   exceeded. Evictions are counted.
 * - **Eviction by source, then age** (issue 16): evicting the oldest
 *   datagram globally let anyone evict a real datagram by sending spoofed
 *   first fragments between its fragments. Instead, one source address may
 *   hold at most `maxPerSource` datagrams (default 16, or a quarter of
 *   `maxDatagrams` when that is larger): a new one from a source at its limit
 *   evicts that source's own oldest. When a cap is reached, the victim is the
 *   oldest datagram of the *heaviest* source (most datagrams for the count
 *   cap, most bytes for the memory cap; ties go to the source whose oldest
 *   datagram is oldest), so a flood from a few sources evicts its own
 *   datagrams, not those of quieter sources. Not defended: a flood whose
 *   every fragment has a different spoofed source looks like many quiet
 *   sources, and the oldest datagram goes first as before (only rate limits
 *   upstream help there). Choosing a victim scans the datagrams in progress
 *   (at most `maxDatagrams`), only when a cap is reached.
 *
 * @module
 */
import type { Duration, Instant } from "../../clock.ts";
import type { PacketBuffer } from "../../packet.ts";
import {
  DEFAULT_HEADROOM,
  LARGE_BUFFER_SIZE,
  type PacketPool,
  SMALL_BUFFER_SIZE,
} from "../../packet_pool.ts";
import { ipv4HeaderChecksum } from "./fragment.ts";
import {
  type CounterLike,
  insertRange,
  isDuplicateRange,
  rangeSlot,
  type ReassemblyEntry,
  ReassemblyTable,
} from "../../ip/reassembly_table.ts";
import {
  IPV4_DST_OFFSET,
  IPV4_FLAG_DF,
  IPV4_FLAG_MF,
  IPV4_OFFSET_MASK,
  IPV4_SRC_OFFSET,
  ipv4Dst,
  ipv4FragmentField,
  ipv4HeaderLen,
  ipv4Identification,
  ipv4Protocol,
  ipv4Src,
  ipv4TotalLength,
  ipv4Ttl,
  setIpv4ChecksumField,
  setIpv4FragmentField,
  setIpv4TotalLength,
} from "../../wire/ipv4_fields.ts";

/** Default reassembly timeout: 30 s (Linux `ipfrag_time`). */
export const REASSEMBLY_TIMEOUT: Duration = 30_000_000;
/** Default cap on datagrams being reassembled at once. */
export const REASSEMBLY_MAX_DATAGRAMS = 64;
/** Default cap on reassembly memory: 4 MiB (Linux `ipfrag_high_thresh`). */
export const REASSEMBLY_MAX_BYTES: number = 4 * 1024 * 1024;
/** Default least per-source cap (`maxPerSource`): 16 datagrams. */
export const REASSEMBLY_MIN_PER_SOURCE = 16;
/** Accounting cost of one fragment record, on top of the buffers. */
export const REASSEMBLY_FRAGMENT_COST = 16;

const MAX_HEADER = 60;
/** Absolute offset of the payload in an assembly buffer: headroom, then room for the header. */
const BASE = DEFAULT_HEADROOM + MAX_HEADER;
const SMALL_CAPACITY = SMALL_BUFFER_SIZE - BASE;
const LARGE_CAPACITY = LARGE_BUFFER_SIZE - BASE;
const MAX_DATAGRAM = 65535;

/** Why {@linkcode Reassembler.add} dropped a fragment. */
export type ReassemblyDropReason =
  | "fragment_bad_length"
  | "reasm_duplicate"
  | "reasm_overlap"
  | "reasm_inconsistent"
  | "reasm_too_big"
  | "reasm_no_memory";

export type { CounterLike } from "../../ip/reassembly_table.ts";

/** Options of {@linkcode Reassembler}. */
export interface ReassemblyOptions {
  /** µs from the first fragment until the datagram is given up (default 30 s). */
  readonly timeout?: Duration;
  /** Most datagrams in progress (default 64). */
  readonly maxDatagrams?: number;
  /** Most bytes held, buffers plus fragment records (default 4 MiB). */
  readonly maxBytes?: number;
  /**
   * Most datagrams in progress from one source address (default the larger
   * of {@linkcode REASSEMBLY_MIN_PER_SOURCE} and a quarter of `maxDatagrams`).
   */
  readonly maxPerSource?: number;
  /** Counts datagrams given up on timeout. */
  readonly timedOut?: CounterLike;
  /** Counts datagrams evicted to respect a cap. */
  readonly evicted?: CounterLike;
  /**
   * Called with the earliest deadline whenever it changes (undefined: none);
   * the owner arms one timer and calls {@linkcode Reassembler.expire}.
   */
  readonly schedule?: (at: Instant | undefined) => void;
  /**
   * Called for a timed-out datagram whose offset-0 fragment had arrived:
   * `pkt` holds that fragment's header at `l3` (= `start`) followed by the
   * contiguous data received from offset 0. Borrowed.
   */
  readonly onTimeout?: (pkt: PacketBuffer) => void;
}

class Datagram implements ReassemblyEntry<Datagram> {
  older: Datagram | null = null;
  newer: Datagram | null = null;
  chain: Datagram | null = null;
  buf: PacketBuffer | null = null;
  /** Received ranges as [start, end) pairs, sorted. */
  readonly ranges: number[] = [];
  received = 0;
  maxEnd = 0;
  /** The largest fragment's total length (Linux's frag_max_size), for refragmenting. */
  maxSize = 0;
  total = -1;
  hlen = 0;
  flags = 0;
  ifindex = -1;
  /** Hook state (`mark`, `ct`) of the first fragment, carried to the datagram. */
  mark = 0;
  ct: unknown = null;
  memory = 0;
  /** A fragment arrived marked CE: so is the datagram (RFC 3168 §5.3). */
  ce = false;
  constructor(
    readonly src: number,
    readonly dst: number,
    readonly id: number,
    readonly proto: number,
    readonly hash: number,
    readonly deadline: Instant,
  ) {}
}

function hashKey(src: number, dst: number, id: number, proto: number): number {
  return (src ^ Math.imul(dst, 0x9e3779b1) ^ Math.imul((id << 8) | proto, 0x85ebca6b)) >>> 0;
}

/**
 * Rebuilds fragmented IPv4 datagrams within fixed bounds.
 *
 * @example
 * ```ts
 * import { Reassembler } from "./reassembly.ts";
 * import { fragmentIpv4 } from "./fragment.ts";
 * import type { PacketBuffer } from "../../packet.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import { emitIpv4 } from "../../wire/ipv4.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new PacketPool();
 * const reasm = new Reassembler(pool, () => 0);
 * const pkt = pool.alloc(20 + 4000);
 * emitIpv4({ src: 0x0a000001, dst: 0x0a000002, protocol: 17, ttl: 64, payloadLength: 4000, identification: 9 }, pkt.data);
 * pkt.data.fill(0xab, 20);
 * const frags: PacketBuffer[] = [];
 * fragmentIpv4(pkt, 1500, pool, frags);
 * let whole: PacketBuffer | string | null = null;
 * for (const f of frags.reverse()) { // any order
 *   whole = reasm.add(f);
 *   f.release();
 * }
 * assert.ok(whole !== null && typeof whole !== "string");
 * assert.equal(whole.length, 4020);
 * assert.equal(whole.buf[whole.l4 + 3999], 0xab);
 * whole.release();
 * assert.equal(pool.outstanding, 0);
 * ```
 */
export class Reassembler {
  readonly #pool: PacketPool;
  readonly #now: () => Instant;
  readonly #timeout: Duration;
  readonly #maxDatagrams: number;
  readonly #maxBytes: number;
  readonly #timedOut: CounterLike;
  readonly #onTimeout: ((pkt: PacketBuffer) => void) | undefined;
  readonly #table: ReassemblyTable<Datagram>;

  /**
   * A reassembler taking buffers from `pool`, on the clock `now`.
   *
   * @throws {RangeError} If a cap is below 1 or `maxBytes` cannot hold one
   * large buffer.
   */
  constructor(pool: PacketPool, now: () => Instant, options: ReassemblyOptions = {}) {
    this.#pool = pool;
    this.#now = now;
    this.#timeout = options.timeout ?? REASSEMBLY_TIMEOUT;
    this.#maxDatagrams = options.maxDatagrams ?? REASSEMBLY_MAX_DATAGRAMS;
    this.#maxBytes = options.maxBytes ?? REASSEMBLY_MAX_BYTES;
    const maxPerSource = options.maxPerSource ??
      Math.max(REASSEMBLY_MIN_PER_SOURCE, Math.floor(this.#maxDatagrams / 4));
    this.#timedOut = options.timedOut ?? { value: 0 };
    this.#onTimeout = options.onTimeout;
    this.#table = new ReassemblyTable({
      maxDatagrams: this.#maxDatagrams,
      maxBytes: this.#maxBytes,
      maxPerSource,
      // One 64 KiB datagram: a large buffer and a record per 8-byte fragment.
      minBytes: LARGE_BUFFER_SIZE + 8192 * REASSEMBLY_FRAGMENT_COST,
      evicted: options.evicted ?? { value: 0 },
      schedule: options.schedule,
    });
  }

  /** Datagrams in progress. */
  get size(): number {
    return this.#table.size;
  }
  /** Bytes held now (buffers plus fragment records). */
  get memory(): number {
    return this.#table.memory;
  }
  /** Most bytes ever held at once. */
  get peakMemory(): number {
    return this.#table.peakMemory;
  }
  /** The cap on bytes held. */
  get maxBytes(): number {
    return this.#maxBytes;
  }
  /** The cap on datagrams in progress. */
  get maxDatagrams(): number {
    return this.#maxDatagrams;
  }
  /** The earliest deadline, if any datagram is in progress. */
  get nextDeadline(): Instant | undefined {
    return this.#table.oldest?.deadline;
  }

  /**
   * Adds a fragment whose IPv4 header is at `pkt.start` (already validated:
   * version, lengths, checksum; `pkt.end` cut to the total length). Borrows
   * `pkt`: the data is copied.
   *
   * Hot path: no allocation per fragment beyond a new datagram's record.
   *
   * @returns The reassembled datagram (the caller owns it and must release
   * it; header at `start` = `l3`, payload at `l4`, MF and offset cleared,
   * checksum valid), `null` when the fragment was kept, or why it was dropped.
   */
  add(pkt: PacketBuffer): PacketBuffer | null | ReassemblyDropReason {
    const s = pkt.start;
    const b = pkt.buf;
    const dv = pkt.dv;
    if (pkt.end - s < 20) return "fragment_bad_length";
    const hlen = ipv4HeaderLen(dv, s);
    const total = ipv4TotalLength(dv, s);
    if (hlen < 20 || total < hlen || s + total > pkt.end) return "fragment_bad_length";
    const word = ipv4FragmentField(dv, s);
    const off = (word & IPV4_OFFSET_MASK) << 3;
    const mf = (word & IPV4_FLAG_MF) !== 0;
    const len = total - hlen;
    const end = off + len;
    const src = ipv4Src(dv, s);
    const dst = ipv4Dst(dv, s);
    const id = ipv4Identification(dv, s);
    const proto = ipv4Protocol(dv, s);
    let d = this.#find(src, dst, id, proto);
    if (end + (d !== undefined && d.hlen > 0 ? d.hlen : 20) > MAX_DATAGRAM) {
      if (d !== undefined) this.#table.remove(d);
      return "reasm_too_big";
    }
    if (len === 0 || (mf && (len & 7) !== 0)) return "fragment_bad_length";
    if (d === undefined) d = this.#create(src, dst, id, proto);
    if (!mf) {
      if ((d.total >= 0 && d.total !== end) || end < d.maxEnd) {
        this.#table.remove(d);
        return "reasm_inconsistent";
      }
    } else if (d.total >= 0 && end > d.total) {
      this.#table.remove(d);
      return "reasm_inconsistent";
    }
    // Find the hole the fragment must fit in (RFC 815).
    const r = d.ranges;
    const at = rangeSlot(r, off, end, MAX_DATAGRAM);
    if (at < 0) {
      if (isDuplicateRange(r, -1 - at, off, end, d.buf!.buf, BASE + off, b, s + hlen)) {
        return "reasm_duplicate";
      }
      this.#table.remove(d);
      return "reasm_overlap";
    }
    // Room: a buffer reaching `end`, and the fragment record.
    const buf = d.buf;
    let grow = 0;
    if (buf === null) grow = end <= SMALL_CAPACITY ? SMALL_BUFFER_SIZE : LARGE_BUFFER_SIZE;
    else if (BASE + end > buf.buf.length) grow = LARGE_BUFFER_SIZE - buf.buf.length;
    if (!this.#table.reserve(d, grow + REASSEMBLY_FRAGMENT_COST)) {
      this.#table.remove(d);
      return "reasm_no_memory";
    }
    if (buf === null) {
      // allocKept: a store of its own, so a datagram that never completes
      // keeps alive the buffer it is charged, not the slab it was carved from.
      d.buf = this.#pool.allocKept(
        grow === SMALL_BUFFER_SIZE ? SMALL_CAPACITY : LARGE_CAPACITY,
        BASE,
      );
    } else if (grow > 0) {
      const big = this.#pool.alloc(LARGE_CAPACITY, BASE);
      big.buf.set(buf.buf.subarray(BASE - MAX_HEADER, BASE + d.maxEnd), BASE - MAX_HEADER);
      buf.release();
      d.buf = big;
    }
    const out = d.buf!.buf;
    out.set(b.subarray(s + hlen, s + total), BASE + off);
    insertRange(r, at, off, end);
    if ((b[s + 1]! & 3) === 3) d.ce = true;
    d.received += len;
    if (end > d.maxEnd) d.maxEnd = end;
    if (total > d.maxSize) d.maxSize = total;
    if (!mf) d.total = end;
    if (off === 0) {
      out.set(b.subarray(s, s + hlen), BASE - hlen);
      d.hlen = hlen;
      d.flags = pkt.flags;
      d.ifindex = pkt.ifindex;
      d.mark = pkt.mark;
      d.ct = pkt.ct;
    }
    if (d.total >= 0 && d.received === d.total) return this.#complete(d);
    return null;
  }

  #complete(d: Datagram): PacketBuffer | ReassemblyDropReason {
    if (d.hlen + d.total > MAX_DATAGRAM) {
      this.#table.remove(d);
      return "reasm_too_big";
    }
    const p = d.buf!;
    d.buf = null;
    this.#table.remove(d);
    const h = BASE - d.hlen;
    const dv = p.dv;
    setIpv4TotalLength(dv, h, d.hlen + d.total);
    setIpv4FragmentField(dv, h, ipv4FragmentField(dv, h) & IPV4_FLAG_DF); // keep DF, clear MF and offset
    if (d.ce && (p.buf[h + 1]! & 3) !== 0) p.buf[h + 1]! |= 3; // CE survives reassembly (RFC 3168 §5.3)
    setIpv4ChecksumField(dv, h, 0);
    setIpv4ChecksumField(dv, h, ipv4HeaderChecksum(dv, h, d.hlen));
    p.start = h;
    p.end = BASE + d.total;
    p.l3 = h;
    p.l4 = BASE;
    p.family = 4;
    p.srcAt = h + IPV4_SRC_OFFSET;
    p.dstAt = h + IPV4_DST_OFFSET;
    p.proto = d.proto;
    p.ttl = ipv4Ttl(dv, h);
    p.flags = d.flags;
    p.ifindex = d.ifindex;
    p.mark = d.mark;
    p.ct = d.ct;
    p.fragMaxSize = d.maxSize;
    p.timestamp = this.#now();
    return p;
  }

  /** Gives up every datagram whose deadline is at or before `now`. */
  expire(now: Instant): void {
    const table = this.#table;
    const head = table.oldest;
    try {
      for (let d = table.oldest; d !== null && d.deadline <= now; d = table.oldest) {
        this.#timedOut.value++;
        const p = d.buf;
        d.buf = null;
        const ranges = d.ranges;
        table.unlink(d); // first, so that a re-entrant add() cannot see it
        if (p === null) continue;
        if (d.hlen === 0 || this.#onTimeout === undefined) {
          p.release();
          continue;
        }
        const h = BASE - d.hlen;
        p.start = p.l3 = h;
        p.l4 = BASE;
        p.end = BASE + ranges[1]!; // offset 0 arrived, so ranges[0] is 0
        p.family = 4;
        p.srcAt = h + 12;
        p.dstAt = h + 16;
        p.proto = d.proto;
        p.flags = d.flags;
        p.ifindex = d.ifindex;
        p.mark = d.mark;
        p.ct = d.ct;
        try {
          this.#onTimeout(p);
        } finally {
          p.release();
        }
      }
    } finally {
      table.rescheduleIfChanged(head);
    }
  }

  /** Releases everything held. */
  clear(): void {
    this.#table.clear();
  }

  #find(src: number, dst: number, id: number, proto: number): Datagram | undefined {
    for (let d = this.#table.bucket(hashKey(src, dst, id, proto)); d; d = d.chain ?? undefined) {
      if (d.src === src && d.dst === dst && d.id === id && d.proto === proto) return d;
    }
    return undefined;
  }

  #create(src: number, dst: number, id: number, proto: number): Datagram {
    this.#table.admit(src);
    const hash = hashKey(src, dst, id, proto);
    const d = new Datagram(src, dst, id, proto, hash, this.#now() + this.#timeout);
    this.#table.insert(d);
    return d;
  }
}
