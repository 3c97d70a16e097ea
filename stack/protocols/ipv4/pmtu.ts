/**
 * The path MTU cache (RFC 1191): per destination, the largest datagram that
 * crossed the path without fragmentation, as learned from ICMP "fragmentation
 * needed" messages.
 *
 * Decisions:
 * - Entries expire 10 minutes after they were last lowered (RFC 1191 §6.3:
 *   "a timeout of 10 minutes is recommended"), so an increase in the path MTU
 *   is found again; an expired entry reads as absent.
 * - An estimate is only ever lowered by a report (RFC 1191 §3: "a host MUST
 *   NOT increase its estimate of the Path MTU in response to the contents of
 *   a Datagram Too Big message").
 * - Floor: RFC 1191 §3 forbids going below 68. We floor at 552 by default,
 *   as Linux's `min_pmtu` does, because forged "fragmentation needed"
 *   messages with a tiny MTU are a known attack (RFC 5927 §7.2). A report
 *   below the floor sets the floor and marks the entry `locked`: datagrams to
 *   that destination are then sent with DF clear so that a router with a
 *   really smaller MTU can still fragment them (Linux's "mtu lock").
 * - The cache is bounded (`maxEntries`, default 1024); when full, the entry
 *   inserted first is evicted.
 *
 * @module
 */
import type { Duration, Instant } from "../../clock.ts";

/** Default lifetime of a learned path MTU: 10 minutes (RFC 1191 §6.3). */
export const PMTU_EXPIRY: Duration = 600_000_000;
/** Default floor of a learned path MTU (Linux `min_pmtu`). */
export const PMTU_FLOOR = 552;
/** Smallest MTU any IPv4 link has (RFC 791: 68 bytes must pass unfragmented). */
export const IPV4_MIN_MTU = 68;

/** Options of {@linkcode PmtuCache}. */
export interface PmtuOptions {
  /** Lifetime of an entry in µs (default {@linkcode PMTU_EXPIRY}). */
  readonly expiry?: Duration;
  /** Floor of a learned MTU, at least 68 (default {@linkcode PMTU_FLOOR}). */
  readonly minMtu?: number;
  /** Most destinations remembered (default 1024). */
  readonly maxEntries?: number;
}

/** One learned path MTU. */
export interface PmtuEntry {
  /** Destination (unsigned 32-bit). */
  readonly destination: number;
  /** Path MTU in bytes. */
  readonly mtu: number;
  /** When the entry expires, on the stack's clock. */
  readonly expires: Instant;
  /** Set when a report below the floor was clamped: send with DF clear. */
  readonly locked: boolean;
}

interface Slot {
  mtu: number;
  expires: Instant;
  locked: boolean;
}

/**
 * A bounded per-destination path MTU cache.
 *
 * @example
 * ```ts
 * import { PmtuCache } from "./pmtu.ts";
 * import assert from "node:assert/strict";
 * let now = 0;
 * const cache = new PmtuCache(() => now);
 * assert.equal(cache.learn(0x0a000003, 576), 576);
 * assert.equal(cache.get(0x0a000003), 576);
 * assert.equal(cache.learn(0x0a000003, 1400), 576); // never raised by a report
 * assert.equal(cache.learn(0x0a000004, 100), 552); // floored and locked
 * assert.ok(cache.isLocked(0x0a000004));
 * now += 600_000_000;
 * assert.equal(cache.get(0x0a000003), 0); // expired after 10 minutes
 * ```
 */
export class PmtuCache {
  readonly #now: () => Instant;
  readonly #expiry: Duration;
  readonly #min: number;
  readonly #max: number;
  readonly #map = new Map<number, Slot>();

  /**
   * A cache on the clock `now`.
   *
   * @throws {RangeError} If `minMtu` is below 68 or `maxEntries` below 1.
   */
  constructor(now: () => Instant, options: PmtuOptions = {}) {
    this.#now = now;
    this.#expiry = options.expiry ?? PMTU_EXPIRY;
    this.#min = options.minMtu ?? PMTU_FLOOR;
    this.#max = options.maxEntries ?? 1024;
    if (!(this.#min >= IPV4_MIN_MTU)) {
      throw new RangeError(`Cannot create PMTU cache: minMtu ${this.#min} is below 68`);
    }
    if (!(this.#max >= 1)) {
      throw new RangeError(`Cannot create PMTU cache: maxEntries ${this.#max} is below 1`);
    }
  }

  /** Number of entries (expired ones included until next read). */
  get size(): number {
    return this.#map.size;
  }

  /** The floor applied to reports. */
  get minMtu(): number {
    return this.#min;
  }

  #slot(dst: number): Slot | undefined {
    const s = this.#map.get(dst);
    if (s === undefined) return undefined;
    if (s.expires <= this.#now()) {
      this.#map.delete(dst);
      return undefined;
    }
    return s;
  }

  /** The path MTU towards `dst`, or 0 when none is known. Hot path: no allocation. */
  get(dst: number): number {
    return this.#slot(dst)?.mtu ?? 0;
  }

  /** Whether the entry for `dst` was clamped to the floor (send with DF clear). */
  isLocked(dst: number): boolean {
    return this.#slot(dst)?.locked ?? false;
  }

  /** The live entry for `dst`, if any. */
  entry(dst: number): PmtuEntry | undefined {
    const s = this.#slot(dst);
    return s && { destination: dst, mtu: s.mtu, expires: s.expires, locked: s.locked };
  }

  /**
   * Lowers the path MTU towards `dst` to `mtu` (clamped to the floor); a
   * value not below the current estimate is ignored.
   *
   * @returns The estimate now in force.
   */
  learn(dst: number, mtu: number): number {
    dst >>>= 0;
    let locked = false;
    if (mtu < this.#min) {
      mtu = this.#min;
      locked = true;
    }
    const cur = this.#slot(dst);
    if (cur !== undefined && cur.mtu <= mtu) {
      if (locked && cur.mtu === mtu) cur.locked = true;
      return cur.mtu;
    }
    const expires = this.#now() + this.#expiry;
    if (cur !== undefined) {
      cur.mtu = mtu;
      cur.expires = expires;
      cur.locked = locked;
      return mtu;
    }
    if (this.#map.size >= this.#max) {
      const first = this.#map.keys().next();
      if (!first.done) this.#map.delete(first.value);
    }
    this.#map.set(dst, { mtu, expires, locked });
    return mtu;
  }

  /** Forgets `dst` (or everything). */
  clear(dst?: number): void {
    if (dst === undefined) this.#map.clear();
    else this.#map.delete(dst >>> 0);
  }

  /** The live entries, by destination. */
  entries(): PmtuEntry[] {
    const out: PmtuEntry[] = [];
    for (const dst of [...this.#map.keys()].sort((a, b) => a - b)) {
      const e = this.entry(dst);
      if (e) out.push(e);
    }
    return out;
  }
}
