/**
 * A set of IPv4 addresses (as numbers) that remembers its last answer: the
 * packets of a flow ask about the same address one after another (is the
 * destination ours? a broadcast?), and a repeated question skips the hash
 * lookup.
 *
 * @module
 */

/**
 * A `Set<number>` of IPv4 addresses whose `has` remembers the last address
 * asked and the answer; every change forgets it. Build it empty (the `Set`
 * constructor would add an iterable's items before the memo exists).
 *
 * @example
 * ```ts
 * import { Ipv4AddressSet } from "./ipv4_address_set.ts";
 * import assert from "node:assert/strict";
 * const local = new Ipv4AddressSet();
 * local.add(0x0a000001);
 * assert.equal(local.has(0x0a000001), true);
 * local.delete(0x0a000001);
 * assert.equal(local.has(0x0a000001), false); // the change is seen
 * ```
 */
export class Ipv4AddressSet extends Set<number> {
  /** The last address `has` was asked about, or -1 (no address is negative). */
  #lastAsked = -1;
  #lastAnswer = false;

  override has(address: number): boolean {
    if (address === this.#lastAsked) return this.#lastAnswer;
    const answer = super.has(address);
    this.#lastAsked = address;
    this.#lastAnswer = answer;
    return answer;
  }

  override add(address: number): this {
    this.#lastAsked = -1;
    return super.add(address);
  }

  override delete(address: number): boolean {
    this.#lastAsked = -1;
    return super.delete(address);
  }

  override clear(): void {
    this.#lastAsked = -1;
    super.clear();
  }
}
