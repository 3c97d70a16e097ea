/**
 * Multicast group memberships of a {@linkcode DatagramConn}, shaped like
 * Deno's `MulticastV4Membership` / `MulticastV6Membership` (`leave`,
 * `setLoopback`, `setTTL`), plus RFC 3678's source filters: source-specific
 * joins (`addSource`, `dropSource`), blocking sources of an any-source
 * join (`block`, `unblock`), and `setFilter` for the whole filter.
 *
 * @module
 */
import { MAX_INTERFACE_INDEX } from "../netif.ts";
import type { MulticastFilter, UdpSocket } from "../services.ts";
import { IpAddress } from "../wire/ip_address.ts";
import { checkInteger, closedError, socketErrorToException } from "./errors.ts";

/**
 * Options of `DatagramConn.joinMulticastV4` / `joinMulticastV6`.
 *
 * @example
 * ```ts
 * import type { MulticastJoinOptions } from "./multicast.ts";
 * import assert from "node:assert/strict";
 * const ssm: MulticastJoinOptions = { sources: ["10.0.0.9"] }; // only from 10.0.0.9
 * assert.equal(ssm.sources?.length, 1);
 * ```
 */
export interface MulticastJoinOptions {
  /**
   * Hear the group only from these sources (a source-specific join, RFC
   * 3678 `IP_ADD_SOURCE_MEMBERSHIP`; RFC 4607). Default: any source.
   */
  readonly sources?: readonly string[];
}

/** The group's text (canonical) and family, or a TypeError/RangeError. */
export function checkGroup(address: unknown, family: 4 | 6, action: string): IpAddress {
  if (typeof address !== "string") {
    throw new TypeError(`${action}: the group must be a string, got ${typeof address}`);
  }
  const a = IpAddress.parse(address);
  if (a === null || a.family !== family) {
    throw new TypeError(`${action}: "${address}" is not an IPv${family} address`);
  }
  if (!a.isMulticast()) {
    throw new RangeError(`${action}: ${address} is not a multicast address`);
  }
  return a;
}

/** Canonical source texts of `family`, or a TypeError. */
function checkSources(sources: unknown, family: 4 | 6, action: string): string[] {
  if (!Array.isArray(sources)) throw new TypeError(`${action}: sources must be an array`);
  return sources.map((s) => {
    const a = typeof s === "string" ? IpAddress.parse(s) : null;
    if (a === null || a.family !== family || a.isMulticast() || a.isUnspecified()) {
      throw new TypeError(`${action}: source "${String(s)}" is not a unicast IPv${family} address`);
    }
    return a.toString();
  });
}

/**
 * One group joined on one interface by one socket. Loopback and TTL are the
 * socket's (as in Deno, where the membership sets IP_MULTICAST_LOOP and
 * IP_MULTICAST_TTL); the filter is this membership's. Closing the socket
 * drops it.
 *
 * @example
 * ```ts
 * import { createStack } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * const conn = stack.listenDatagram({ transport: "udp", port: 5000 });
 * // No interface holds an IPv4 address here: the join has nowhere to go.
 * await assert.rejects(conn.joinMulticastV4("239.1.2.3", "0.0.0.0"));
 * conn.close();
 * stack.close();
 * ```
 */
export class MulticastMembership {
  /** The group, canonical text. */
  readonly group: string;
  /** Index of the interface the group was joined on. */
  readonly ifindex: number;
  readonly #sock: UdpSocket;
  readonly #address: IpAddress;
  #filter: MulticastFilter;
  #left = false;
  /** The socket's error once closed (the user's close or the stack's), if its owner says. */
  readonly #gone: ((action: string) => Error | undefined) | undefined;

  /** @internal Made by `DatagramConn.joinMulticastV4` / `joinMulticastV6`. */
  constructor(
    sock: UdpSocket,
    group: IpAddress,
    ifindex: number,
    filter: MulticastFilter,
    gone?: (action: string) => Error | undefined,
  ) {
    this.#sock = sock;
    this.#gone = gone;
    this.#address = group;
    this.group = group.toString();
    this.ifindex = ifindex;
    this.#filter = filter;
  }

  /** The membership's filter: `exclude` (any source but these) or `include` (only these). */
  get filter(): MulticastFilter {
    return { mode: this.#filter.mode, sources: [...this.#filter.sources] };
  }

  /** Whether the membership still holds (not left, socket open). */
  get active(): boolean {
    return !this.#left && !this.#sock.closed;
  }

  #check(action: string): void {
    if (this.#left) throw closedError(action);
    if (this.#sock.closed) throw this.#gone?.(action) ?? closedError(action);
  }

  #apply(filter: MulticastFilter, action: string): void {
    const err = this.#sock.setMulticastFilter(this.ifindex, this.#address, filter);
    if (err !== undefined) throw socketErrorToException(err, action);
    this.#filter = { mode: filter.mode, sources: [...filter.sources] };
    if (filter.mode === "include" && filter.sources.length === 0) this.#left = true;
  }

  /** Runs `fn`, turning a throw into a rejection. */
  #async(fn: () => void): Promise<void> {
    try {
      fn();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Leaves the group (IP_DROP_MEMBERSHIP); the interface reports when the last holder goes. */
  leave(): Promise<void> {
    return this.#async(() => {
      const action = `Cannot leave ${this.group}`;
      this.#check(action);
      this.#apply({ mode: "include", sources: [] }, action);
    });
  }

  /** IP_MULTICAST_LOOP of the socket: whether its datagrams to groups reach this host's members. */
  setLoopback(loopback: boolean): Promise<void> {
    return this.#async(() => {
      const action = "Cannot set multicast loopback";
      this.#check(action);
      if (typeof loopback !== "boolean") {
        throw new TypeError(`${action}: loopback must be a boolean, got ${typeof loopback}`);
      }
      this.#sock.multicastLoop = loopback;
    });
  }

  /** IP_MULTICAST_TTL (IPV6_MULTICAST_HOPS) of the socket, 0..255 (Linux allows 0: host-local). */
  setTTL(ttl: number): Promise<void> {
    return this.#async(() => {
      const action = "Cannot set multicast TTL";
      this.#check(action);
      this.#sock.multicastTtl = checkInteger(ttl, "TTL", action, 0, 255);
    });
  }

  /**
   * Replaces the whole filter (RFC 3678 `setsourcefilter`); `include` with
   * no sources leaves.
   */
  setFilter(filter: MulticastFilter): Promise<void> {
    return this.#async(() => {
      const action = `Cannot set the source filter of ${this.group}`;
      this.#check(action);
      if (filter?.mode !== "include" && filter?.mode !== "exclude") {
        throw new TypeError(`${action}: mode must be "include" or "exclude"`);
      }
      const sources = checkSources(filter.sources, this.#address.family, action);
      this.#apply({ mode: filter.mode, sources: [...new Set(sources)] }, action);
    });
  }

  /** IP_BLOCK_SOURCE: stop hearing `source` (an any-source membership only). */
  block(source: string): Promise<void> {
    return this.#edit(source, "exclude", true, `Cannot block ${source} in ${this.group}`);
  }

  /** IP_UNBLOCK_SOURCE: hear `source` again. */
  unblock(source: string): Promise<void> {
    return this.#edit(source, "exclude", false, `Cannot unblock ${source} in ${this.group}`);
  }

  /** IP_ADD_SOURCE_MEMBERSHIP: also hear `source` (a source-specific membership only). */
  addSource(source: string): Promise<void> {
    return this.#edit(source, "include", true, `Cannot add source ${source} to ${this.group}`);
  }

  /** IP_DROP_SOURCE_MEMBERSHIP: stop hearing `source`; dropping the last one leaves. */
  dropSource(source: string): Promise<void> {
    return this.#edit(source, "include", false, `Cannot drop source ${source} of ${this.group}`);
  }

  #edit(source: string, mode: "include" | "exclude", add: boolean, action: string) {
    return this.#async(() => {
      this.#check(action);
      const [text] = checkSources([source], this.#address.family, action);
      if (this.#filter.mode !== mode) {
        // RFC 3678 §4.1.3 / Linux: EINVAL (Deno: a TypeError).
        throw new TypeError(
          `${action}: the membership is ${
            this.#filter.mode === "include" ? "source-specific" : "any-source"
          }`,
        );
      }
      const has = this.#filter.sources.includes(text!);
      if (add === has) {
        if (add) return; // already there: nothing changes (Linux returns 0)
        throw new Deno.errors.AddrNotAvailable(`${action}: it is not in the filter`);
      }
      const sources = add
        ? [...this.#filter.sources, text!]
        : this.#filter.sources.filter((s) => s !== text);
      this.#apply({ mode, sources }, action);
    });
  }
}

/**
 * What joins need to know of the stack's interfaces (`Stack` gives them).
 *
 * @example
 * ```ts
 * import type { MulticastInterfaces } from "./multicast.ts";
 * import assert from "node:assert/strict";
 * const one: MulticastInterfaces = {
 *   ipv4Owner: (a) => a.toString() === "10.0.0.1" ? 1 : undefined,
 *   exists: (i) => i === 1,
 * };
 * assert.equal(one.exists(1), true);
 * ```
 */
export interface MulticastInterfaces {
  /** Index of the interface holding IPv4 address `address`, if any. */
  ipv4Owner(address: IpAddress): number | undefined;
  /** Whether interface `index` exists. */
  exists(index: number): boolean;
  /**
   * Name of interface `index` (`eth0`), if it exists: the zone
   * `DatagramConn` shows on link-local peers (without it, the index).
   */
  nameOf?(index: number): string | undefined;
}

/**
 * The interface index of `networkInterface` for IPv4 (the address of one of
 * the stack's interfaces; "0.0.0.0": 0, the route's choice) or IPv6 (an
 * index; 0: the route's choice).
 */
export function resolveInterface(
  family: 4 | 6,
  networkInterface: unknown,
  interfaces: MulticastInterfaces | undefined,
  action: string,
): number {
  if (family === 6) {
    const index = checkInteger(networkInterface, "interface index", action, 0, MAX_INTERFACE_INDEX);
    if (index !== 0 && interfaces !== undefined && !interfaces.exists(index)) {
      throw new Deno.errors.NotFound(`${action}: no interface has index ${index}`);
    }
    return index;
  }
  if (typeof networkInterface !== "string") {
    throw new TypeError(`${action}: the interface must be an IPv4 address string`);
  }
  const a = IpAddress.parse(networkInterface);
  if (a === null || a.family !== 4) {
    throw new TypeError(`${action}: "${networkInterface}" is not an IPv4 address`);
  }
  if (a.isUnspecified()) return 0;
  const index = interfaces?.ipv4Owner(a);
  if (index === undefined) {
    throw new Deno.errors.AddrNotAvailable(
      `${action}: ${networkInterface} is not the address of an interface of this host`,
    );
  }
  return index;
}

/**
 * Joins `address` on `networkInterface` for `sock` (Deno's
 * `joinMulticastV4`/`joinMulticastV6`, with RFC 3678 source-specific joins).
 *
 * @throws {TypeError} For a group, interface or source of the wrong form.
 * @throws {RangeError} For a group that is not multicast, or a full table.
 * @throws {Deno.errors.AddrInUse} When the socket already joined the group there.
 */
export function joinGroup(
  sock: UdpSocket,
  family: 4 | 6,
  address: unknown,
  networkInterface: unknown,
  options: MulticastJoinOptions,
  interfaces: MulticastInterfaces | undefined,
  gone?: (action: string) => Error | undefined,
): MulticastMembership {
  const action = `Cannot join ${String(address)}`;
  if (sock.closed) throw closedError(action);
  const group = checkGroup(address, family, action);
  const ifindex = resolveInterface(family, networkInterface, interfaces, action);
  const sources = options.sources === undefined
    ? []
    : [...new Set(checkSources(options.sources, family, action))];
  if (options.sources !== undefined && sources.length === 0) {
    throw new RangeError(`${action}: a source-specific join needs at least one source`);
  }
  const joined = sock.multicastFilters().filter((m) => m.group.key === group.key);
  if (joined.some((m) => ifindex === 0 || m.ifindex === ifindex)) {
    throw new Deno.errors.AddrInUse(`${action}: this socket already joined it there`);
  }
  const filter: MulticastFilter = sources.length > 0
    ? { mode: "include", sources }
    : { mode: "exclude", sources: [] };
  const err = sock.setMulticastFilter(ifindex, group, filter);
  if (err !== undefined) throw socketErrorToException(err, action);
  const made = sock.multicastFilters().find((m) =>
    m.group.key === group.key && !joined.some((j) => j.ifindex === m.ifindex)
  );
  return new MulticastMembership(sock, group, made?.ifindex ?? ifindex, filter, gone);
}
