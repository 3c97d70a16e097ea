/**
 * The stack's only source of randomness: a small, fast, seedable generator
 * (sfc32, seeded through splitmix32). The same seed always gives the same
 * sequence, so loopback scenarios are reproducible byte for byte.
 *
 * Not cryptographic on its own; TCP's RFC 6528 ISNs mix its output into a keyed
 * hash, which is what matters against off-path guessing in a simulator.
 *
 * @module
 */

/** A deterministic random source. */
export interface Rng {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
  /** A float in [0, 1). */
  nextFloat(): number;
  /** An integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number;
  /** Fills `bytes` with random bytes. */
  fill(bytes: Uint8Array): void;
  /** A new independent generator derived from this one (for a child host). */
  fork(): Rng;
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

/**
 * A seeded sfc32 generator.
 *
 * @example
 * ```ts
 * import { SeededRng } from "./rng.ts";
 * import assert from "node:assert/strict";
 * const a = new SeededRng(42), b = new SeededRng(42);
 * assert.equal(a.nextU32(), b.nextU32());
 * assert.ok(a.range(1, 6) >= 1);
 * ```
 */
export class SeededRng implements Rng {
  #a = 0;
  #b = 0;
  #c = 0;
  #d = 0;
  /** Seeds the generator; any number (its low 32 bits are used, with the high bits mixed in). */
  constructor(seed: number) {
    // Seeds in [0, 2^32) use their value as is. Other seeds fold their high
    // word in through a non-linear mix (murmur3's finalizer): a plain XOR
    // made seed -k the same stream as seed k - 1, and 2^32 the same as 1.
    const hi = Math.floor(seed / 0x1_0000_0000);
    let s = (seed | 0) ^ (hi === 0 ? 0 : fmix32(hi));
    let v: number;
    [s, v] = splitmix32(s);
    this.#a = v;
    [s, v] = splitmix32(s);
    this.#b = v;
    [s, v] = splitmix32(s);
    this.#c = v;
    [s, v] = splitmix32(s);
    this.#d = v;
    for (let i = 0; i < 12; i++) this.nextU32();
  }
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }
  /** A float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 0x1_0000_0000;
  }
  /** An integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`Cannot draw from empty range [${lo}, ${hi}]`);
    return lo + Math.floor(this.nextFloat() * (hi - lo + 1));
  }
  /** Fills `bytes` with random bytes. */
  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i += 4) {
      let v = this.nextU32();
      for (let j = i; j < i + 4 && j < bytes.length; j++) {
        bytes[j] = v & 0xff;
        v >>>= 8;
      }
    }
  }
  /** A new generator seeded from this one's output. */
  fork(): Rng {
    return new SeededRng(this.nextU32());
  }
}
