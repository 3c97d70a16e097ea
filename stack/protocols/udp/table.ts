/**
 * The UDP socket table: bind rules, demultiplexing, ephemeral ports.
 *
 * Linux semantics throughout (net/ipv4/udp.c), since that is what
 * applications are written against:
 *
 * - **Bind conflicts.** Two sockets may share a port only if their local
 *   addresses cannot both match a datagram (two different specific
 *   addresses), or if *both* set `reuseAddress` (SO_REUSEADDR). A wildcard
 *   (0.0.0.0, ::) overlaps every address of its family; a dual-stack
 *   `::` (not IPV6_V6ONLY) overlaps every IPv4 address too.
 * - **Unicast demux: the most specific socket wins.** A socket matches when
 *   its port equals the destination port and each of its local address,
 *   peer address and peer port is either unset or equal to the datagram's;
 *   each set field scores 4 (Linux `compute_score`). Among equal scores the
 *   most recently bound socket wins (Linux puts new IPv4 sockets at the head
 *   of the hash chain and keeps the first best). So a connected socket beats
 *   one bound to the specific address, which beats the wildcard. An IPv4
 *   datagram also matches a dual-stack `::` socket, one point below an
 *   IPv4 socket that matches as well (Linux scores the family).
 * - **Broadcast and multicast** go to every matching socket, where a local
 *   address matches only if it is unset or equal to the destination (a
 *   socket bound to 10.0.0.1 does not hear 10.0.0.255, as on Linux).
 * - **Ephemeral ports**: RFC 6056 §3.3.1 Algorithm 1 (random start from the
 *   stack's seeded RNG, then a linear search of the range), taking only
 *   ports no socket holds.
 *
 * Arrays of sockets per port are copy-on-write, so the receive path may
 * iterate one while a callback binds or closes sockets.
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import type { UdpError } from "../../services.ts";
import type { UdpSocketImpl } from "./socket.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { EMPTY_MAP, EMPTY_SET } from "../../_shared_empty.ts";

/** Score of each field a socket fixes (Linux `compute_score`). */
const FIELD_SCORE = 4;

/**
 * Sockets by local port.
 *
 * @example
 * ```ts
 * import { SocketTable } from "./table.ts";
 * import { UdpSocketImpl } from "./socket.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 *
 * const host = {
 *   output: () => undefined,
 *   connect: () => undefined,
 *   unbind() {},
 *   setMulticastFilter: () => undefined,
 * };
 * const table = new SocketTable(new SeededRng(1), { min: 49152, max: 65535 });
 * const any = new UdpSocketImpl(host, { queueLimit: 8, byteLimit: 8192, family: 4 });
 * const one = new UdpSocketImpl(host, { queueLimit: 8, byteLimit: 8192, family: 4 });
 * assert.equal(table.bind(any, 0, 5000, true), undefined);
 * assert.equal(table.bind(one, 0x0a000001, 5000, true), undefined);
 * assert.equal(table.lookup(0x0a000001, 5000, 0x0a000002, 1234), one);
 * assert.equal(table.lookup(0x0a000003, 5000, 0x0a000002, 1234), any);
 * ```
 */
export class SocketTable {
  /** The shared empty map and set until the first socket (an idle stack has none). */
  #ports: Map<number, readonly UdpSocketImpl[]> = EMPTY_MAP;
  #all: Set<UdpSocketImpl> = EMPTY_SET;
  readonly #rng: Rng;
  readonly #min: number;
  readonly #max: number;

  /** An empty table drawing ephemeral ports from `range` (inclusive). */
  constructor(rng: Rng, range: { readonly min: number; readonly max: number }) {
    this.#rng = rng;
    this.#min = range.min;
    this.#max = range.max;
  }

  /** Number of bound sockets. */
  get size(): number {
    return this.#all.size;
  }

  /** The bound sockets, in bind order. */
  sockets(): IterableIterator<UdpSocketImpl> {
    return this.#all.values();
  }

  /** Sockets on `port`, most recently bound first (do not mutate). */
  at(port: number): readonly UdpSocketImpl[] | undefined {
    return this.#ports.get(port);
  }

  /**
   * Binds `sock` to `address`:`port` (port 0: an ephemeral one; `address`
   * the socket's `anyKey` for any) and sets its `localKey`, `localPort` and
   * `reuseAddress`; `"addr_in_use"` on a conflict or when no ephemeral port
   * is free.
   */
  bind(sock: UdpSocketImpl, address: IpKey, port: number, reuse: boolean): UdpError | undefined {
    if (port === 0) {
      port = this.#ephemeral();
      if (port === 0) return "addr_in_use";
    } else {
      for (const other of this.#ports.get(port) ?? []) {
        const overlap = other.family === sock.family
          ? other.localKey === other.anyKey || address === sock.anyKey ||
            other.localKey === address
          : (sock.dual && other.family === 4) || (other.dual && sock.family === 4);
        if (overlap && !(reuse && other.reuseAddress)) return "addr_in_use";
      }
    }
    sock.localKey = address;
    sock.localPort = port;
    sock.reuseAddress = reuse;
    if (this.#all === EMPTY_SET) {
      this.#ports = new Map();
      this.#all = new Set();
    }
    this.#ports.set(port, [sock, ...(this.#ports.get(port) ?? [])]);
    this.#all.add(sock);
    return undefined;
  }

  /** Removes `sock` from the table (no-op if it is not there). */
  unbind(sock: UdpSocketImpl): void {
    if (!this.#all.delete(sock)) return;
    const list = this.#ports.get(sock.localPort);
    if (list === undefined) return;
    const rest = list.filter((s) => s !== sock);
    if (rest.length === 0) this.#ports.delete(sock.localPort);
    else this.#ports.set(sock.localPort, rest);
  }

  /**
   * RFC 6056 §3.3.1 Algorithm 1: `next = min + random % num`, then up to
   * `num` tries, each moving to the next port (wrapping). 0 when every port
   * of the range is held.
   */
  #ephemeral(): number {
    const num = this.#max - this.#min + 1;
    let next = this.#min + (this.#rng.nextU32() % num);
    for (let count = num; count > 0; count--) {
      if (!this.#ports.has(next)) return next;
      next = next === this.#max ? this.#min : next + 1;
    }
    return 0;
  }

  /**
   * The socket a unicast datagram from `remote`:`rport` to `local`:`lport`
   * goes to: the best score, newest first among equals. Either family:
   * the keys say which. Hot path: four positional arguments, no allocation.
   */
  lookup(local: IpKey, lport: number, remote: IpKey, rport: number): UdpSocketImpl | undefined {
    const list = this.#ports.get(lport);
    if (list === undefined) return undefined;
    const family = typeof local === "number" ? 4 : 6;
    let best: UdpSocketImpl | undefined;
    let bestScore = -1;
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      let score = 1;
      if (s.family !== family) {
        if (family !== 4 || !s.dual) continue;
        score = 0;
      }
      if (s.localKey !== s.anyKey) {
        if (s.localKey !== local) continue;
        score += FIELD_SCORE;
      }
      if (s.remoteKey !== s.anyKey) {
        if (s.remoteKey !== remote) continue;
        score += FIELD_SCORE;
      }
      if (s.remotePort !== 0) {
        if (s.remotePort !== rport) continue;
        score += FIELD_SCORE;
      }
      if (score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }
}

/**
 * Whether `s` takes a broadcast or multicast datagram from `remote`:`rport`
 * to `local` (Linux `__udp_is_mcast_sock`). Hot path: positional.
 *
 * @example
 * ```ts
 * import { matchesGroup } from "./table.ts";
 * import assert from "node:assert/strict";
 *
 * const wildcard = { family: 4, anyKey: 0, localKey: 0, remoteKey: 0, remotePort: 0 };
 * const specific = { family: 4, anyKey: 0, localKey: 0x0a000001, remoteKey: 0, remotePort: 0 };
 * assert.ok(matchesGroup(wildcard, 0x0a0000ff, 0x0a000002, 68));
 * assert.ok(!matchesGroup(specific, 0x0a0000ff, 0x0a000002, 68));
 * ```
 */
export function matchesGroup(
  s: {
    readonly family: number;
    readonly dual?: boolean;
    readonly anyKey: IpKey;
    readonly localKey: IpKey;
    readonly remoteKey: IpKey;
    readonly remotePort: number;
  },
  local: IpKey,
  remote: IpKey,
  rport: number,
): boolean {
  const family = typeof local === "number" ? 4 : 6;
  return (s.family === family || (family === 4 && s.dual === true)) &&
    (s.localKey === s.anyKey || s.localKey === local) &&
    (s.remoteKey === s.anyKey || s.remoteKey === remote) &&
    (s.remotePort === 0 || s.remotePort === rport);
}
