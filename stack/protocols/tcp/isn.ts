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
import type { IpKey } from "../../wire/ip_address.ts";

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

  /** Bytes absorbed since {@linkcode begin}. */
  #length = 0;

  /** Hash of four unsigned 32-bit words (hot path: positional); the same as `begin()`, four `word()`s, `end()`. */
  hash(a: number, b: number, c: number, d: number): number {
    this.begin();
    this.#absorb(a | 0);
    this.#absorb(b | 0);
    this.#absorb(c | 0);
    this.#absorb(d | 0);
    this.#length = 16;
    return this.end();
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

/**
 * An initial sequence number per RFC 6528 §3: `ISN = M + F(4-tuple, key)`,
 * where `M` is a timer ticking every 4 µs (RFC 9293 §3.4.1) on the stack's
 * clock and `F` a keyed hash of the connection's full addresses (either
 * family) and ports. Allocation-free.
 *
 * @param hash The stack's secret hash.
 * @param localAddr Our address.
 * @param localPort Our port.
 * @param remoteAddr The peer's address (the same family).
 * @param remotePort The peer's port.
 * @param now The stack's clock.
 * @returns The ISN, unsigned 32-bit.
 *
 * @example
 * ```ts
 * import { initialSequenceNumber, KeyedHash } from "./isn.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 * const h = new KeyedHash(new SeededRng(7));
 * const isn = (now: number) => initialSequenceNumber(h, 0x0a000001, 80, 0x0a000002, 5000, now);
 * // The same tuple 4 ms later: 1000 ticks of the 4 µs clock further on.
 * assert.equal((isn(4_000) - isn(0)) >>> 0, 1000);
 * ```
 */
export function initialSequenceNumber(
  hash: KeyedHash,
  localAddr: IpKey,
  localPort: number,
  remoteAddr: IpKey,
  remotePort: number,
  now: Instant,
): number {
  const f = hash.begin().address(localAddr).word(localPort).address(remoteAddr).word(remotePort)
    .end();
  return (f + Math.floor(now / 4)) >>> 0;
}

/**
 * A connection's timestamp-clock offset (RFC 7323 §5.4): a keyed hash of its
 * full addresses and ports, so the TSval a peer sees reveals nothing of our
 * clock or of other connections. A pure function of the tuple: a connection
 * rebuilt from a SYN cookie gets the offset its SYN-ACK used.
 *
 * @example
 * ```ts
 * import { KeyedHash, timestampOffset } from "./isn.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 * const h = new KeyedHash(new SeededRng(7));
 * const off = timestampOffset(h, 0x0a000001, 80, 0x0a000002, 5000);
 * assert.equal(off, timestampOffset(h, 0x0a000001, 80, 0x0a000002, 5000));
 * assert.notEqual(off, timestampOffset(h, 0x0a000001, 80, 0x0a000003, 5000));
 * ```
 */
export function timestampOffset(
  hash: KeyedHash,
  localAddr: IpKey,
  localPort: number,
  remoteAddr: IpKey,
  remotePort: number,
): number {
  // The remote port is folded in after the hash: IPv4 offsets stay what they were.
  return (hash.begin().address(localAddr).word(localPort).address(remoteAddr).word(0).end() ^
    remotePort) >>> 0;
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
 * import { IpAddress } from "../../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * const rng = new SeededRng(3);
 * const ports = new EphemeralPorts(new KeyedHash(rng), new KeyedHash(rng), 49152, 65535);
 * const p = ports.pick(0x0a000001, 0x0a000002, 80, () => true);
 * assert.ok(p >= 49152 && p <= 65535);
 * assert.equal(ports.pick(1, 2, 80, () => false), -1); // every port busy
 * // IPv6 keys (either family) are hashed whole.
 * const v6 = IpAddress.parse("2001:db8::1")!.key;
 * assert.ok(ports.pick(v6, v6, 80, () => true) >= 49152);
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
   * A free port for a connection from `local` to `remote:remotePort` (full
   * addresses of either family; `remote` 0 for a listener), trying each port
   * once; `free(port)` says whether it may be used. -1 when none is.
   */
  pick(local: IpKey, remote: IpKey, remotePort: number, free: (port: number) => boolean): number {
    const offset = this.#f.begin().address(local).address(remote).word(remotePort).word(0).end();
    const slot = this.#g.begin().address(local).address(remote).word(remotePort).word(1).end() &
      0xff;
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
