/**
 * `Stack`'s routing methods over both families: `addRoute`, `deleteRoute`,
 * `routes`, `routeGet` and forwarding, each picking `ipv4.routes` or
 * `ipv6.routes` and handing the family's work to `_stack_ipv4.ts` or
 * `_stack_ipv6.ts`. Private to `stack.ts`, whose methods document the
 * behaviour.
 *
 * @module
 */
import type { Dispatcher } from "./dispatcher.ts";
import type { Ipv4RoutesService, Ipv6RoutesService, RouteService } from "./services.ts";
import {
  addIpv6Route,
  deleteIpv6Route,
  ipv6RouteGet,
  ipv6RouteInfo,
  isIpv6Route,
  parseIpv6Target,
  setForwardingOf,
} from "./_stack_ipv6.ts";
import { addIpv4Route, deleteIpv4Route, ipv4RouteGet, ipv4RouteInfo } from "./_stack_ipv4.ts";
import type { AddRouteOptions, RouteGetResult, RouteInfo } from "./_stack_types.ts";
import { needService } from "./_stack_need.ts";

/** `Stack.addRoute`. */
export function addRoute(kernel: Dispatcher, destination: string, options: AddRouteOptions): void {
  if (isIpv6Route(destination, options.gateway)) {
    const routes = needService<Ipv6RoutesService>(kernel, "ipv6.routes", "add an IPv6 route");
    return addIpv6Route(routes, kernel.interfaces, destination, options);
  }
  const routes = needService<Ipv4RoutesService>(kernel, "ipv4.routes", "add a route");
  addIpv4Route(routes, kernel.interfaces, destination, options);
}

/** `Stack.deleteRoute`. */
export function deleteRoute(
  kernel: Dispatcher,
  destination: string,
  gateway: string | undefined,
): number {
  if (isIpv6Route(destination, gateway)) {
    const routes = needService<Ipv6RoutesService>(kernel, "ipv6.routes", "delete an IPv6 route");
    return deleteIpv6Route(routes, kernel.interfaces, destination, gateway);
  }
  const routes = needService<Ipv4RoutesService>(kernel, "ipv4.routes", "delete a route");
  return deleteIpv4Route(routes, destination, gateway);
}

/** `Stack.routes`. */
export function listRoutes(kernel: Dispatcher): RouteInfo[] {
  const v4 = kernel.service<Ipv4RoutesService>("ipv4.routes");
  const v6 = kernel.service<Ipv6RoutesService>("ipv6.routes");
  if (v4 === undefined && v6 === undefined) needService(kernel, "ipv4.routes", "list routes");
  const now = kernel.clock.now();
  return [
    ...(v4?.list().map((r) => ipv4RouteInfo(r, kernel.interfaces)) ?? []),
    ...(v6?.list().map((r) => ipv6RouteInfo(r, kernel.interfaces, now)) ?? []),
  ];
}

/** `Stack.routeGet`. */
export function routeGet(kernel: Dispatcher, dst: string): RouteGetResult | undefined {
  const v6 = parseIpv6Target(dst, kernel.interfaces, `Cannot look up "${dst}"`);
  if (v6 !== null) {
    const services = {
      routes: needService<Ipv6RoutesService>(kernel, "ipv6.routes", "look up an IPv6 route"),
      route: needService<RouteService>(kernel, "ipv6.route", "look up an IPv6 route"),
    };
    return ipv6RouteGet(v6, services, kernel.interfaces, kernel.clock.now());
  }
  const routes = needService<Ipv4RoutesService>(kernel, "ipv4.routes", "look up a route");
  return ipv4RouteGet(routes, kernel.interfaces, dst, kernel.clock.now());
}

/** `Stack.setForwarding`. */
export function setForwarding(kernel: Dispatcher, on: boolean, family: 4 | 6 | undefined): void {
  setForwardingOf(
    kernel.service<Ipv4RoutesService>("ipv4.routes"),
    kernel.service<Ipv6RoutesService>("ipv6.routes"),
    on,
    family,
  );
}

/** `Stack.forwarding`. */
export function isForwarding(kernel: Dispatcher): boolean {
  return kernel.service<Ipv4RoutesService>("ipv4.routes")?.isForwarding() ??
    kernel.service<Ipv6RoutesService>("ipv6.routes")?.isForwarding() ?? false;
}
