/**
 * IPv6 reassembly (RFC 8200 §4.5), within the same memory bounds as IPv4's.
 *
 * Datagrams are keyed by (source, destination, Fragment Identification)
 * (RFC 8200 §4.5). The lookup hashes and compares the address bytes in
 * place: nothing is allocated per fragment beyond a new datagram's record.
 * Each datagram being rebuilt owns one pooled buffer: fragment data is
 * copied to its offset, and the Unfragmentable Part (fixed header and the
 * extension headers before the Fragment header) of the offset-0 fragment
 * in front of it, with the last Next Header of that part rewritten to the
 * Fragment header's. The buffer starts small (2 KiB pooled) and is swapped
 * once for a large one (64 KiB) when a fragment reaches past it.
 *
 * Policy decisions:
 * - **Overlap**: any fragment that covers bytes already received, unless
 *   it is an exact duplicate, abandons the whole datagram silently (RFC
 *   5722 §4; counted `reasm_overlap`, no ICMP).
 * - **Exact duplicates** (same offset, length and bytes) are dropped and the
 *   datagram kept, as RFC 8200 §4.5 allows (`reasm_duplicate`).
 * - **Inconsistent length** (two last fragments disagreeing, data past the
 *   end): the datagram is discarded (`reasm_inconsistent`); a datagram whose
 *   reassembled payload would pass 65,535 bytes, too (`reasm_too_big`; the
 *   chain walk already answered the fragment that showed it with Parameter
 *   Problem).
 * - A non-last fragment whose data is not a multiple of 8, or an empty
 *   fragment, is dropped on its own (`fragment_bad_length`).
 * - **Unfragmentable Part** longer than {@linkcode REASSEMBLY_MAX_UNFRAGMENTABLE}
 *   bytes is refused (`reasm_header_too_long`): a host sees at most a
 *   Hop-by-Hop, a Destination Options and a Routing header there.
 * - **Atomic fragments** never come here: the chain walk processes them in
 *   isolation (RFC 6946 §4).
 * - **Timeout**: 60 s from the first-arriving fragment (RFC 8200 §4.5).
 *   When the offset-0 fragment had arrived, `onTimeout` gets it back (its
 *   Unfragmentable Part, its Fragment header and the data received from
 *   offset 0) so the owner sends Time Exceeded code 1 quoting it.
 * - **Caps and eviction** as IPv4's (issue 16): at most `maxDatagrams` (64)
 *   in progress and `maxBytes` (4 MiB) held, buffers plus 16 bytes per
 *   fragment; one source address holds at most `maxPerSource` datagrams (a
 *   new one evicts that source's own oldest); at a cap the victim is the
 *   oldest datagram of the heaviest source. Evictions are counted.
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
import type { IpKey } from "../../wire/ip_address.ts";
import { ipKeyAt } from "../../wire/ip_address.ts";
import {
  type CounterLike,
  insertRange,
  isDuplicateRange,
  rangeSlot,
  type ReassemblyEntry,
  ReassemblyTable,
} from "../../ip/reassembly_table.ts";
import type { Ipv6Chain } from "../../wire/ipv6_chain.ts";

/** Default reassembly timeout: 60 s (RFC 8200 §4.5). */
export const REASSEMBLY_TIMEOUT: Duration = 60_000_000;
/** Default cap on datagrams being reassembled at once (as IPv4). */
export const REASSEMBLY_MAX_DATAGRAMS = 64;
/** Default cap on reassembly memory: 4 MiB (as IPv4, Linux's `ip6frag_high_thresh`). */
export const REASSEMBLY_MAX_BYTES: number = 4 * 1024 * 1024;
/** Default least per-source cap (`maxPerSource`): 16 datagrams. */
export const REASSEMBLY_MIN_PER_SOURCE = 16;
/** Accounting cost of one fragment record, on top of the buffers. */
export const REASSEMBLY_FRAGMENT_COST = 16;
/** Longest Unfragmentable Part accepted: the fixed header and 216 bytes of extension headers. */
export const REASSEMBLY_MAX_UNFRAGMENTABLE = 256;

const FRAGMENT_HEADER_LEN = 8;
/** Absolute offset of the fragment data in an assembly buffer: headroom, header room. */
const BASE = DEFAULT_HEADROOM + REASSEMBLY_MAX_UNFRAGMENTABLE + FRAGMENT_HEADER_LEN;
const SMALL_CAPACITY = SMALL_BUFFER_SIZE - BASE;
const LARGE_CAPACITY = LARGE_BUFFER_SIZE - BASE;
const MAX_PAYLOAD = 65535;

/** Why {@linkcode Ipv6Reassembler.add} dropped a fragment (counted as `rx.<reason>`). */
export type Ipv6ReassemblyDropReason =
  | "fragment_bad_length"
  | "reasm_duplicate"
  | "reasm_overlap"
  | "reasm_inconsistent"
  | "reasm_too_big"
  | "reasm_header_too_long"
  | "reasm_no_memory";

export type { CounterLike } from "../../ip/reassembly_table.ts";

/** Options of {@linkcode Ipv6Reassembler}. */
export interface Ipv6ReassemblyOptions {
  /** µs from the first-arriving fragment until the datagram is given up (default 60 s). */
  readonly timeout?: Duration;
  /** Most datagrams in progress (default 64). */
  readonly maxDatagrams?: number;
  /** Most bytes held, buffers plus fragment records (default 4 MiB). */
  readonly maxBytes?: number;
  /** Most datagrams from one source (default the larger of 16 and a quarter of `maxDatagrams`). */
  readonly maxPerSource?: number;
  /** Counts datagrams given up on timeout. */
  readonly timedOut?: CounterLike;
  /** Counts datagrams evicted to respect a cap. */
  readonly evicted?: CounterLike;
  /** Called with the earliest deadline whenever it changes (undefined: none). */
  readonly schedule?: (at: Instant | undefined) => void;
  /**
   * Called for a timed-out datagram whose offset-0 fragment had arrived:
   * `pkt` holds that fragment as received (IPv6 header at `l3` = `start`,
   * Fragment header, then the contiguous data received from offset 0, its
   * payload length set to match). Borrowed.
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
  /** The largest fragment's length, IPv6 header included (Linux's frag_max_size). */
  maxSize = 0;
  /** A fragment arrived marked CE: so is the datagram (RFC 3168 §5.3). */
  ce = false;
  total = -1;
  /** Length of the offset-0 fragment's Unfragmentable Part, 0 until it arrives. */
  hlen = 0;
  /** Offset of its last Next Header byte within that part. */
  nextHeaderPos = 0;
  /** The Fragment header's Next Header in the offset-0 fragment. */
  proto = 0;
  flags = 0;
  ifindex = -1;
  mark = 0;
  ct: unknown = null;
  memory = 0;
  constructor(
    readonly src: IpKey,
    readonly dst: IpKey,
    readonly id: number,
    readonly hash: number,
    readonly deadline: Instant,
  ) {}
}

function hashAt(b: Uint8Array, ip: number, id: number): number {
  let h = Math.imul(id ^ 0x9e3779b1, 0x85ebca6b);
  for (let i = ip + 8; i < ip + 40; i += 4) {
    h = Math.imul(
      h ^ ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!),
      0x01000193,
    );
  }
  return h >>> 0;
}

function keyEqualsAt(key: IpKey, b: Uint8Array, at: number): boolean {
  const k = key as string;
  for (let i = 0; i < 8; i++) {
    if (k.charCodeAt(i) !== ((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!)) return false;
  }
  return true;
}

/**
 * Rebuilds fragmented IPv6 packets within fixed bounds.
 *
 * @example
 * ```ts
 * import { Ipv6Reassembler } from "./reassembly.ts";
 * import { fragmentIpv6 } from "./fragment.ts";
 * import type { PacketBuffer } from "../../packet.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import { IpAddress } from "../../wire/ip_address.ts";
 * import { writeIpv6Header } from "../../wire/ipv6.ts";
 * import { Ipv6Chain, walkIpv6Chain } from "../../wire/ipv6_chain.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new PacketPool();
 * const reasm = new Ipv6Reassembler(pool, () => 0);
 * const pkt = pool.alloc(40 + 3000);
 * writeIpv6Header(pkt.buf, pkt.start, 3000, 17, 64, IpAddress.parse("2001:db8::1")!.key, IpAddress.parse("2001:db8::2")!.key);
 * pkt.buf.fill(0xab, pkt.start + 40, pkt.end);
 * const frags: PacketBuffer[] = [];
 * fragmentIpv6(pkt, 1280, 7, pool, frags);
 * const chain = new Ipv6Chain();
 * let whole: PacketBuffer | string | null = null;
 * for (const f of frags.reverse()) { // any order
 *   walkIpv6Chain(f.buf, f.start, f.end, chain);
 *   whole = reasm.add(f, chain);
 *   f.release();
 * }
 * assert.ok(whole !== null && typeof whole !== "string");
 * assert.equal(whole.length, 3040);
 * assert.equal(whole.buf[whole.start + 6], 17); // next header restored
 * whole.release();
 * assert.equal(pool.outstanding, 0);
 * ```
 */
export class Ipv6Reassembler {
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
  constructor(pool: PacketPool, now: () => Instant, options: Ipv6ReassemblyOptions = {}) {
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
  /** The earliest deadline, if any datagram is in progress. */
  get nextDeadline(): Instant | undefined {
    return this.#table.oldest?.deadline;
  }

  /**
   * Adds the fragment in `pkt` (IPv6 header at `pkt.start`, `pkt.end` cut to
   * its payload length), whose chain `walkIpv6Chain` has just walked into
   * `chain` (without problem, `chain.isFragment`). Borrows `pkt`: the data
   * is copied.
   *
   * Hot path: no allocation per fragment beyond a new datagram's record.
   *
   * @returns The reassembled packet (the caller owns it and releases it;
   * IPv6 header at `start` = `l3`, no Fragment header, payload length and
   * Next Header set, `l4` at the first byte after the Unfragmentable Part:
   * walk the chain again from `start`), `null` when the fragment was kept,
   * or why it was dropped.
   */
  add(pkt: PacketBuffer, chain: Ipv6Chain): PacketBuffer | null | Ipv6ReassemblyDropReason {
    const s = pkt.start;
    const b = pkt.buf;
    const fh = chain.fragmentAt;
    const dataAt = fh + FRAGMENT_HEADER_LEN;
    const hlen = fh - s;
    const off = chain.fragmentOffset;
    const mf = chain.moreFragments;
    const len = pkt.end - dataAt;
    const end = off + len;
    if (fh < s + 40 || len < 0) return "fragment_bad_length";
    let d = this.#find(b, s, chain.identification);
    if (hlen - 40 + end > MAX_PAYLOAD) {
      if (d !== undefined) this.#table.remove(d);
      return "reasm_too_big";
    }
    if (len === 0 || (mf && (len & 7) !== 0)) return "fragment_bad_length";
    if (off === 0 && hlen > REASSEMBLY_MAX_UNFRAGMENTABLE) {
      if (d !== undefined) this.#table.remove(d);
      return "reasm_header_too_long";
    }
    if (d === undefined) d = this.#create(b, s, chain.identification);
    if (!mf) {
      if ((d.total >= 0 && d.total !== end) || end < d.maxEnd) {
        this.#table.remove(d);
        return "reasm_inconsistent";
      }
    } else if (d.total >= 0 && end > d.total) {
      this.#table.remove(d);
      return "reasm_inconsistent";
    }
    // The gap the fragment must fit in.
    const r = d.ranges;
    const at = rangeSlot(r, off, end, MAX_PAYLOAD);
    if (at < 0) {
      if (isDuplicateRange(r, -1 - at, off, end, d.buf!.buf, BASE + off, b, dataAt)) {
        return "reasm_duplicate";
      }
      this.#table.remove(d); // RFC 5722: silently, the whole datagram
      return "reasm_overlap";
    }
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
      const from = BASE - FRAGMENT_HEADER_LEN - REASSEMBLY_MAX_UNFRAGMENTABLE;
      big.buf.set(buf.buf.subarray(from, BASE + d.maxEnd), from);
      buf.release();
      d.buf = big;
    }
    const out = d.buf!.buf;
    out.set(b.subarray(dataAt, pkt.end), BASE + off);
    insertRange(r, at, off, end);
    if (((b[s + 1]! >> 4) & 3) === 3) d.ce = true;
    d.received += len;
    if (end > d.maxEnd) d.maxEnd = end;
    if (pkt.end - s > d.maxSize) d.maxSize = pkt.end - s;
    if (!mf) d.total = end;
    if (off === 0) {
      // Unfragmentable Part and Fragment header, kept for the timeout quote.
      out.set(b.subarray(s, dataAt), BASE - FRAGMENT_HEADER_LEN - hlen);
      d.hlen = hlen;
      d.nextHeaderPos = chain.fragmentNamedAt - s;
      d.proto = b[fh]!;
      d.flags = pkt.flags;
      d.ifindex = pkt.ifindex;
      d.mark = pkt.mark;
      d.ct = pkt.ct;
    }
    if (d.total >= 0 && d.received === d.total) return this.#complete(d);
    return null;
  }

  #complete(d: Datagram): PacketBuffer | Ipv6ReassemblyDropReason {
    const p = d.buf!;
    d.buf = null;
    this.#table.remove(d);
    // Drop the Fragment header: the Unfragmentable Part moves up against the data.
    const from = BASE - FRAGMENT_HEADER_LEN - d.hlen;
    const h = BASE - d.hlen;
    p.buf.copyWithin(h, from, from + d.hlen);
    p.buf[h + d.nextHeaderPos] = d.proto;
    const plen = d.hlen - 40 + d.total;
    p.buf[h + 4] = plen >>> 8;
    p.buf[h + 5] = plen;
    if (d.ce && (p.buf[h + 1]! & 0x30) !== 0) p.buf[h + 1]! |= 0x30; // CE survives (RFC 3168 §5.3)
    p.start = h;
    p.end = BASE + d.total;
    p.l3 = h;
    p.l4 = BASE;
    p.family = 6;
    p.srcAt = h + 8;
    p.dstAt = h + 24;
    p.proto = d.proto;
    p.ttl = p.buf[h + 7]!;
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
        const h = BASE - FRAGMENT_HEADER_LEN - d.hlen;
        const dataEnd = ranges[1]!; // offset 0 arrived, so ranges[0] is 0
        const plen = d.hlen - 40 + FRAGMENT_HEADER_LEN + dataEnd;
        p.buf[h + 4] = plen >>> 8;
        p.buf[h + 5] = plen;
        p.start = p.l3 = h;
        p.l4 = BASE;
        p.end = BASE + dataEnd;
        p.family = 6;
        p.srcAt = h + 8;
        p.dstAt = h + 24;
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

  #find(b: Uint8Array, ip: number, id: number): Datagram | undefined {
    for (let d = this.#table.bucket(hashAt(b, ip, id)); d; d = d.chain ?? undefined) {
      if (d.id === id && keyEqualsAt(d.src, b, ip + 8) && keyEqualsAt(d.dst, b, ip + 24)) return d;
    }
    return undefined;
  }

  #create(b: Uint8Array, ip: number, id: number): Datagram {
    const src = ipKeyAt(b, ip + 8, 6);
    this.#table.admit(src);
    const hash = hashAt(b, ip, id);
    const d = new Datagram(src, ipKeyAt(b, ip + 24, 6), id, hash, this.#now() + this.#timeout);
    this.#table.insert(d);
    return d;
  }
}
