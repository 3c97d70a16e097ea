/**
 * A fixed IPv6 neighbour table for `replay` (what `--arp capture` is for
 * IPv4): the recorded peers cannot answer the host's Neighbor
 * Solicitations, so the MAC each IPv6 sender used in the capture is taken
 * as its link address, and multicast maps to 33:33:… (RFC 2464 §7). It
 * provides `neighbor.ipv6` only for stacks without a Neighbor Discovery
 * plugin; {@linkcode staticNeighbors6} builds it.
 *
 * @module
 */
import type { NeighborEntry, NeighborResolver, ProtocolPlugin } from "../mod.ts";
import { formatMac } from "../stack/wire/address.ts";
import { formatIpKey, type IpKey } from "../stack/wire/ip_address.ts";
import { writeIpv6MulticastMac } from "../stack/wire/ipv6_scope.ts";

/** Most neighbours the table holds (the capture's first ones win). */
export const MAX_STATIC_NEIGHBORS = 4096;

/**
 * A plugin providing `neighbor.ipv6` from a fixed table: `neighbors` maps
 * IPv6 address keys to MACs (at most {@linkcode MAX_STATIC_NEIGHBORS}); a
 * unicast next hop not in it is dropped and counted
 * (`neighbors6.tx.unresolved`), as a real cache's FAILED entry would.
 *
 * @param neighbors Address key → MAC.
 * @returns The plugin.
 *
 * @example
 * ```ts
 * import { staticNeighbors6 } from "./_static_neighbors.ts";
 * import { IpAddress } from "../stack/wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * const key = IpAddress.parse("fe80::1")!.key;
 * const p = staticNeighbors6(new Map([[key, new Uint8Array([2, 0, 0, 0, 0, 9])]]));
 * assert.deepEqual(p.manifest.provides, ["neighbor.ipv6"]);
 * ```
 */
export function staticNeighbors6(neighbors: ReadonlyMap<IpKey, Uint8Array>): ProtocolPlugin {
  const table = new Map<IpKey, Uint8Array>();
  for (const [k, mac] of neighbors) {
    if (table.size >= MAX_STATIC_NEIGHBORS) break;
    if (typeof k === "string") table.set(k, mac.slice());
  }
  return {
    manifest: {
      name: "neighbors6",
      version: "0.1.0",
      api: "^1.0.0",
      description: "IPv6 neighbours fixed from a capture (replay)",
      layer: "link",
      binds: [],
      provides: ["neighbor.ipv6"],
      counters: ["tx.unresolved"],
    },
    setup(ctx) {
      const unresolved = ctx.counter("tx.unresolved");
      const group = new Uint8Array(6);
      const resolver: NeighborResolver = {
        family: 6,
        resolve(_ifindex, nextHop, pkt) {
          if (typeof nextHop === "string" && nextHop.charCodeAt(0) >> 8 === 0xff) {
            writeIpv6MulticastMac(nextHop, group, 0);
            return group;
          }
          const mac = table.get(nextHop);
          if (mac !== undefined) return mac;
          unresolved.value++;
          pkt.release();
          return null;
        },
        onUnresolved() {},
        entries(): NeighborEntry[] {
          const name = ctx.interfaces.list()[0]?.name ?? "";
          return [...table].map(([k, mac]) => ({
            ifname: name,
            address: formatIpKey(k),
            mac: formatMac(mac),
            state: "PERMANENT",
            queued: 0,
          }));
        },
      };
      return { services: { "neighbor.ipv6": resolver } };
    },
  };
}
