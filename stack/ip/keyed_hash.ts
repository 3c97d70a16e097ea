/**
 * A keyed 32-bit pseudorandom function for values an off-path attacker must
 * not guess: TCP's initial sequence numbers (RFC 6528), ephemeral ports
 * (RFC 6056) and SYN cookies, and IPv6 stable-privacy interface identifiers
 * (RFC 7217). HalfSipHash-2-4 (32-bit SipHash, as Linux uses for such
 * tables) over 32-bit words, keyed from the stack's `Rng` at set-up or
 * from a configured secret.
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { IpKey } from "../wire/ip_address.ts";

function rotl(x: number, b: number): number {
  return (x << b) | (x >>> (32 - b));
}

/**
 * HalfSipHash-2-4 with a 64-bit key over up to four 32-bit words, returning
 * an unsigned 32-bit value. Allocation-free.
 *
 * @example
 * ```ts
 * import { KeyedHash } from "./keyed_hash.ts";
 * import { SeededRng } from "../rng.ts";
 * import assert from "node:assert/strict";
 * const h = new KeyedHash(new SeededRng(1));
 * assert.equal(h.hash(1, 2, 3, 4), h.hash(1, 2, 3, 4));
 * assert.notEqual(h.hash(1, 2, 3, 4), h.hash(1, 2, 3, 5));
 * ```
 */
export class KeyedHash {
  readonly #k0: number;
  readonly #k1: number;

  /** A hash keyed with 64 bits drawn from `rng` (two `nextU32()` calls). */
  constructor(rng: Pick<Rng, "nextU32">) {
    this.#k0 = rng.nextU32() | 0;
    this.#k1 = rng.nextU32() | 0;
  }

  /**
   * A hash with a given 64-bit key (two unsigned 32-bit words), for a
   * configured secret.
   *
   * @example
   * ```ts
   * import { KeyedHash } from "./keyed_hash.ts";
   * import assert from "node:assert/strict";
   * const a = KeyedHash.withKey(1, 2), b = KeyedHash.withKey(1, 2);
   * assert.equal(a.hash(5, 6, 7, 8), b.hash(5, 6, 7, 8));
   * assert.notEqual(a.hash(5, 6, 7, 8), KeyedHash.withKey(1, 3).hash(5, 6, 7, 8));
   * ```
   */
  static withKey(k0: number, k1: number): KeyedHash {
    const words = [k0, k1];
    let i = 0;
    return new KeyedHash({ nextU32: () => words[i++]! >>> 0 });
  }

  // HalfSipHash state: fields rather than locals so one round function
  // serves the compression and finalisation rounds without allocating.
  #v0 = 0;
  #v1 = 0;
  #v2 = 0;
  #v3 = 0;

  /** Bytes absorbed since {@linkcode begin}. */
  #length = 0;

  /**
   * Hash of four unsigned 32-bit words (hot path: positional); the same as
   * `begin()`, four `word()`s, `end()`, with the state in local variables:
   * kept in the fields between blocks it cost 837 instructions a call, this
   * 597 (cachegrind, a loop of calls; one loop of seven blocks with the
   * finalisation among them, 606, cost 4,600 more per connection in
   * `bench/instructions.ts conns`). TCP's tables hash every new tuple.
   */
  hash(a: number, b: number, c: number, d: number): number {
    let v0 = this.#k0, v1 = this.#k1;
    let v2 = 0x6c796765 ^ v0, v3 = 0x74656462 ^ v1;
    // Two rounds per block (the four words, then the length block: 16
    // bytes), then four of finalisation.
    for (let block = 0; block < 5; block++) {
      const m = block === 0
        ? a | 0
        : block === 1
        ? b | 0
        : block === 2
        ? c | 0
        : block === 3
        ? d | 0
        : 16 << 24;
      v3 ^= m;
      for (let r = 0; r < 2; r++) {
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
      v0 ^= m;
    }
    v2 ^= 0xff;
    for (let r = 0; r < 4; r++) {
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
    return (v1 ^ v3) >>> 0;
  }

  /**
   * Starts a message of any number of words: `begin().word(…).address(…).end()`.
   * Allocation-free (the state lives in the hash object; one message at a time).
   */
  begin(): this {
    this.#v0 = this.#k0;
    this.#v1 = this.#k1;
    this.#v2 = 0x6c796765 ^ this.#k0;
    this.#v3 = 0x74656462 ^ this.#k1;
    this.#length = 0;
    return this;
  }

  /** Adds one unsigned 32-bit word to the message. */
  word(w: number): this {
    this.#absorb(w | 0);
    this.#length += 4;
    return this;
  }

  /**
   * Adds an address, all of it: an IPv4 key is one word, an IPv6 key its
   * four words (eight 16-bit groups), so addresses that differ in any bit
   * hash apart. A tuple of IPv4 addresses hashes as it did before IPv6.
   */
  address(key: IpKey): this {
    if (typeof key === "number") return this.word(key);
    for (let i = 0; i < 8; i += 2) this.word((key.charCodeAt(i) << 16) | key.charCodeAt(i + 1));
    return this;
  }

  /** Ends the message (its length block, then the finalisation rounds): the 32-bit hash. */
  end(): number {
    this.#absorb((this.#length & 0xff) << 24);
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
