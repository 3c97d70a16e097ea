/**
 * Network interfaces: name, index, link type, MTU, MAC, up/down, addresses in
 * CIDR form, and statistics. The dispatcher owns the table; plugins read it
 * and learn of changes through events.
 *
 * @module
 */
import type { Instant } from "./clock.ts";
import type { LinkDriver } from "./driver.ts";
import {
  formatIpv4Address,
  formatIpv6Address,
  ipv6Equal,
  parseIpv4Cidr,
  parseIpv6Cidr,
} from "./wire/address.ts";
import { checkInteger } from "./validate.ts";

/** An address change, as the stack's `address-added`/`address-removed` events carry it. */
export interface AddressChange {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The address in text form. */
  readonly address: string;
  /** Its prefix length. */
  readonly prefixLength: number;
}

/** An IPv4 address assigned to an interface. */
export interface Ipv4IfAddress {
  /** The address, unsigned 32-bit. */
  readonly address: number;
  /** Prefix length, 0..32. */
  readonly prefixLength: number;
}

/**
 * Where an IPv6 address stands (RFC 4862 §2, §5.4, §5.5.4): only
 * `preferred` and `deprecated` addresses are the host's (used as sources,
 * accepted as destinations); a `tentative` one waits for Duplicate Address
 * Detection, a `duplicate` one failed it and is never used.
 */
export type Ipv6AddressState = "tentative" | "preferred" | "deprecated" | "duplicate";

/** Who configured an address: the user, link-local generation, or SLAAC. */
export type AddressOrigin = "static" | "link-local" | "autoconf";

/** How an address is added (IPv6 only; IPv4 addresses ignore these). */
export interface AddressOptions {
  /** Its state when added (default `"preferred"`; DAD plugins add `"tentative"`). */
  readonly state?: Ipv6AddressState;
  /** Who configured it (default `"static"`). */
  readonly origin?: AddressOrigin;
  /** When it stops being valid, on the stack's clock (default Infinity: never). */
  readonly validUntil?: Instant;
  /** When it becomes deprecated, on the stack's clock (default Infinity: never). */
  readonly preferredUntil?: Instant;
}

/** An IPv6 address assigned to an interface. */
export interface Ipv6IfAddress {
  /** The address, 16 bytes. */
  readonly address: Uint8Array;
  /** Prefix length, 0..128. */
  readonly prefixLength: number;
  /** Its state; change it with the stack's `setAddressState`, which tells the plugins. */
  readonly state: Ipv6AddressState;
  /** Who configured it. */
  readonly origin: AddressOrigin;
  /** When it stops being valid, on the stack's clock; Infinity: never. The plugin that configured it keeps this. */
  validUntil: Instant;
  /** When it becomes deprecated, on the stack's clock; Infinity: never. */
  preferredUntil: Instant;
}

/**
 * Whether an IPv6 address is the host's: DAD done and not failed.
 *
 * @example
 * ```ts
 * import { isUsableIpv6, type Ipv6IfAddress } from "./netif.ts";
 * import assert from "node:assert/strict";
 * const a: Ipv6IfAddress = {
 *   address: new Uint8Array(16), prefixLength: 64, state: "tentative", origin: "static",
 *   validUntil: Infinity, preferredUntil: Infinity,
 * };
 * assert.equal(isUsableIpv6(a), false);
 * assert.equal(isUsableIpv6({ ...a, state: "deprecated" }), true);
 * ```
 */
export function isUsableIpv6(a: Ipv6IfAddress): boolean {
  return a.state === "preferred" || a.state === "deprecated";
}

/** Per-interface traffic statistics. */
export interface InterfaceStats {
  /** Frames received. */
  rxPackets: number;
  /** Bytes received. */
  rxBytes: number;
  /** Frames sent. */
  txPackets: number;
  /** Bytes sent. */
  txBytes: number;
  /** Frames dropped on the way out (interface down). */
  txDropped: number;
  /** Frames dropped on the way in (interface down). */
  rxDropped: number;
}

/** One interface of a stack. */
export class NetInterface {
  /** Small integer, unique in the stack. */
  readonly index: number;
  /** Name, e.g. `eth0`, `tun0`. */
  readonly name: string;
  /** pcap link type of its frames. */
  readonly linkType: number;
  /** The driver carrying its frames. */
  readonly driver: LinkDriver;
  /** Largest IP packet it carries. */
  mtu: number;
  /** Largest TCP super-segment its driver segments itself (`LinkDriver.tsoMaxSize`), or 0. */
  readonly tsoMaxSize: number;
  /** Largest UDP super-datagram its driver segments itself (`LinkDriver.usoMaxSize`), or 0. */
  readonly usoMaxSize: number;
  /** Its driver takes TCP segments with a partial checksum (`LinkDriver.partialChecksum`). */
  readonly partialChecksum: boolean;
  /** Its MAC address (Ethernet), or null. */
  readonly mac: Uint8Array | null;
  /** Administrative state. */
  up = true;
  /** Accept unicast frames for other MACs (promiscuous mode). */
  promiscuous = false;
  /**
   * Accept every multicast frame (Linux's IFF_ALLMULTI: routers, proxies,
   * snooping switches), whatever {@linkcode linkMulticast} holds.
   */
  allMulticast = false;
  /**
   * The families whose mapped multicast MACs the link filters through
   * {@linkcode linkMulticast}: bit 1 IPv4 (01:00:5e, RFC 1112 §6.4), bit 2
   * IPv6 (33:33, RFC 2464 §7). The group table of a family (IGMP, MLD)
   * sets its bit; without it that range passes unfiltered. Other multicast
   * MACs are never filtered.
   */
  multicastFilter = 0;
  /**
   * The link-layer multicast addresses accepted (Linux's dev_mc list),
   * reference-counted, keyed by the 48-bit MAC as a number; see
   * {@linkcode NetInterface.addLinkMulticast}.
   */
  readonly linkMulticast: Map<number, number> = new Map();
  /** Assigned IPv4 addresses. */
  readonly ipv4: Ipv4IfAddress[] = [];
  /** Assigned IPv6 addresses. */
  readonly ipv6: Ipv6IfAddress[] = [];
  /** Counters. */
  readonly stats: InterfaceStats = {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    txDropped: 0,
    rxDropped: 0,
  };

  /** Created by the stack's `addInterface`. */
  constructor(
    index: number,
    name: string,
    driver: LinkDriver,
    options: { mtu?: number; mac?: Uint8Array | null },
  ) {
    this.index = index;
    this.name = name;
    this.driver = driver;
    this.linkType = driver.linkType;
    this.mtu = options.mtu ?? driver.mtu;
    this.tsoMaxSize = driver.tsoMaxSize ?? 0;
    this.usoMaxSize = driver.usoMaxSize ?? 0;
    this.partialChecksum = driver.partialChecksum === true;
    this.mac = options.mac ?? driver.mac ?? null;
  }

  /** Whether `addr` (unsigned 32-bit) is one of this interface's IPv4 addresses. */
  hasIpv4(addr: number): boolean {
    for (const a of this.ipv4) if (a.address === addr) return true;
    return false;
  }

  /**
   * Adds an address in CIDR form; null when it was already there. Use the
   * stack's `addAddress`, which also tells the plugins.
   *
   * @throws {TypeError} When `cidr` does not parse.
   */
  addAddress(cidr: string, options: AddressOptions = {}): AddressChange | null {
    const v4 = parseIpv4Cidr(cidr);
    if (v4) {
      if (this.hasIpv4(v4.address)) return null;
      this.ipv4.push({ address: v4.address, prefixLength: v4.prefixLength });
      return { family: 4, address: formatIpv4Address(v4.address), prefixLength: v4.prefixLength };
    }
    const v6 = parseIpv6Cidr(cidr);
    if (v6) {
      if (this.hasIpv6(v6.address)) return null;
      this.ipv6.push({
        address: v6.address,
        prefixLength: v6.prefixLength,
        state: options.state ?? "preferred",
        origin: options.origin ?? "static",
        validUntil: options.validUntil ?? Infinity,
        preferredUntil: options.preferredUntil ?? Infinity,
      });
      return { family: 6, address: formatIpv6Address(v6.address), prefixLength: v6.prefixLength };
    }
    throw new TypeError(`Cannot parse address "${cidr}": expected CIDR such as 10.0.0.2/24`);
  }

  /**
   * Removes an address given in CIDR form or bare; null when it was not
   * there. Use the stack's `removeAddress`, which also tells the plugins.
   *
   * @throws {TypeError} When `cidr` does not parse.
   */
  removeAddress(cidr: string): AddressChange | null {
    const bare = cidr.includes("/") ? cidr : `${cidr}/${cidr.includes(":") ? 128 : 32}`;
    const v4 = parseIpv4Cidr(bare);
    if (v4) {
      const i = this.ipv4.findIndex((a) => a.address === v4.address);
      if (i < 0) return null;
      const [a] = this.ipv4.splice(i, 1);
      return { family: 4, address: formatIpv4Address(a!.address), prefixLength: a!.prefixLength };
    }
    const v6 = parseIpv6Cidr(bare);
    if (!v6) throw new TypeError(`Cannot parse address "${cidr}"`);
    const i = this.ipv6.findIndex((a) => ipv6Equal(a.address, v6.address));
    if (i < 0) return null;
    const [a] = this.ipv6.splice(i, 1);
    return { family: 6, address: formatIpv6Address(a!.address), prefixLength: a!.prefixLength };
  }

  /**
   * Adds a reference to multicast MAC `mac` (a 48-bit number); true when
   * the link did not accept it before.
   *
   * @example
   * ```ts
   * import { NetInterface } from "./netif.ts";
   * import assert from "node:assert/strict";
   * const i = new NetInterface(1, "eth0", { linkType: 1, mtu: 1500 } as never, {});
   * assert.equal(i.addLinkMulticast(0x01005e010203), true);
   * assert.equal(i.addLinkMulticast(0x01005e010203), false);
   * assert.equal(i.removeLinkMulticast(0x01005e010203), false);
   * assert.equal(i.removeLinkMulticast(0x01005e010203), true);
   * ```
   */
  addLinkMulticast(mac: number): boolean {
    const n = this.linkMulticast.get(mac) ?? 0;
    this.linkMulticast.set(mac, n + 1);
    return n === 0;
  }

  /** Drops a reference to multicast MAC `mac`; true when the link stops accepting it. */
  removeLinkMulticast(mac: number): boolean {
    const n = this.linkMulticast.get(mac) ?? 0;
    if (n <= 1) {
      this.linkMulticast.delete(mac);
      return n === 1;
    }
    this.linkMulticast.set(mac, n - 1);
    return false;
  }

  /** Whether `addr` is one of this interface's IPv6 addresses (in any state). */
  hasIpv6(addr: Uint8Array): boolean {
    return this.ipv6Address(addr) !== undefined;
  }

  /** The entry of IPv6 address `addr` on this interface (in any state), if any. */
  ipv6Address(addr: Uint8Array): Ipv6IfAddress | undefined {
    outer: for (const a of this.ipv6) {
      for (let i = 0; i < 16; i++) if (a.address[i] !== addr[i]) continue outer;
      return a;
    }
    return undefined;
  }

  /**
   * Sets the state of IPv6 address `addr`; the change, or null when the
   * address is not here or already in that state. Use the stack's
   * `setAddressState`, which also tells the plugins.
   */
  setIpv6State(addr: Uint8Array, state: Ipv6AddressState): AddressChange | null {
    const a = this.ipv6Address(addr);
    if (a === undefined || a.state === state) return null;
    (a as { state: Ipv6AddressState }).state = state;
    return { family: 6, address: formatIpv6Address(a.address), prefixLength: a.prefixLength };
  }
}

/**
 * The highest interface index: Linux's (an `int`, and ten decimal digits in
 * a zone such as `fe80::1%2147483647`).
 */
export const MAX_INTERFACE_INDEX = 0x7fffffff;

/** Slots of the table's lookup cache (a power of two). */
const RECENT_SLOTS = 16;

/**
 * Checks that `ifindex` is a whole number naming an interface of
 * `interfaces` (never a removed one: indexes are not reused).
 *
 * @returns The interface.
 * @throws {TypeError} When it is not a whole number.
 * @throws {RangeError} When it is negative, above
 * {@linkcode MAX_INTERFACE_INDEX}, or names no interface.
 *
 * @example
 * ```ts
 * import { checkInterfaceIndex, InterfaceTable } from "./netif.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => checkInterfaceIndex(new InterfaceTable(), 0, "Cannot x"), RangeError);
 * assert.throws(() => checkInterfaceIndex(new InterfaceTable(), 0.5, "Cannot x"), TypeError);
 * ```
 */
export function checkInterfaceIndex(
  interfaces: InterfaceTable,
  ifindex: unknown,
  action: string,
): NetInterface {
  const iface = interfaces.get(checkInteger(ifindex, 0, MAX_INTERFACE_INDEX, action, "ifindex"));
  if (iface === undefined) throw new RangeError(`${action}: no interface ${ifindex}`);
  return iface;
}

/**
 * The interfaces of one stack, by index and by name.
 *
 * Indexes count up from 0 and are never reused: a socket, route, timer or
 * fragment queue still naming a removed interface's index can never reach
 * an interface added later. Both lookups are Maps, so a table that has seen
 * any number of interfaces come and go holds only the present ones. Linux
 * counts up too but starts over past its last index (`dev_new_index`);
 * here {@linkcode nextIndex} throws instead, after more than two billion
 * interfaces: at one added and removed every 50 µs (four times the pace of
 * the churn test, 65,535 in 13 s here), after 29 hours.
 *
 * @example
 * ```ts
 * import { InterfaceTable } from "./netif.ts";
 * import assert from "node:assert/strict";
 * const table = new InterfaceTable();
 * assert.equal(table.nextIndex(), 0);
 * assert.equal(table.get(0), undefined);
 * ```
 */
export class InterfaceTable {
  readonly #byIndex = new Map<number, NetInterface>();
  readonly #byName = new Map<string, NetInterface>();
  // The per-packet lookups go here first: direct-mapped by the index's low
  // bits, an array load and a compare where the Map needs a hash.
  readonly #recent: (NetInterface | undefined)[] = new Array(RECENT_SLOTS).fill(undefined);
  readonly #maxIndex: number;
  #next = 0;

  /**
   * An empty table.
   *
   * @param maxIndex The last index it hands out (default
   * {@linkcode MAX_INTERFACE_INDEX}; tests exhaust a small one).
   * @throws {TypeError} When `maxIndex` is not a whole number.
   * @throws {RangeError} When it is not in 0..{@linkcode MAX_INTERFACE_INDEX}.
   */
  constructor(maxIndex: number = MAX_INTERFACE_INDEX) {
    const action = "Cannot create interface table";
    this.#maxIndex = checkInteger(maxIndex, 0, MAX_INTERFACE_INDEX, action, "maxIndex");
  }

  /** All interfaces in index order. */
  list(): NetInterface[] {
    return [...this.#byIndex.values()]; // added in index order, and indexes only grow
  }
  /** The interface with `index`, if any. Hot path. */
  get(index: number): NetInterface | undefined {
    const slot = index & (RECENT_SLOTS - 1);
    const recent = this.#recent[slot];
    if (recent !== undefined && recent.index === index) return recent;
    const iface = this.#byIndex.get(index);
    if (iface !== undefined) this.#recent[slot] = iface;
    return iface;
  }
  /** The interface called `name`, if any. */
  byName(name: string): NetInterface | undefined {
    return this.#byName.get(name);
  }
  /** The interface holding IPv4 address `addr`, if any. */
  withIpv4(addr: number): NetInterface | undefined {
    for (const i of this.#byIndex.values()) if (i.hasIpv4(addr)) return i;
    return undefined;
  }
  /** The interface holding IPv6 address `addr`, if any. */
  withIpv6(addr: Uint8Array): NetInterface | undefined {
    for (const i of this.#byIndex.values()) if (i.hasIpv6(addr)) return i;
    return undefined;
  }
  /**
   * The index the next interface gets: one above the last one added (a
   * failed add uses none).
   *
   * @throws {RangeError} When every index up to the table's last was used.
   */
  nextIndex(): number {
    if (this.#next > this.#maxIndex) {
      throw new RangeError(
        `Cannot add interface: every index up to ${this.#maxIndex} was used (indexes are not reused)`,
      );
    }
    return this.#next;
  }
  /** @internal */
  add(iface: NetInterface): void {
    if (this.#byName.has(iface.name)) {
      throw new TypeError(`Cannot add interface "${iface.name}": the name is taken`);
    }
    // Never an index given before (or beyond the last): what keeps them unique.
    if (!(iface.index >= this.nextIndex() && iface.index <= this.#maxIndex)) {
      throw new RangeError(
        `Cannot add interface "${iface.name}": index ${iface.index} is not a free one`,
      );
    }
    this.#byIndex.set(iface.index, iface);
    this.#byName.set(iface.name, iface);
    this.#next = iface.index + 1;
  }
  /** @internal */
  remove(iface: NetInterface): void {
    if (this.#byIndex.get(iface.index) !== iface) return;
    this.#byIndex.delete(iface.index);
    const slot = iface.index & (RECENT_SLOTS - 1);
    if (this.#recent[slot] === iface) this.#recent[slot] = undefined;
    this.#byName.delete(iface.name);
  }
}
