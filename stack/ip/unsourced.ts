/**
 * Why the network layer gave no source address for a destination, in the
 * transports' words: a route exists but no address is usable as its source
 * (every candidate still tentative while Duplicate Address Detection runs):
 * `addr_not_available`, Linux's EADDRNOTAVAIL from `sendto` and `connect`;
 * otherwise `no_route` (ENETUNREACH). Asked only after a send failed.
 *
 * @module
 */
import type { RouteService } from "../_services_route.ts";
import { IpAddress, type IpKey } from "../wire/ip_address.ts";

/**
 * The failure code for a send to `dst` (zone `scope` when ≥ 0) whose
 * `selectSource` came back unspecified.
 *
 * @param net The destination family's route service.
 * @param dst The destination.
 * @param scope The destination's zone (an interface index), or negative.
 * @returns `addr_not_available` when `dst` has a route, else `no_route`.
 *
 * @example
 * ```ts
 * import { unsourcedReason } from "./unsourced.ts";
 * import type { RouteService } from "../_services_route.ts";
 * import { IpAddress } from "../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * const net = { route: () => "addr_not_available" } as unknown as RouteService;
 * assert.equal(unsourcedReason(net, IpAddress.parse("fd00::2")!.key, -1), "addr_not_available");
 * ```
 */
export function unsourcedReason(
  net: RouteService,
  dst: IpKey,
  scope: number,
): "no_route" | "addr_not_available" {
  const r = net.route(IpAddress.fromKey(dst), scope >= 0 ? { scope } : undefined);
  return r === "addr_not_available" ? r : "no_route";
}
