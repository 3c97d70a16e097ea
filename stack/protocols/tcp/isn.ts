/**
 * Keyed hashing for the things an off-path attacker must not guess: initial
 * sequence numbers (RFC 6528), ephemeral ports (RFC 6056) and SYN cookies.
 * The hash is the core's `KeyedHash` (`stack/ip/keyed_hash.ts`,
 * HalfSipHash-2-4), keyed from the stack's `Rng` at set-up.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { KeyedHash } from "../../ip/keyed_hash.ts";

export { KeyedHash };

/**
 * `hash` of `a, b, c, d`, where `a` and `c` are addresses and `b`, `d`
 * words: the same value as `begin().address(a).word(b).address(c).word(d).end()`,
 * for two IPv4 addresses in the four-word `hash()` (a third of the
 * chain's time; four of these per connection set-up, six with the port).
 */
function tupleHash4(hash: KeyedHash, a: IpKey, b: number, c: IpKey, d: number): number {
  if (typeof a === "number" && typeof c === "number") return hash.hash(a, b, c, d);
  return hash.begin().address(a).word(b).address(c).word(d).end();
}

/** As {@linkcode tupleHash4} for two addresses, then two words. */
function pairHash4(hash: KeyedHash, a: IpKey, b: IpKey, c: number, d: number): number {
  if (typeof a === "number" && typeof b === "number") return hash.hash(a, b, c, d);
  return hash.begin().address(a).address(b).word(c).word(d).end();
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
  const f = tupleHash4(hash, localAddr, localPort, remoteAddr, remotePort);
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
  // The remote port is folded in after the hash: IPv4 offsets stay what they were
  // (and a server's connections from one client share the hash: TimestampOffsets).
  return (tupleHash4(hash, localAddr, localPort, remoteAddr, 0) ^ remotePort) >>> 0;
}

/**
 * {@linkcode timestampOffset} under one stack's key, remembering the hash of
 * the last addresses and local port it was asked for: a server's
 * connections from one client differ only in the remote port, which is
 * folded in after the hash, so each costs no hash of its own.
 *
 * @example
 * ```ts
 * import { KeyedHash, timestampOffset, TimestampOffsets } from "./isn.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 * const h = new KeyedHash(new SeededRng(7));
 * const offsets = new TimestampOffsets(h);
 * for (const port of [5000, 5001, 5000]) {
 *   assert.equal(offsets.of(0x0a000001, 80, 0x0a000002, port), timestampOffset(h, 0x0a000001, 80, 0x0a000002, port));
 * }
 * assert.equal(offsets.of(0x0a000001, 81, 0x0a000002, 5000), timestampOffset(h, 0x0a000001, 81, 0x0a000002, 5000));
 * ```
 */
export class TimestampOffsets {
  readonly #hash: KeyedHash;
  // The last addresses and local port and their hash; port -1 matches none.
  #la: IpKey = 0;
  #lp = -1;
  #ra: IpKey = 0;
  #h = 0;

  /** Offsets under `hash` (the stack's secret). */
  constructor(hash: KeyedHash) {
    this.#hash = hash;
  }

  /** {@linkcode timestampOffset} of the connection's addresses and ports. */
  of(localAddr: IpKey, localPort: number, remoteAddr: IpKey, remotePort: number): number {
    if (localPort !== this.#lp || localAddr !== this.#la || remoteAddr !== this.#ra) {
      this.#la = localAddr;
      this.#lp = localPort;
      this.#ra = remoteAddr;
      this.#h = tupleHash4(this.#hash, localAddr, localPort, remoteAddr, 0);
    }
    return (this.#h ^ remotePort) >>> 0;
  }
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
  // The last pick's local address, remote address and port (port -1: none)
  // and their two hashes: connections to one service share them.
  #local: IpKey = 0;
  #remote: IpKey = 0;
  #remotePort = -1;
  #offset = 0;
  #slot = 0;

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
    if (remotePort !== this.#remotePort || local !== this.#local || remote !== this.#remote) {
      this.#local = local;
      this.#remote = remote;
      this.#remotePort = remotePort;
      this.#offset = pairHash4(this.#f, local, remote, remotePort, 0);
      this.#slot = pairHash4(this.#g, local, remote, remotePort, 1) & 0xff;
    }
    const offset = this.#offset;
    const slot = this.#slot;
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
