/**
 * `cli.ts up --join GROUP`: the stack joins multicast groups on its
 * interface (IGMP for IPv4, MLD for IPv6), so services bound to the
 * wildcard address (the `echo` service) answer datagrams sent to them.
 *
 * @module
 */
import type { Stack } from "../mod.ts";
import type { MulticastGroupsService } from "../stack/services.ts";
import { IpAddress } from "../stack/wire/ip_address.ts";
import { UsageError } from "./_common.ts";

/**
 * Checks `--join` values: IPv4 or IPv6 multicast addresses, canonical form
 * returned in order, duplicates refused.
 *
 * @throws {UsageError} For a value that is not a multicast address, or one given twice.
 *
 * @example
 * ```ts
 * import { checkJoins } from "./_join.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(checkJoins(["239.1.2.3", "FF05::1:3"]), ["239.1.2.3", "ff05::1:3"]);
 * assert.throws(() => checkJoins(["10.0.0.1"]));
 * ```
 */
export function checkJoins(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const a = IpAddress.parse(v);
    if (a === null || !a.isMulticast()) {
      throw new UsageError(`--join ${v} is not a multicast group (224.0.0.0/4 or ff00::/8)`);
    }
    const text = a.toString();
    if (out.includes(text)) throw new UsageError(`--join ${v} is given twice`);
    out.push(text);
  }
  return out;
}

/**
 * Joins every group of `groups` on interface `ifname` of `stack`, through
 * `igmp.groups` or `mld.groups`; returns one `joined …` line per group.
 *
 * @throws {Error} When the family's group table is not loaded, or refuses the group.
 *
 * @example
 * ```ts
 * import { joinGroups } from "./_join.ts";
 * import { createStack, VirtualNetwork } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * const stack = createStack({ clock: net.clock, seed: 1 });
 * stack.addInterface({ driver: net.link().a, name: "eth0", addresses: ["10.0.0.2/24"] });
 * assert.deepEqual(joinGroups(stack, "eth0", ["239.1.2.3"]), ["joined 239.1.2.3 on eth0"]);
 * stack.close();
 * ```
 */
export function joinGroups(stack: Stack, ifname: string, groups: readonly string[]): string[] {
  const iface = stack.interfaces.byName(ifname);
  if (iface === undefined) throw new Error(`Cannot join groups: no interface ${ifname}`);
  return groups.map((g) => {
    const family = IpAddress.parse(g)!.family;
    const name = family === 4 ? "igmp.groups" : "mld.groups";
    const service = stack.service<MulticastGroupsService>(name);
    if (typeof service?.join !== "function") {
      throw new Error(`Cannot join ${g}: no loaded plugin provides "${name}"`);
    }
    service.join(iface.index, g);
    return `joined ${g} on ${ifname}`;
  });
}
