/**
 * Network interfaces: name, index, link type, MTU, MAC, up/down, addresses in
 * CIDR form, and statistics. The dispatcher owns the table; plugins read it
 * and learn of changes through events.
 *
 * @module
 */
import type { LinkDriver } from "./driver.ts";

/** An IPv4 address assigned to an interface. */
export interface Ipv4IfAddress {
  /** The address, unsigned 32-bit. */
  readonly address: number;
  /** Prefix length, 0..32. */
  readonly prefixLength: number;
}

/** An IPv6 address assigned to an interface. */
export interface Ipv6IfAddress {
  /** The address, 16 bytes. */
  readonly address: Uint8Array;
  /** Prefix length, 0..128. */
  readonly prefixLength: number;
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
  /** Its MAC address (Ethernet), or null. */
  readonly mac: Uint8Array | null;
  /** Administrative state. */
  up = true;
  /** Accept unicast frames for other MACs (promiscuous mode). */
  promiscuous = false;
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
    this.mac = options.mac ?? driver.mac ?? null;
  }

  /** Whether `addr` (unsigned 32-bit) is one of this interface's IPv4 addresses. */
  hasIpv4(addr: number): boolean {
    for (const a of this.ipv4) if (a.address === addr) return true;
    return false;
  }

  /** Whether `addr` is one of this interface's IPv6 addresses. */
  hasIpv6(addr: Uint8Array): boolean {
    outer: for (const a of this.ipv6) {
      for (let i = 0; i < 16; i++) if (a.address[i] !== addr[i]) continue outer;
      return true;
    }
    return false;
  }
}

/** The interfaces of one stack, by index and by name. */
export class InterfaceTable {
  readonly #byIndex: (NetInterface | undefined)[] = [];
  readonly #byName = new Map<string, NetInterface>();

  /** All interfaces in index order. */
  list(): NetInterface[] {
    return this.#byIndex.filter((i): i is NetInterface => i !== undefined);
  }
  /** The interface with `index`, if any. */
  get(index: number): NetInterface | undefined {
    return this.#byIndex[index];
  }
  /** The interface called `name`, if any. */
  byName(name: string): NetInterface | undefined {
    return this.#byName.get(name);
  }
  /** The interface holding IPv4 address `addr`, if any. */
  withIpv4(addr: number): NetInterface | undefined {
    for (const i of this.#byIndex) if (i?.hasIpv4(addr)) return i;
    return undefined;
  }
  /** The interface holding IPv6 address `addr`, if any. */
  withIpv6(addr: Uint8Array): NetInterface | undefined {
    for (const i of this.#byIndex) if (i?.hasIpv6(addr)) return i;
    return undefined;
  }
  /** The next free index. */
  nextIndex(): number {
    return this.#byIndex.length;
  }
  /** @internal */
  add(iface: NetInterface): void {
    if (this.#byName.has(iface.name)) {
      throw new TypeError(`Cannot add interface "${iface.name}": the name is taken`);
    }
    this.#byIndex[iface.index] = iface;
    this.#byName.set(iface.name, iface);
  }
  /** @internal */
  remove(iface: NetInterface): void {
    this.#byIndex[iface.index] = undefined;
    this.#byName.delete(iface.name);
  }
}
