/**
 * A UDP socket's multicast memberships: its own RFC 3678 filter per
 * (interface, group), kept beside the interface-wide state that the
 * `igmp.groups` / `mld.groups` tables merge from every holder. The
 * interface state decides what the IP layer accepts; the socket's filter
 * decides what this socket is given (Linux `ip_mc_sf_allow`).
 *
 * @module
 */
import type { MulticastFilter } from "../../services.ts";
import type { IpKey } from "../../wire/ip_address.ts";

/**
 * Most groups one socket may join, as Linux's `igmp_max_memberships`.
 *
 * @example
 * ```ts
 * import { MAX_SOCKET_MEMBERSHIPS } from "./multicast.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MAX_SOCKET_MEMBERSHIPS, 20);
 * ```
 */
export const MAX_SOCKET_MEMBERSHIPS = 20;
/**
 * Most sources in one socket filter, as Linux's `igmp_max_msf` (10 there;
 * 64 here so that source-specific tests can list a few dozen).
 *
 * @example
 * ```ts
 * import { MAX_SOCKET_FILTER_SOURCES } from "./multicast.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MAX_SOCKET_FILTER_SOURCES, 64);
 * ```
 */
export const MAX_SOCKET_FILTER_SOURCES = 64;

/** One membership of a socket (internal). */
export interface SocketMembership {
  /** Interface index. */
  readonly ifindex: number;
  /** The group's key. */
  readonly group: IpKey;
  /** The filter as given, sources in text form. */
  readonly filter: MulticastFilter;
  /** The filter's sources as keys. */
  readonly sources: ReadonlySet<IpKey>;
}

/**
 * A socket's memberships, bounded by {@linkcode MAX_SOCKET_MEMBERSHIPS}.
 *
 * @example
 * ```ts
 * import { SocketMemberships } from "./multicast.ts";
 * import assert from "node:assert/strict";
 * const m = new SocketMemberships();
 * const g = 0xef010203; // 239.1.2.3
 * m.set(1, g, { mode: "include", sources: ["10.0.0.9"] }, [0x0a000009]);
 * assert.ok(m.allows(1, g, 0x0a000009));
 * assert.ok(!m.allows(1, g, 0x0a000008));
 * assert.ok(m.allows(2, g, 0x0a000008)); // no membership there: IP_MULTICAST_ALL
 * ```
 */
export class SocketMemberships {
  readonly #byKey = new Map<string, SocketMembership>();

  /** Number of memberships. */
  get size(): number {
    return this.#byKey.size;
  }

  /** The membership of (`ifindex`, `group`), if any. */
  get(ifindex: number, group: IpKey): SocketMembership | undefined {
    return this.#byKey.get(`${ifindex} ${group}`);
  }

  /** Records a filter; `include` with no sources removes the membership. */
  set(ifindex: number, group: IpKey, filter: MulticastFilter, sources: readonly IpKey[]): void {
    const key = `${ifindex} ${group}`;
    if (filter.mode === "include" && sources.length === 0) {
      this.#byKey.delete(key);
      return;
    }
    this.#byKey.set(key, {
      ifindex,
      group,
      filter: { mode: filter.mode, sources: [...filter.sources] },
      sources: new Set(sources),
    });
  }

  /**
   * Whether a datagram from `source` to `group` arriving on `ifindex` is
   * for this socket: by its filter when it joined the group there, else yes
   * (Linux's default IP_MULTICAST_ALL: a socket hears every group some
   * socket of the host joined). Hot path: positional.
   */
  allows(ifindex: number, group: IpKey, source: IpKey): boolean {
    if (this.#byKey.size === 0) return true;
    const m = this.#byKey.get(`${ifindex} ${group}`);
    if (m === undefined) return true;
    return m.filter.mode === "include" ? m.sources.has(source) : !m.sources.has(source);
  }

  /** Every membership, in join order. */
  list(): SocketMembership[] {
    return [...this.#byKey.values()];
  }

  /** Forgets every membership. */
  clear(): void {
    this.#byKey.clear();
  }
}
