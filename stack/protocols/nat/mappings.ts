/**
 * NAT mappings (RFC 4787 §4.1, RFC 5382 §2): one external address and port
 * per internal endpoint (protocol, address, port) and external address,
 * whatever the remote (endpoint-independent mapping, REQ-1), with the
 * remotes it has sent to for filtering (§5). A mapping lives while a
 * tracked flow uses it, and then `linger` µs more (REQ-5's two minutes),
 * so it is never handed to another endpoint while its flows live.
 *
 * Ports: the internal port when free (port preservation, REQ-3's
 * recommendation), else a random one from the stack's RNG with the same
 * parity (REQ-3) in the same range class (below 1024 or not), never the
 * next one in sequence (RFC 6056's point about predictable ports).
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Rng } from "../../rng.ts";

/**
 * Bytes charged per mapping: the object, its two empty sets, two map
 * slots with their string keys and an idle-set slot. Measured on Deno 2.9
 * with `Deno.memoryUsage().heapUsed` after a forced GC around 100,000
 * created IPv4 UDP mappings: 597 bytes each, keys included.
 */
export const MAPPING_BYTES = 600;
/**
 * Bytes charged per remembered remote: an `addr|port` string and slots in
 * two sets. Measured as above with 200,000 remotes over 1,000 mappings:
 * 82 bytes each; charged more for the slack of small sets.
 */
export const REMOTE_BYTES = 120;

/** One mapping: internal endpoint ↔ external endpoint. */
export class Mapping {
  /** Tracked flows using it. */
  flows = 0;
  /** Remote addresses it sent to (address-dependent filtering). */
  readonly remotes: Set<number> = new Set();
  /** Remote `address|port` it sent to (address-and-port-dependent filtering). */
  readonly remoteEndpoints: Set<string> = new Set();
  /** When its last flow ended (while lingering). */
  idleSince: Instant = 0;
  /** The interface whose address MASQUERADE took (-1: an SNAT address). */
  ifindex = -1;

  /** Bytes charged to the table for it and its remotes. */
  bytes = 0;

  /** A mapping for `protocol` from `intAddr:intPort` to `extAddr:extPort`. */
  constructor(
    readonly protocol: number,
    readonly intAddr: number,
    readonly intPort: number,
    readonly extAddr: number,
    readonly extPort: number,
  ) {}
}

function internalKey(protocol: number, addr: number, port: number, ext: number): string {
  return protocol + "|" + addr + "|" + port + "|" + ext;
}
function externalKey(protocol: number, addr: number, port: number): string {
  return protocol + "|" + addr + "|" + port;
}

/** Random draws before the table falls back to a scan from a random start. */
const RANDOM_TRIES = 64;

/**
 * The mapping table.
 *
 * @example
 * ```ts
 * import { MappingTable } from "./mappings.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 * const t = new MappingTable(16);
 * const rng = new SeededRng(1);
 * const a = t.create(17, 0x0a010001, 5000, 0xcb007101, 1024, 65535, rng, () => false)!;
 * assert.equal(a.extPort, 5000); // preserved
 * const b = t.create(17, 0x0a010002, 5000, 0xcb007101, 1024, 65535, rng, () => false)!;
 * assert.notEqual(b.extPort, 5000);
 * assert.equal(b.extPort % 2, 0); // parity kept
 * ```
 */
export class MappingTable {
  readonly #byInternal = new Map<string, Mapping>();
  readonly #byExternal = new Map<string, Mapping>();
  /** Mappings with no flow left, oldest first. */
  readonly #idle = new Set<Mapping>();
  /** Mappings per external address (an address leaves with its last mapping). */
  readonly #perAddress = new Map<number, number>();
  readonly #max: number;
  readonly #maxBytes: number;
  #bytes = 0;

  /** A table of at most `max` mappings and `maxBytes` charged bytes (16 MiB if not given). */
  constructor(max: number, maxBytes = 16 << 20) {
    this.#max = max;
    this.#maxBytes = maxBytes;
  }

  /** Bytes charged for the mappings and their remembered remotes. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Records that `m` sent to `addr:port` (what its filtering lets in, RFC
   * 4787 §5). Bounded: nothing recorded when `max` remote endpoints are
   * held already (`"full"`) or the byte budget is spent (`"bytes_full"`)
   * and this one is new.
   */
  permit(m: Mapping, addr: number, port: number, max: number): "ok" | "full" | "bytes_full" {
    const key = addr + "|" + port;
    if (m.remoteEndpoints.has(key)) return "ok";
    if (m.remoteEndpoints.size >= max) return "full";
    if (this.#bytes + REMOTE_BYTES > this.#maxBytes) return "bytes_full";
    m.remoteEndpoints.add(key);
    m.remotes.add(addr);
    m.bytes += REMOTE_BYTES;
    this.#bytes += REMOTE_BYTES;
    return "ok";
  }

  /** Whether a new mapping would overrun the byte budget (after dropping an idle one). */
  get bytesFull(): boolean {
    return this.#bytes + MAPPING_BYTES > this.#maxBytes;
  }

  /** Mappings held. */
  get size(): number {
    return this.#byExternal.size;
  }

  /** The mapping of an internal endpoint towards external address `ext`. */
  byInternal(protocol: number, addr: number, port: number, ext: number): Mapping | undefined {
    return this.#byInternal.get(internalKey(protocol, addr, port, ext));
  }

  /** Whether some mapping is on external address `addr`. */
  hasExternalAddress(addr: number): boolean {
    return this.#perAddress.has(addr);
  }

  /** The mapping that owns external endpoint `addr:port`. */
  byExternal(protocol: number, addr: number, port: number): Mapping | undefined {
    return this.#byExternal.get(externalKey(protocol, addr, port));
  }

  /**
   * A new mapping for `intAddr:intPort` on `extAddr`, its port in
   * `lo..hi`; `taken(port)` says whether something else (a tracked flow)
   * holds the external port. Null when no port is free or the table is
   * full (an idle mapping is dropped first to make room).
   */
  create(
    protocol: number,
    intAddr: number,
    intPort: number,
    extAddr: number,
    lo: number,
    hi: number,
    rng: Rng,
    taken: (port: number) => boolean,
  ): Mapping | null {
    while (this.#byExternal.size >= this.#max || this.bytesFull) {
      const oldest = this.#idle.values().next();
      if (oldest.done) return null;
      this.delete(oldest.value);
    }
    const free = (p: number) =>
      !this.#byExternal.has(externalKey(protocol, extAddr, p)) && !taken(p);
    const port = pickPort(intPort, lo, hi, rng, free);
    if (port < 0) return null;
    const m = new Mapping(protocol, intAddr, intPort, extAddr, port);
    this.#byInternal.set(internalKey(protocol, intAddr, intPort, extAddr), m);
    this.#byExternal.set(externalKey(protocol, extAddr, port), m);
    this.#perAddress.set(extAddr, (this.#perAddress.get(extAddr) ?? 0) + 1);
    m.bytes = MAPPING_BYTES;
    this.#bytes += MAPPING_BYTES;
    return m;
  }

  /** A flow starts using `m`. */
  acquire(m: Mapping): void {
    m.flows++;
    this.#idle.delete(m);
  }

  /** A flow using `m` ended at `now`. */
  release(m: Mapping, now: Instant): void {
    if (m.flows > 0 && --m.flows === 0) {
      m.idleSince = now;
      this.#idle.add(m);
    }
  }

  /** Removes `m` (its flows, if any, are the caller's business). */
  delete(m: Mapping): void {
    if (this.#byExternal.get(externalKey(m.protocol, m.extAddr, m.extPort)) !== m) return;
    this.#byExternal.delete(externalKey(m.protocol, m.extAddr, m.extPort));
    this.#byInternal.delete(internalKey(m.protocol, m.intAddr, m.intPort, m.extAddr));
    this.#idle.delete(m);
    this.#bytes -= m.bytes;
    m.bytes = 0;
    const left = (this.#perAddress.get(m.extAddr) ?? 1) - 1;
    if (left === 0) this.#perAddress.delete(m.extAddr);
    else this.#perAddress.set(m.extAddr, left);
  }

  /** Drops mappings idle for `linger` µs at `now`; returns how many. */
  expire(now: Instant, linger: number): number {
    let n = 0;
    for (const m of this.#idle) {
      if (m.idleSince + linger > now) break;
      this.delete(m);
      n++;
    }
    return n;
  }

  /** When the oldest idle mapping expires with `linger`, or undefined. */
  nextExpiry(linger: number): Instant | undefined {
    const first = this.#idle.values().next();
    return first.done ? undefined : first.value.idleSince + linger;
  }

  /** Every mapping. */
  list(): Mapping[] {
    return [...this.#byExternal.values()];
  }

  /** Removes everything. */
  clear(): void {
    this.#byExternal.clear();
    this.#byInternal.clear();
    this.#idle.clear();
    this.#perAddress.clear();
    this.#bytes = 0;
  }
}

/**
 * The external port for internal port `want`, within `lo..hi`: `want`
 * itself when free; else random draws of the same parity within the same
 * class (1..1023 or 1024..65535, intersected with `lo..hi` when that
 * leaves room); else a scan from a random start. -1 when none is free.
 * Port 0 (an ICMP identifier) is kept as is when free.
 *
 * @example
 * ```ts
 * import { pickPort } from "./mappings.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 * const p = pickPort(5000, 1024, 65535, new SeededRng(3), (x) => x !== 5000);
 * assert.ok(p >= 1024 && p % 2 === 0 && p !== 5000 && p !== 5002);
 * ```
 */
export function pickPort(
  want: number,
  lo: number,
  hi: number,
  rng: Rng,
  free: (port: number) => boolean,
): number {
  if (want >= lo && want <= hi && free(want)) return want;
  // REQ-3: ports below 1024 map below 1024, the others above.
  let a = lo, b = hi;
  if (want < 1024 && lo < 1024) b = Math.min(hi, 1023);
  else if (want >= 1024 && hi >= 1024) a = Math.max(lo, 1024);
  if (a === 0) a = 1;
  const parity = want & 1;
  const first = (a & 1) === parity ? a : a + 1;
  const count = first > b ? 0 : ((b - first) >> 1) + 1;
  if (count > 0) {
    for (let i = 0; i < RANDOM_TRIES; i++) {
      const p = first + 2 * rng.range(0, count - 1);
      if (free(p)) return p;
    }
    const start = rng.range(0, count - 1);
    for (let i = 0; i < count; i++) {
      const p = first + 2 * ((start + i) % count);
      if (free(p)) return p;
    }
  }
  // No port of that parity: any port in the range.
  for (let p = a; p <= b; p++) if (free(p)) return p;
  return -1;
}
