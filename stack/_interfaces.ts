/**
 * Interface lifecycle for the dispatcher: adding an interface (every check
 * before anything changes, then the driver's port), its addresses, IPv6
 * address states and link state, each change published as an event for the
 * plugins. Private to `dispatcher.ts`; none of it is on the packet path
 * except the port's `receive`, which calls straight into the dispatcher.
 *
 * @module
 */
import type { Clock } from "./clock.ts";
import type { DriverPort } from "./driver.ts";
import type { InterfaceOptions } from "./dispatcher_options.ts";
import type { StackEvent } from "./manifest.ts";
import {
  type AddressOptions,
  type InterfaceTable,
  type Ipv6AddressState,
  NetInterface,
} from "./netif.ts";
import type { PacketBuffer } from "./packet.ts";
import type { PacketPool } from "./packet_pool.ts";
import { checkHostCidr, checkMac, checkMtu } from "./validate.ts";
import { formatIpv4Address, formatIpv6Address } from "./wire/address.ts";

/** What interface changes need of the dispatcher (it is one). */
export interface InterfaceHost {
  readonly interfaces: InterfaceTable;
  readonly pool: PacketPool;
  readonly clock: Clock;
  receive(ifindex: number, pkt: PacketBuffer): void;
  beginBatch(): void;
  endBatch(): void;
  publish(event: StackEvent): void;
}

/**
 * Adds an interface on `options.driver` and attaches the driver; then its
 * addresses. Nothing is registered when a check or the driver's `attach`
 * throws.
 *
 * @throws {TypeError} A taken name, a bad address, MTU or MAC.
 * @throws {RangeError} An address, MTU or MAC out of range, or no index left
 * (`InterfaceTable.nextIndex`: indexes are never reused).
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import { VirtualNetwork } from "../drivers/loopback/mod.ts";
 * import assert from "node:assert/strict";
 * const link = new VirtualNetwork({ seed: 1 }).link();
 * const stack = createStack({ seed: 1 });
 * // stack.addInterface comes here.
 * const iface = stack.addInterface({ name: "eth0", driver: link.a, addresses: ["10.0.0.1/24"] });
 * assert.equal(iface.ipv4.length, 1);
 * assert.throws(() => stack.addInterface({ name: "eth0", driver: link.b }), TypeError);
 * stack.close();
 * ```
 */
export function addInterface(host: InterfaceHost, options: InterfaceOptions): NetInterface {
  const index = host.interfaces.nextIndex();
  const prefix = options.driver.linkType === 1 ? "eth" : "tun";
  const name = options.name ?? `${prefix}${index}`;
  // Every check before anything changes: a bad name, address or driver
  // leaves no half-added interface behind.
  if (host.interfaces.byName(name) !== undefined) {
    throw new TypeError(`Cannot add interface "${name}": the name is taken`);
  }
  for (const a of options.addresses ?? []) checkHostCidr(a, `Cannot add interface "${name}"`);
  if (options.mtu !== undefined) checkMtu(options.mtu, `Cannot add interface "${name}"`);
  if (options.mac !== undefined) checkMac(options.mac, `Cannot add interface "${name}"`);
  const iface = new NetInterface(index, name, options.driver, {
    ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
    ...(options.mac !== undefined ? { mac: options.mac } : {}),
  });
  const port: DriverPort = {
    receive: (pkt) => host.receive(index, pkt),
    beginBatch: () => host.beginBatch(),
    endBatch: () => host.endBatch(),
    pool: host.pool,
    now: () => host.clock.now(),
    ifindex: index,
    partialChecksum: true, // the receive path completes it where bytes are read (ipv4.ts)
  };
  options.driver.attach(port); // may throw: nothing is registered yet
  host.interfaces.add(iface);
  host.publish({ type: "interface-added", iface });
  for (const a of options.addresses ?? []) addAddress(host, iface.name, a);
  return iface;
}

/**
 * Takes an interface out of the stack, as Linux's `unregister_netdevice`
 * (`ip link del`): the link goes down first (`link-changed`, Linux's
 * NETDEV_DOWN: neighbours and masquerade entries flushed, nothing more is
 * sent), then each address is removed (`address-removed`, as
 * {@linkcode removeAddress}), then the interface leaves the table and
 * `interface-removed` tells every plugin to forget it (routes via it, path
 * MTUs, groups, SLAAC and proxy state), then its driver is closed. Frames
 * its port still delivers are dropped (`dispatcher.rx.no_interface`). Its
 * index is never given to another interface while the stack runs.
 *
 * @throws {TypeError} No such interface (also when removed already).
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import { VirtualNetwork } from "../drivers/loopback/mod.ts";
 * import assert from "node:assert/strict";
 * const link = new VirtualNetwork({ seed: 1 }).link();
 * const stack = createStack({ seed: 1 });
 * stack.addInterface({ name: "eth0", driver: link.a, addresses: ["10.0.0.1/24"] });
 * stack.removeInterface("eth0"); // comes here
 * assert.equal(stack.interfaces.byName("eth0"), undefined);
 * assert.equal(link.a.closed, true);
 * assert.throws(() => stack.removeInterface("eth0"), TypeError);
 * stack.close();
 * ```
 */
export function removeInterface(host: InterfaceHost, ifname: string | number): void {
  const iface = findInterface(host.interfaces, ifname);
  // Linux closes the device before unregistering it (dev_close_many, then
  // NETDEV_UNREGISTER): down first, so that nothing the removals below
  // trigger (an MLD Done, a gratuitous anything) leaves on the link.
  setLinkUp(host, iface.index, false);
  // Last first: a primary IPv4 address goes after its secondaries, so no
  // secondary is promoted only to be removed next.
  for (let i = iface.ipv6.length - 1; i >= 0; i--) {
    const a = iface.ipv6[i]!;
    removeAddress(host, iface.index, `${formatIpv6Address(a.address)}/${a.prefixLength}`);
  }
  for (let i = iface.ipv4.length - 1; i >= 0; i--) {
    const a = iface.ipv4[i]!;
    removeAddress(host, iface.index, `${formatIpv4Address(a.address)}/${a.prefixLength}`);
  }
  // Unlisted before the event, as Linux's unlist_netdevice: a plugin that
  // rebuilds from the table no longer finds it.
  host.interfaces.remove(iface);
  host.publish({ type: "interface-removed", iface });
  iface.driver.close();
}

/** The interface named `name` or with index `name`. @throws {TypeError} When there is none. */
function findInterface(interfaces: InterfaceTable, name: string | number): NetInterface {
  const iface = typeof name === "number" ? interfaces.get(name) : interfaces.byName(name);
  if (!iface) throw new TypeError(`Cannot find interface "${name}"`);
  return iface;
}

/**
 * Assigns an address in CIDR form (`"10.0.0.2/24"`, `"fd00::2/64"`) to an
 * interface; false when it was already there.
 *
 * @throws {TypeError} No such interface, or not a host address in CIDR form.
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import { VirtualNetwork } from "../drivers/loopback/mod.ts";
 * import assert from "node:assert/strict";
 * const link = new VirtualNetwork({ seed: 1 }).link();
 * const stack = createStack({ seed: 1 });
 * stack.addInterface({ name: "eth0", driver: link.a });
 * stack.addAddress("eth0", "10.0.0.1/24"); // comes here
 * assert.equal(stack.interfaces.byName("eth0")!.ipv4.length, 1);
 * stack.close();
 * ```
 */
export function addAddress(
  host: InterfaceHost,
  ifname: string | number,
  cidr: string,
  options?: AddressOptions,
): boolean {
  const iface = findInterface(host.interfaces, ifname);
  checkHostCidr(cidr, `Cannot add address to "${iface.name}"`);
  const added = iface.addAddress(cidr, options);
  if (added !== null) host.publish({ type: "address-added", iface, ...added });
  return added !== null;
}

/**
 * Removes an address given in CIDR form or bare; false when it was not there.
 *
 * @throws {TypeError} No such interface.
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import { VirtualNetwork } from "../drivers/loopback/mod.ts";
 * import assert from "node:assert/strict";
 * const link = new VirtualNetwork({ seed: 1 }).link();
 * const stack = createStack({ seed: 1 });
 * stack.addInterface({ name: "eth0", driver: link.a, addresses: ["10.0.0.1/24"] });
 * stack.removeAddress("eth0", "10.0.0.1"); // comes here
 * assert.equal(stack.interfaces.byName("eth0")!.ipv4.length, 0);
 * stack.close();
 * ```
 */
export function removeAddress(host: InterfaceHost, ifname: string | number, cidr: string): boolean {
  const iface = findInterface(host.interfaces, ifname);
  const removed = iface.removeAddress(cidr);
  if (removed !== null) host.publish({ type: "address-removed", iface, ...removed });
  return removed !== null;
}

/**
 * Sets an IPv6 address's state (DAD, deprecation); false when absent or unchanged.
 *
 * @throws {TypeError} No such interface.
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import { kernelOf } from "./stack.ts";
 * import { VirtualNetwork } from "../drivers/loopback/mod.ts";
 * import assert from "node:assert/strict";
 * const link = new VirtualNetwork({ seed: 1 }).link();
 * const stack = createStack({ seed: 1 });
 * stack.addInterface({ name: "eth0", driver: link.a });
 * // No such address: nothing changes.
 * assert.equal(kernelOf(stack).setAddressState("eth0", new Uint8Array(16), "deprecated"), false);
 * stack.close();
 * ```
 */
export function setAddressState(
  host: InterfaceHost,
  ifname: string | number,
  address: Uint8Array,
  state: Ipv6AddressState,
): boolean {
  const iface = findInterface(host.interfaces, ifname);
  const changed = iface.setIpv6State(address, state);
  if (changed !== null) {
    host.publish({
      type: "address-changed",
      iface,
      family: 6,
      address: changed.address,
      prefixLength: changed.prefixLength,
      state,
    });
  }
  return changed !== null;
}

/**
 * Brings an interface up or down (an event only on a change).
 *
 * @throws {TypeError} No such interface.
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import { VirtualNetwork } from "../drivers/loopback/mod.ts";
 * import assert from "node:assert/strict";
 * const link = new VirtualNetwork({ seed: 1 }).link();
 * const stack = createStack({ seed: 1 });
 * stack.addInterface({ name: "eth0", driver: link.a });
 * stack.setLinkUp("eth0", false); // comes here
 * assert.equal(stack.interfaces.byName("eth0")!.up, false);
 * stack.close();
 * ```
 */
export function setLinkUp(host: InterfaceHost, ifname: string | number, up: boolean): void {
  const iface = findInterface(host.interfaces, ifname);
  if (iface.up === up) return;
  iface.up = up;
  host.publish({ type: "link-changed", iface });
}
