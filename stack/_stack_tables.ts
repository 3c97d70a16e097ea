/**
 * `Stack`'s views of plugin tables: neighbours (`ip neigh`), tracked
 * connections (`conntrack -L`) and multicast groups (`ip maddr`). Private
 * to `stack.ts`, whose methods document the behaviour.
 *
 * @module
 */
import type { Dispatcher } from "./dispatcher.ts";
import type {
  MulticastGroupRow,
  MulticastGroupsService,
  NeighborEntry,
  NeighborResolver,
} from "./services.ts";
import { neighborServiceName } from "./services.ts";
import { CONNTRACK_SERVICE, type ConntrackRow, type ConntrackService } from "./services.ts";
import { needService } from "./_stack_need.ts";

/** `Stack.neighbors`. */
export function listNeighbors(kernel: Dispatcher): NeighborEntry[] {
  const rows: NeighborEntry[] = [];
  for (const family of [4, 6] as const) {
    const resolver = kernel.service<NeighborResolver>(neighborServiceName(family));
    if (resolver !== undefined) rows.push(...resolver.entries());
  }
  return rows;
}

/** `Stack.conntrack`. */
export function listConntrack(kernel: Dispatcher): ConntrackRow[] {
  return needService<ConntrackService>(kernel, CONNTRACK_SERVICE, "list tracked connections")
    .list();
}

/** `Stack.multicastGroups`. */
export function listMulticastGroups(kernel: Dispatcher): MulticastGroupRow[] {
  const rows: MulticastGroupRow[] = [];
  for (const name of ["igmp.groups", "mld.groups"]) {
    const groups = kernel.service<MulticastGroupsService>(name);
    if (groups !== undefined) rows.push(...groups.list());
  }
  return rows;
}
