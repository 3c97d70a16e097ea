/**
 * The connection table: entries by both tuples, bounded in entries and in
 * bytes, with expiry on the stack's clock and early drop of entries that
 * are not assured when full (Linux's `early_drop`, oldest first).
 *
 * Expiry without a heap: entries with the same timeout live in one
 * insertion-ordered set, and a packet that refreshes an entry moves it to
 * the end of its set, so each set's first entry expires first. There are
 * as many sets as distinct timeouts (about ten), and the timer waits for
 * the earliest first entry. An entry already last in its set stays put
 * (the common case of a burst of one flow): no set operation per packet.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type {
  ConntrackDirection,
  ConntrackEntry,
  ConntrackRef,
  ConntrackTuple,
} from "../../_services_conntrack.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { TcpFlow } from "./tcp_track.ts";
import { tupleKey } from "./tuple.ts";

/**
 * Bytes charged per entry besides its keys (charged at two bytes a
 * character): the entry object, two tuples, four refs, two map slots and a
 * set slot. Measured on Deno 2.9 with `Deno.memoryUsage().heapUsed` after a
 * forced GC around 100,000 inserted IPv4 entries: 816 bytes per UDP entry,
 * 1,080 per TCP entry, keys included; the charge is 700 + keys (about
 * 116) and {@linkcode TCP_EXTRA_BYTES} more for TCP.
 */
export const ENTRY_BYTES = 700;
/** Bytes a TCP entry holds more (its state and two window records), measured as above. */
export const TCP_EXTRA_BYTES = 264;

/** A tracked flow (the service shares it as a {@linkcode ConntrackEntry}). */
export class Entry implements ConntrackEntry {
  readonly id: number;
  readonly family: 4 | 6;
  readonly protocol: number;
  readonly original: ConntrackTuple;
  reply: ConntrackTuple;
  /** Map keys of the two tuples. */
  origKey: string;
  replyKey: string;
  /** TCP state, or null for other protocols. */
  readonly tcp: TcpFlow | null;
  seenReply = false;
  #assured = false;
  confirmed = false;
  expires: Instant = 0;
  /** The timeout set the entry is in (null when not in the table). */
  lru: TimeoutSet | null = null;
  /** Whether it is in the table's early-drop candidates (confirmed, not assured). */
  unassuredListed = false;
  nat: unknown = null;
  minTimeout = 0;
  /** Refs per direction: [original, reply] and the RELATED ones. */
  readonly refs: readonly [Ref, Ref];
  readonly relatedRefs: readonly [Ref, Ref];
  /** Bytes charged for it. */
  bytes = 0;

  /** A new, unconfirmed entry for the tuple of a first packet. */
  constructor(
    id: number,
    family: 4 | 6,
    protocol: number,
    src: IpKey,
    srcPort: number,
    dst: IpKey,
    dstPort: number,
  ) {
    this.id = id;
    this.family = family;
    this.protocol = protocol;
    this.original = { src, srcPort, dst, dstPort };
    this.reply = { src: dst, srcPort: dstPort, dst: src, dstPort: srcPort };
    this.origKey = tupleKey(protocol, src, srcPort, dst, dstPort);
    this.replyKey = tupleKey(protocol, dst, dstPort, src, srcPort);
    this.tcp = protocol === 6 ? new TcpFlow() : null;
    this.refs = [new Ref(this, 0, false), new Ref(this, 1, false)];
    this.relatedRefs = [new Ref(this, 0, true), new Ref(this, 1, true)];
  }

  /** TCP state name, or "". */
  get state(): string {
    return this.tcp === null ? "" : TCP_NAMES[this.tcp.state]!;
  }

  /** Assured: TCP past its handshake, others once replied. */
  get assured(): boolean {
    return this.tcp !== null ? this.tcp.assured : this.#assured;
  }
  set assured(v: boolean) {
    this.#assured = v;
  }
}

const TCP_NAMES = [
  "NONE",
  "SYN_SENT",
  "SYN_RECV",
  "ESTABLISHED",
  "FIN_WAIT",
  "CLOSE_WAIT",
  "LAST_ACK",
  "TIME_WAIT",
  "CLOSE",
  "SYN_SENT2",
];

/** Entries of one timeout, in expiry order, and the last one (refreshed in place). */
export class TimeoutSet {
  readonly entries = new Set<Entry>();
  last: Entry | null = null;
  readonly timeout: number;
  constructor(timeout: number) {
    this.timeout = timeout;
  }
}

/** What `pkt.ct` holds: an entry, a direction, related or not. */
export class Ref implements ConntrackRef {
  readonly entry: Entry;
  readonly direction: ConntrackDirection;
  readonly related: boolean;
  /** The next ref in its bucket of the table's IPv4 index. */
  next: Ref | null = null;
  constructor(entry: Entry, direction: ConntrackDirection, related: boolean) {
    this.entry = entry;
    this.direction = direction;
    this.related = related;
  }
}

/**
 * A 30-bit hash of an IPv4 tuple (a small integer: V8 hashes it without a
 * string). Hot path.
 */
export function hashTuple4(
  protocol: number,
  src: number,
  srcPort: number,
  dst: number,
  dstPort: number,
): number {
  let h = Math.imul(src ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ dst, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ ((srcPort << 16) | dstPort), 0x27d4eb2d);
  h ^= protocol ^ (h >>> 16);
  return h & 0x3fffffff;
}

/** Why {@linkcode ConnTable.insert} refused. */
export type InsertFailure = "table_full" | "insert_failed";

/**
 * The table of confirmed entries.
 *
 * @example
 * ```ts
 * import { ConnTable, Entry } from "./table.ts";
 * import assert from "node:assert/strict";
 * const t = new ConnTable({ maxEntries: 1, maxBytes: 1 << 20 });
 * const e = new Entry(1, 4, 17, 1, 5000, 2, 53);
 * assert.equal(t.insert(e, 0, 30_000_000), undefined);
 * assert.equal(t.get("17|2|53|1|5000")?.direction, 1);
 * // Full: the unassured entry is dropped early for a new one.
 * assert.equal(t.insert(new Entry(2, 4, 17, 1, 5001, 2, 53), 0, 30_000_000), undefined);
 * assert.equal(t.earlyDrops, 1);
 * ```
 */
export class ConnTable {
  readonly #byKey = new Map<string, Ref>();
  /**
   * IPv4 refs by {@linkcode hashTuple4}, chained through `Ref.next`: the
   * per-packet lookup, with no key string built (#byKey has them all too).
   */
  readonly #byHash4 = new Map<number, Ref>();
  /** Timeout sets by duration (µs). */
  readonly #lrus = new Map<number, TimeoutSet>();
  /** Unassured confirmed entries, oldest first: the early-drop candidates. */
  readonly #unassured = new Set<Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #count = 0;
  #bytes = 0;
  /** Entries dropped early to make room. */
  earlyDrops = 0;
  /** Called with every entry that leaves the table. */
  onRemove: (entry: Entry) => void = () => {};

  /** A table of at most `maxEntries` entries and `maxBytes` estimated bytes. */
  constructor(limits: { readonly maxEntries: number; readonly maxBytes: number }) {
    this.#maxEntries = limits.maxEntries;
    this.#maxBytes = limits.maxBytes;
  }

  /** Confirmed entries. */
  get size(): number {
    return this.#count;
  }
  /** Estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The ref whose tuple has map key `key`. */
  get(key: string): Ref | undefined {
    return this.#byKey.get(key);
  }

  /** The ref of an IPv4 tuple (as {@linkcode get} with its key). Hot path. */
  get4(
    protocol: number,
    src: number,
    srcPort: number,
    dst: number,
    dstPort: number,
  ): Ref | undefined {
    let r = this.#byHash4.get(hashTuple4(protocol, src, srcPort, dst, dstPort)) ?? null;
    for (; r !== null; r = r.next) {
      const e = r.entry;
      const t = r.direction === 0 ? e.original : e.reply;
      if (
        t.src === src && t.dst === dst && t.srcPort === srcPort && t.dstPort === dstPort &&
        e.protocol === protocol
      ) return r;
    }
    return undefined;
  }

  #hashOf(r: Ref): number {
    const e = r.entry;
    const t = r.direction === 0 ? e.original : e.reply;
    return hashTuple4(e.protocol, t.src as number, t.srcPort, t.dst as number, t.dstPort);
  }

  #index4(r: Ref): void {
    const h = this.#hashOf(r);
    r.next = this.#byHash4.get(h) ?? null;
    this.#byHash4.set(h, r);
  }

  #unindex4(r: Ref): void {
    const h = this.#hashOf(r);
    const head = this.#byHash4.get(h);
    if (head === r) {
      if (r.next === null) this.#byHash4.delete(h);
      else this.#byHash4.set(h, r.next);
    } else {
      for (let p = head ?? null; p !== null; p = p.next) {
        if (p.next === r) {
          p.next = r.next;
          break;
        }
      }
    }
    r.next = null;
  }

  /** Whether `key` is some entry's tuple. */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /**
   * Confirms `e`, expiring at `now + timeout`: makes room by dropping
   * unassured entries, oldest first, when a bound would be passed.
   */
  insert(e: Entry, now: Instant, timeout: number): InsertFailure | undefined {
    if (this.#byKey.has(e.origKey) || this.#byKey.has(e.replyKey)) return "insert_failed";
    const bytes = ENTRY_BYTES + (e.tcp !== null ? TCP_EXTRA_BYTES : 0) +
      2 * (e.origKey.length + e.replyKey.length);
    while (this.#count + 1 > this.#maxEntries || this.#bytes + bytes > this.#maxBytes) {
      const victim = this.#unassured.values().next();
      if (victim.done) return "table_full";
      this.earlyDrops++;
      this.remove(victim.value);
    }
    this.#byKey.set(e.origKey, e.refs[0]);
    this.#byKey.set(e.replyKey, e.refs[1]);
    if (e.family === 4) {
      this.#index4(e.refs[0]);
      this.#index4(e.refs[1]);
    }
    e.bytes = bytes;
    e.confirmed = true;
    this.#count++;
    this.#bytes += bytes;
    if (!e.assured) {
      this.#unassured.add(e);
      e.unassuredListed = true;
    }
    this.refresh(e, now, timeout);
    return undefined;
  }

  /**
   * Sets `e` to expire at `now + timeout` (moving it to the end of that
   * timeout's set unless it is there already). Hot path.
   */
  refresh(e: Entry, now: Instant, timeout: number): void {
    e.expires = now + timeout;
    if (!e.confirmed) return;
    const cur = e.lru;
    // Already last of its set: still in expiry order (now never goes back).
    if (cur !== null && cur.last === e && cur.timeout === timeout) return;
    let lru = this.#lrus.get(timeout);
    if (lru === undefined) this.#lrus.set(timeout, lru = new TimeoutSet(timeout));
    if (cur !== null) this.#unlink(e, cur);
    lru.entries.add(e);
    lru.last = e;
    e.lru = lru;
  }

  #unlink(e: Entry, lru: TimeoutSet): void {
    lru.entries.delete(e);
    if (lru.last === e) lru.last = null;
  }

  /** `e` became assured: no longer a candidate for early drop. Hot path (once per packet). */
  assure(e: Entry): void {
    if (!e.unassuredListed) return;
    this.#unassured.delete(e);
    e.unassuredListed = false;
  }

  /** Takes `e` out of the table; false when it was not in. */
  remove(e: Entry): boolean {
    if (!e.confirmed || this.#byKey.get(e.origKey)?.entry !== e) return false;
    this.#byKey.delete(e.origKey);
    this.#byKey.delete(e.replyKey);
    if (e.family === 4) {
      this.#unindex4(e.refs[0]);
      this.#unindex4(e.refs[1]);
    }
    if (e.lru !== null) this.#unlink(e, e.lru);
    e.lru = null;
    this.assure(e);
    e.confirmed = false;
    this.#count--;
    this.#bytes -= e.bytes;
    this.onRemove(e);
    return true;
  }

  /** Removes the entries expired at `now`; returns how many. */
  expire(now: Instant): number {
    let n = 0;
    for (const lru of this.#lrus.values()) {
      for (const e of lru.entries) {
        if (e.expires > now) break;
        this.remove(e);
        n++;
      }
    }
    return n;
  }

  /** When the next entry expires, or undefined for an empty table. */
  nextExpiry(): Instant | undefined {
    let at: Instant | undefined;
    for (const lru of this.#lrus.values()) {
      const first = lru.entries.values().next();
      if (!first.done && (at === undefined || first.value.expires < at)) at = first.value.expires;
    }
    return at;
  }

  /** Every confirmed entry, oldest set first. */
  *entries(): IterableIterator<Entry> {
    for (const lru of this.#lrus.values()) yield* lru.entries;
  }

  /** Removes everything (teardown); listeners are not told. */
  clear(): void {
    this.#byKey.clear();
    this.#byHash4.clear();
    this.#lrus.clear();
    this.#unassured.clear();
    this.#count = 0;
    this.#bytes = 0;
  }
}
