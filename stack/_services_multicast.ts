/**
 * Contracts for multicast reception (issue #11): the per-interface group
 * tables that IGMP keeps for IPv4 (`igmp.groups`) and MLD for IPv6
 * (`mld.groups`), both of this one shape. A socket (or any other user)
 * holds a reception filter per group and interface, RFC 3678 style; the
 * table merges the holders' filters into the interface's state per
 * RFC 3376 §3.2 / RFC 3810 §4.2, which is what the reports advertise and
 * what the IP layer accepts.
 *
 * @module
 */
import type { IpKey } from "./wire/ip_address.ts";

/**
 * A filter mode (RFC 3376 §2, RFC 3810 §2): receive only from the listed
 * sources (`"include"`), or from all but them (`"exclude"`).
 */
export type MulticastFilterMode = "include" | "exclude";

/**
 * One holder's reception filter for a group on one interface. `exclude`
 * with no sources is an any-source join; `include` with no sources is no
 * membership at all (the holder leaves).
 *
 * @example
 * ```ts
 * import type { MulticastFilter } from "./services.ts";
 * const anySource: MulticastFilter = { mode: "exclude", sources: [] };
 * const oneSource: MulticastFilter = { mode: "include", sources: ["10.0.0.9"] };
 * console.log(anySource.mode, oneSource.sources.length);
 * ```
 */
export interface MulticastFilter {
  /** Whether `sources` are the only ones heard or the ones not heard. */
  readonly mode: MulticastFilterMode;
  /** Source addresses, text form, of the group's family. */
  readonly sources: readonly string[];
}

/** One group on one interface, as `ip maddr` shows it; see {@linkcode MulticastGroupsService.list}. */
export interface MulticastGroupRow {
  /** 4 (IGMP) or 6 (MLD). */
  readonly family: 4 | 6;
  /** Interface index. */
  readonly ifindex: number;
  /** Interface name. */
  readonly ifname: string;
  /** The group, text form (`239.1.2.3`, `ff02::fb`). */
  readonly group: string;
  /** The interface's merged filter mode (RFC 3376 §3.2). */
  readonly mode: MulticastFilterMode;
  /** The interface's merged source list, text form, sorted. */
  readonly sources: readonly string[];
  /** How many holders (sockets, stack-internal joins) hold the group here. */
  readonly users: number;
  /** Whether reports advertise it (not 224.0.0.1, ff02::1 or node-local scope). */
  readonly reported: boolean;
}

/**
 * `igmp.groups` (IPv4) and `mld.groups` (IPv6): which multicast groups
 * each interface listens to, and from which sources. Changes send the
 * State Change Reports of the interface's protocol version; queries are
 * answered from this state. Argument checks follow stack/validate.ts:
 * TypeError for a wrong type or an address of the other family, RangeError
 * for no such interface, a non-multicast group, a holder below 1, or a full
 * table (groups per interface, or sources per filter and per merged state;
 * nothing changes then). Both are implemented over one table
 * (`stack/ip/multicast_groups.ts`, `stack/ip/multicast_service.ts`); the
 * interfaces' link multicast lists follow the groups listened to.
 *
 * @example
 * ```ts
 * import type { MulticastGroupsService } from "./services.ts";
 * // A socket (holder 7) hears 239.1.2.3 on interface 1 from one source only.
 * function listenToOneSource(groups: MulticastGroupsService): boolean {
 *   return groups.setFilter(1, "239.1.2.3", 7, { mode: "include", sources: ["10.0.0.9"] });
 * }
 * console.log(typeof listenToOneSource);
 * ```
 */
export interface MulticastGroupsService {
  /**
   * A fresh holder id for {@linkcode MulticastGroupsService.setFilter}
   * (one per socket; never reused within the stack's life).
   */
  newHolder(): number;
  /**
   * Sets `holder`'s filter for `group` on `ifindex` (RFC 3678's
   * setsourcefilter); `include` with no sources removes the holder. Returns
   * true when the interface's merged state changed (a State Change Report
   * is then scheduled).
   */
  setFilter(ifindex: number, group: string, holder: number, filter: MulticastFilter): boolean;
  /** Drops every filter `holder` has (a socket closing); true when any interface state changed. */
  dropHolder(holder: number): boolean;
  /**
   * An any-source join held by the stack itself (all `join`s of a group
   * together are one holder, apart from the `newHolder` ones),
   * reference-counted; true when the interface was not listening before.
   */
  join(ifindex: number, group: string): boolean;
  /** Drops one {@linkcode MulticastGroupsService.join}; true when the interface stopped listening. */
  leave(ifindex: number, group: string): boolean;
  /** Whether `ifindex` listens to `group` (a key) from any source. Hot path: positional. */
  isMember(ifindex: number, group: IpKey): boolean;
  /** Whether `ifindex`'s merged filter for `group` lets `source` in. Hot path: positional. */
  accepts(ifindex: number, group: IpKey, source: IpKey): boolean;
  /** Every group of every interface, by interface then join order. */
  list(): MulticastGroupRow[];
}
