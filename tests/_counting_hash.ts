/**
 * A `KeyedHash` that counts its four-word hash runs, for tests that pin how
 * often a table or selector hashes (IPv4 tuples take the four-word path).
 *
 * @example
 * ```ts
 * import { CountingHash } from "./_counting_hash.ts";
 * import { SeededRng } from "../stack/rng.ts";
 * import assert from "node:assert/strict";
 * const h = new CountingHash(new SeededRng(1));
 * h.hash(1, 2, 3, 4);
 * assert.equal(h.runs, 1);
 * ```
 *
 * @module
 */
import { KeyedHash } from "../stack/ip/keyed_hash.ts";

/** A key that counts {@linkcode KeyedHash.hash} calls in {@linkcode runs}. */
export class CountingHash extends KeyedHash {
  /** Four-word hashes run so far. */
  runs = 0;
  override hash(a: number, b: number, c: number, d: number): number {
    this.runs++;
    return super.hash(a, b, c, d);
  }
}
