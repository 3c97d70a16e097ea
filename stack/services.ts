/**
 * Typed contracts of the built-in services. Protocols never import each
 * other: they ask the dispatcher for a service by name and type it with an
 * interface from here (gVisor keeps its `registration.go` the same way).
 * Hot-path methods take positional arguments and say so. The contracts
 * live in one file per area, all re-exported here.
 *
 * @module
 */
export * from "./_services_link.ts";
export * from "./_services_ipv4.ts";
export * from "./_services_ipv6.ts";
export * from "./_services_route.ts";
export * from "./_services_icmp.ts";
export * from "./_services_transport.ts";
export * from "./_services_multicast.ts";
export * from "./_services_conntrack.ts";
