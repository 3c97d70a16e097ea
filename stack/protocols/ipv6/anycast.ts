/**
 * The Subnet-Router anycast addresses of a router (RFC 4291 §2.6.1): for
 * each subnet prefix of an interface, the prefix with an all-zero interface
 * identifier. Required of routers only, so held while forwarding is on, as
 * Linux's addrconf joins them (`addrconf_join_anycast`): for every usable
 * address whose prefix is shorter than /127 (RFC 6164: a /127 link has no
 * such address; a /128 has no subnet) and is not `::/0`. Packets to them are
 * delivered here, never forwarded; they are never a source (RFC 4443 §2.2,
 * §4.2: replies come from a unicast address of ours).
 *
 * @module
 */
import { isUsableIpv6, type NetInterface } from "../../netif.ts";
import type { MulticastGroupsService } from "../../services.ts";
import { formatIpKey, IpAddress, type IpKey, isLinkLocalKey } from "../../wire/ip_address.ts";
import { solicitedNodeKey } from "../../wire/ipv6_scope.ts";

/** The Subnet-Router anycast address of `address`/`prefixLength`, or null when it has none. */
export function subnetRouterAnycast(address: Uint8Array, prefixLength: number): IpKey | null {
  if (prefixLength <= 0 || prefixLength >= 127) return null;
  const bytes = new Uint8Array(16);
  const whole = prefixLength >> 3;
  bytes.set(address.subarray(0, whole));
  const rest = prefixLength & 7;
  if (rest !== 0) bytes[whole] = address[whole]! & (0xff << (8 - rest));
  if (bytes.every((b) => b === 0)) return null;
  return IpAddress.v6(bytes).key;
}

/**
 * The anycast addresses of one IPv6 plugin instance, rebuilt from the
 * interfaces on every address change and forwarding switch.
 *
 * @example
 * ```ts
 * import { SubnetAnycast } from "./anycast.ts";
 * import assert from "node:assert/strict";
 * const anycast = new SubnetAnycast();
 * anycast.rebuild([], true); // no interfaces: none
 * assert.equal(anycast.size, 0);
 * ```
 */
export class SubnetAnycast {
  /** Each address and the interfaces whose prefixes make it. */
  readonly #owners = new Map<IpKey, number[]>();
  /** The solicited-node groups joined for them, as `ifindex group`. */
  readonly #joined = new Set<string>();

  /** How many anycast addresses are held. */
  get size(): number {
    return this.#owners.size;
  }

  /** The addresses held. */
  keys(): IterableIterator<IpKey> {
    return this.#owners.keys();
  }

  /**
   * Holds the anycast addresses of `interfaces`' usable addresses while
   * `forwarding`, else none; with `groups` (MLD), joins the solicited-node
   * group of each on its links and leaves those no longer wanted, as
   * Linux's `__ipv6_dev_ac_inc` does (RFC 4861 §7.2.1: a router hears
   * solicitations for them).
   */
  rebuild(
    interfaces: Iterable<NetInterface>,
    forwarding: boolean,
    groups?: MulticastGroupsService,
  ): void {
    this.#owners.clear();
    const present = new Set<number>();
    for (const iface of interfaces) present.add(iface.index);
    if (forwarding) this.#collect(interfaces);
    if (groups === undefined) return;
    const want = new Set<string>();
    for (const [key, owners] of this.#owners) {
      const group = formatIpKey(solicitedNodeKey(key));
      for (const ifindex of owners) want.add(`${ifindex} ${group}`);
    }
    for (const j of this.#joined) {
      if (want.has(j)) continue;
      this.#joined.delete(j);
      const [ifindex, group] = j.split(" ");
      // A removed interface's groups went with it.
      if (present.has(Number(ifindex))) groups.leave(Number(ifindex), group!);
    }
    for (const w of want) {
      if (this.#joined.has(w)) continue;
      const [ifindex, group] = w.split(" ");
      try {
        groups.join(Number(ifindex), group!);
        this.#joined.add(w);
      } catch {
        // The group table is full (counted and logged by MLD): frames that
        // still reach us are taken; joined at the next rebuild if room.
      }
    }
  }

  /** The anycast addresses of the usable addresses of `interfaces`. */
  #collect(interfaces: Iterable<NetInterface>): void {
    for (const iface of interfaces) {
      for (const a of iface.ipv6) {
        if (!isUsableIpv6(a)) continue;
        const key = subnetRouterAnycast(a.address, a.prefixLength);
        if (key === null) continue;
        const owners = this.#owners.get(key);
        if (owners === undefined) this.#owners.set(key, [iface.index]);
        else if (!owners.includes(iface.index)) owners.push(iface.index);
      }
    }
  }

  /**
   * Whether a packet to `dst` that arrived on `ifindex` is for one of our
   * anycast addresses: any interface's for a global one (the weak host
   * model our unicast addresses follow, as Linux), the arrival link's own
   * for a link-local one (fe80::, RFC 4007 zones).
   */
  has(dst: IpKey, ifindex: number): boolean {
    const owners = this.#owners.get(dst);
    if (owners === undefined) return false;
    return !isLinkLocalKey(dst) || owners.includes(ifindex);
  }

  /** Whether `dst` is an anycast address of a prefix of interface `ifindex`. */
  isOn(dst: IpKey, ifindex: number): boolean {
    return this.#owners.get(dst)?.includes(ifindex) ?? false;
  }

  /** An interface `dst` is an anycast address of, or -1. */
  ownerOf(dst: IpKey): number {
    return this.#owners.get(dst)?.[0] ?? -1;
  }
}
