/**
 * Keyed hashing for the things an off-path attacker must not guess: initial
 * sequence numbers (RFC 6528), ephemeral ports (RFC 6056) and SYN cookies.
 * The hash is HalfSipHash-2-4 (32-bit SipHash, as Linux uses for such
 * tables) over 32-bit words, keyed from the stack's `Rng` at set-up.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Rng } from "../../rng.ts";

function rotl(x: number, b: number): number {
  return (x << b) | (x >>> (32 - b));
}

/**
 * HalfSipHash-2-4 with a 64-bit key over up to four 32-bit words, returning
 * an unsigned 32-bit value. Allocation-free.
 *
 * @example
 * ```ts
 * import { KeyedHash } from "./isn.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 * const h = new KeyedHash(new SeededRng(1));
 * assert.equal(h.hash(1, 2, 3, 4), h.hash(1, 2, 3, 4));
 * assert.notEqual(h.hash(1, 2, 3, 4), h.hash(1, 2, 3, 5));
 * ```
 */
export class KeyedHash {
  readonly #k0: number;
  readonly #k1: number;

  /** A hash keyed with 64 bits drawn from `rng`. */
  constructor(rng: Rng) {
    this.#k0 = rng.nextU32() | 0;
    this.#k1 = rng.nextU32() | 0;
  }

  // HalfSipHash state: fields rather than locals so one round function
  // serves the compression and finalisation rounds without allocating.
  #v0 = 0;
  #v1 = 0;
  #v2 = 0;
  #v3 = 0;

  /** Hash of four unsigned 32-bit words (hot path: positional). */
  hash(a: number, b: number, c: number, d: number): number {
    this.#v0 = this.#k0;
    this.#v1 = this.#k1;
    this.#v2 = 0x6c796765 ^ this.#k0;
    this.#v3 = 0x74656462 ^ this.#k1;
    this.#absorb(a | 0);
    this.#absorb(b | 0);
    this.#absorb(c | 0);
    this.#absorb(d | 0);
    this.#absorb((4 * 4) << 24); // the length block: 16 bytes
    this.#v2 ^= 0xff;
    this.#rounds(4);
    return (this.#v1 ^ this.#v3) >>> 0;
  }

  /** One message word: two compression rounds (SipHash-2-…). */
  #absorb(m: number): void {
    this.#v3 ^= m;
    this.#rounds(2);
    this.#v0 ^= m;
  }

  #rounds(n: number): void {
    let v0 = this.#v0, v1 = this.#v1, v2 = this.#v2, v3 = this.#v3;
    for (let r = 0; r < n; r++) {
      v0 = (v0 + v1) | 0;
      v1 = rotl(v1, 5) ^ v0;
      v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0;
      v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0;
      v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0;
      v1 = rotl(v1, 13) ^ v2;
      v2 = rotl(v2, 16);
    }
    this.#v0 = v0;
    this.#v1 = v1;
    this.#v2 = v2;
    this.#v3 = v3;
  }
}

/**
 * An initial sequence number per RFC 6528 §3: `ISN = M + F(4-tuple, key)`,
 * where `M` is a timer ticking every 4 µs (RFC 9293 §3.4.1) on the stack's
 * clock and `F` a keyed hash of the connection's addresses and ports.
 *
 * @param hash The stack's secret hash.
 * @param tuple `[localAddr, localPort, remoteAddr, remotePort]`.
 * @param now The stack's clock.
 * @returns The ISN, unsigned 32-bit.
 *
 * @example
 * ```ts
 * import { initialSequenceNumber, KeyedHash } from "./isn.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 * const h = new KeyedHash(new SeededRng(7));
 * const t: [number, number, number, number] = [0x0a000001, 80, 0x0a000002, 5000];
 * // The same tuple 4 ms later: 1000 ticks of the 4 µs clock further on.
 * assert.equal((initialSequenceNumber(h, t, 4_000) - initialSequenceNumber(h, t, 0)) >>> 0, 1000);
 * ```
 */
export function initialSequenceNumber(
  hash: KeyedHash,
  tuple: readonly [number, number, number, number],
  now: Instant,
): number {
  const f = hash.hash(tuple[0], tuple[1], tuple[2], tuple[3]);
  return (f + Math.floor(now / 4)) >>> 0;
}

/**
 * Ephemeral port selection, RFC 6056 §3.3.4 (Algorithm 4, double-hash port
 * selection): the search for a free port starts at `min + (F(tuple) +
 * table[G(tuple)]) mod range` and the table slot advances on each use, so
 * successive connections to the same peer get unpredictable, spread ports.
 *
 * @example
 * ```ts
 * import { EphemeralPorts, KeyedHash } from "./isn.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 * const rng = new SeededRng(3);
 * const ports = new EphemeralPorts(new KeyedHash(rng), new KeyedHash(rng), 49152, 65535);
 * const p = ports.pick(0x0a000001, 0x0a000002, 80, () => true);
 * assert.ok(p >= 49152 && p <= 65535);
 * assert.equal(ports.pick(1, 2, 80, () => false), -1); // every port busy
 * ```
 */
export class EphemeralPorts {
  readonly #f: KeyedHash;
  readonly #g: KeyedHash;
  readonly #table = new Uint16Array(256);
  readonly #min: number;
  readonly #count: number;

  /** A selector over `min..max` with hashes `f` (offset) and `g` (table slot). */
  constructor(f: KeyedHash, g: KeyedHash, min: number, max: number) {
    if (!(min >= 1 && max <= 65535 && min <= max)) {
      throw new RangeError(`Cannot use ephemeral ports ${min}..${max}`);
    }
    this.#f = f;
    this.#g = g;
    this.#min = min;
    this.#count = max - min + 1;
  }

  /**
   * A free port for a connection from `local` to `remote:remotePort`, trying
   * each port once; `free(port)` says whether it may be used. -1 when none is.
   */
  pick(local: number, remote: number, remotePort: number, free: (port: number) => boolean): number {
    const offset = this.#f.hash(local, remote, remotePort, 0);
    const slot = this.#g.hash(local, remote, remotePort, 1) & 0xff;
    const n = this.#count;
    for (let i = 0; i < n; i++) {
      const port = this.#min + ((offset + this.#table[slot]! + i) % n);
      if (free(port)) {
        this.#table[slot] = this.#table[slot]! + i + 1;
        return port;
      }
    }
    return -1;
  }
}
