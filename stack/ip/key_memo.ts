/**
 * IPv6 address keys read from packets, remembered: a connection's segments
 * carry the same two addresses over and over, and building an
 * {@linkcode IpKey} string from 16 bytes for each (two per TCP segment)
 * costs an allocation, and later a hash and a character-wise comparison
 * against the connection's own keys. The memo hands back the string it
 * built last time for the same bytes, so lookups compare pointers and reuse
 * the string's cached hash. IPv4 keys are numbers and need none of this.
 *
 * @module
 */
import type { PacketBuffer } from "../packet.ts";
import { type IpKey, ipKeyAt } from "../wire/ip_address.ts";

/** Slots of a memo (direct-mapped by the address's last 32 bits): a power of two. */
const SLOTS = 8;

/**
 * A small direct-mapped memo of IPv6 keys (eight slots: a bounded cache that
 * never grows). Hot path: four 32-bit loads and compares on a hit.
 *
 * @example
 * ```ts
 * import { IpKeyMemo } from "./key_memo.ts";
 * import { PacketBuffer } from "../packet.ts";
 * import { IpAddress } from "../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * const pkt = PacketBuffer.wrap(IpAddress.parse("fd00::1")!.bytes());
 * pkt.family = 6;
 * const memo = new IpKeyMemo();
 * const first = memo.keyAt(pkt, 0);
 * assert.equal(first, IpAddress.parse("fd00::1")!.key);
 * assert.equal(memo.keyAt(pkt, 0), first); // the same string, not a new one
 * ```
 */
export class IpKeyMemo {
  readonly #words = new Int32Array(4 * SLOTS);
  readonly #keys: (string | undefined)[] = new Array(SLOTS).fill(undefined);

  /**
   * The key of the address at `at` in `pkt` (of `pkt.family`; IPv4 keys are
   * read directly). Hot path: positional.
   */
  keyAt(pkt: PacketBuffer, at: number): IpKey {
    const dv = pkt.dv;
    if (pkt.family === 4) return dv.getUint32(at);
    const w0 = dv.getInt32(at);
    const w1 = dv.getInt32(at + 4);
    const w2 = dv.getInt32(at + 8);
    const w3 = dv.getInt32(at + 12);
    const slot = (w3 ^ (w3 >>> 16)) & (SLOTS - 1);
    const w = this.#words;
    const i = 4 * slot;
    const cached = this.#keys[slot];
    if (
      cached !== undefined && w[i + 3] === w3 && w[i + 2] === w2 && w[i + 1] === w1 &&
      w[i] === w0
    ) return cached;
    const key = ipKeyAt(pkt.buf, at, 6) as string;
    w[i] = w0;
    w[i + 1] = w1;
    w[i + 2] = w2;
    w[i + 3] = w3;
    this.#keys[slot] = key;
    return key;
  }
}
