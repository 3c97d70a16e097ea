/**
 * IPv6 stateless address autoconfiguration (RFC 4862) and Router Discovery
 * (RFC 4861 §6), host and router side.
 *
 * Hosts: a link-local address (fe80::/64) on every interface with a link
 * layer, its interface identifier stable and opaque per RFC 7217 (the
 * default; a 128-bit secret from the `secret` option or the stack's RNG) or
 * the modified EUI-64 of the MAC (`addressGeneration: "eui64"`), added
 * tentative (the ndp plugin runs DAD; a stable-privacy address that fails
 * is replaced with DAD_Counter + 1, up to `idgenRetries`). Once a
 * link-local address passed DAD (RFC 4862 §5.4, §5.5.1), up to three Router
 * Solicitations 4 s apart after a random delay of up to 1 s, from it; SLAAC
 * addresses from RAs heard before are held until then. A duplicate
 * link-local address with no retry left stops autoconfiguration on the
 * interface (§5.4.5).
 * Router Advertisements validated (RFC 4861 §6.1.2) and applied: default
 * routers (`ipv6.routes` `::/0`, origin `ra`, metric 1024, expiring),
 * on-link prefixes (origin `ra`, metric 256), autonomous /64 prefixes giving
 * addresses with preferred and valid lifetimes on the stack's clock (RFC
 * 4862 §5.5.3 with the two-hour rule; deprecated, then removed), the MTU
 * option and Cur Hop Limit (`ipv6.routes` `setLinkParameters`), Reachable
 * Time (at most MAX_REACHABLE_TIME, 1 h) and Retrans Timer (to the ndp
 * plugin's `NdpService.setLinkTimers`), and the router's Source Link-Layer
 * Address option (to `NdpService.learnRouterDiscovery`: a STALE entry with
 * IsRouter set, §6.3.4). Bounded: `maxRouters` and `maxPrefixes` per
 * interface.
 *
 * Routers (`advertise: "2001:db8:1::/64@eth0"`, or the service's
 * `advertise`): RAs to ff02::1 from our link-local address, hop limit 255,
 * with Prefix Information (L and A), MTU and SLLA options, every
 * MinRtrAdvInterval..MaxRtrAdvInterval (200..600 s; the first three at most
 * 16 s apart) and 0..500 ms after a Router Solicitation (at most one per
 * 3 s); ff02::2 is accepted on advertising interfaces; a solicitation's
 * Source Link-Layer Address option goes to the neighbour cache (STALE, not
 * a router, §6.2.6).
 *
 * - **Binds:** `icmpv6.message` 133 (RS), 134 (RA).
 * - **Provides:** `slaac` ({@linkcode SlaacService}).
 * - **Requires:** `ipv6.routes`; `neighbor.ipv6` (optional: the ndp
 *   plugin's {@linkcode NdpService}, for RA timers and senders' link addresses).
 * - **Options:** see {@linkcode SLAAC_OPTIONS}.
 * - **Counters:** `rx.router_advertisements`, `rx.router_solicitations`,
 *   `rx.ra_ignored`, `rx.rs_ignored`, `rx.no_link_layer`,
 *   `rx.too_many_routers`, `rx.too_many_prefixes`, `rx.prefix_link_local`,
 *   `rx.prefix_bad_lifetimes`, `rx.prefix_bad_length`,
 *   `rx.bad_prefix_option`, `rx.bad_mtu_option`, `rx.timers_unused`
 *   (no ndp plugin), `rx.bad_reachable_time` (over 1 h: ignored),
 *   `rx.route_table_full`, one per NDP validation problem (`rx.bad_hop_limit`,
 *   `rx.bad_code`, `rx.too_short`, `rx.bad_option_length`,
 *   `rx.source_not_link_local`, `rx.unspecified_source_with_lla`, …),
 *   `tx.router_solicitations`, `tx.router_advertisements`,
 *   `tx.no_link_local`, `addr.formed`, `addr.deprecated`, `addr.expired`,
 *   `addr.dad_failed`, `addr.dad_retries`, `addr.no_interface_id`,
 *   `addr.held` (formed during link-local DAD, added after it),
 *   `addr.autoconf_stopped` (not formed: the link-local is a duplicate).
 * - **Depends on:** `ipv6`, `icmpv6`; DAD and neighbour resolution are the
 *   ndp plugin's (without a `neighbor.ipv6` provider Ethernet drops what
 *   this plugin sends, and addresses stay tentative).
 * - **Not supported:** DHCPv6 (M and O flags ignored), Route Information
 *   (RFC 4191) and RDNSS (RFC 8106) options, temporary addresses (RFC
 *   8981), RA consistency checks between routers (§6.2.7, RAs are ignored
 *   on advertising interfaces), unicast solicited RAs, Network_ID in RFC
 *   7217 identifiers, prefixes other than /64 for addresses.
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x86dd]-> ipv6 -[ip.protocol 58]-> icmpv6 -[icmpv6.message 134]-> slaac`
 *
 * @module
 */
export { slaacPlugin, slaacPlugin as default } from "./slaac.ts";
export { SLAAC_OPTIONS } from "./config.ts";
export type { SlaacPrefixInfo, SlaacRouterInfo, SlaacService } from "./service.ts";
