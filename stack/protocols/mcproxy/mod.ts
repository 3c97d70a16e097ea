/**
 * IGMP proxy (RFC 4605), IPv4: a router with one upstream interface and one
 * or more downstream interfaces, between a multicast network and LANs of
 * hosts, with no multicast routing protocol.
 *
 * - **Downstream:** the querier of RFC 3376 §6: General Queries every
 *   `queryInterval` (the first `robustness` of them a quarter of it apart,
 *   §8.6-8.7), IGMPv3 from the interface's first address, TTL 1, Router
 *   Alert; the membership database per (interface, group) with filter mode,
 *   group timer and source timers, changed by IGMPv3 records as §6.4's tables
 *   say, which also give the Group-Specific and Group-and-Source-Specific
 *   Queries sent `robustness` times `lastMemberQueryInterval` apart with the
 *   S flag of §6.6.3; v1/v2 Reports and v2 Leaves per §7.3.2 (older host
 *   present for GMI). Querier election by the lowest address (§6.6.2): a
 *   query from a lower address makes it stop querying for the Other Querier
 *   Present Interval, while it keeps listening and lowers its timers on the
 *   querier's specific queries (§6.6.1).
 * - **Upstream:** the union of the downstream memberships per group (RFC
 *   4605 §4.1, merged per RFC 3376 §3.2) held through `igmp.groups`
 *   `setFilter` with one holder, so the host-side `igmp` plugin reports it.
 * - **Forwarding** (RFC 4605 §4.2), from a `prerouting` hook: datagrams to a
 *   group from the upstream interface go out of each downstream interface
 *   whose database forwards (source, group); from a downstream interface,
 *   upstream and to the other downstream interfaces with members. TTL
 *   decremented, never back out of the arrival interface, not with TTL ≤ 1,
 *   never for 224.0.0.0/24. The hook always accepts: the router itself may
 *   be a member too. Without this plugin IPv4 forwards no multicast.
 * - **Options:** `upstream` (a name), `downstream` (names, comma-separated),
 *   `robustness` (2), `queryInterval` (125 s), `queryResponseInterval`
 *   (10 s), `lastMemberQueryInterval` (1 s), `maxGroups` (256 per
 *   downstream interface), `maxSources` (64 per group).
 * - **Counters:** `fwd.forwarded`, `fwd.ttl_exceeded`, `fwd.link_local`,
 *   `fwd.no_members`, `fwd.too_big`, `fwd.interface_down`; `rx.reports_v1`,
 *   `rx.reports_v2`, `rx.reports_v3`, `rx.leaves`, `rx.records`,
 *   `rx.bad_record`, `rx.queries`, `rx.malformed`; `querier.lost`,
 *   `querier.resumed`; `tx.general_queries`, `tx.group_queries`,
 *   `tx.source_queries`, `tx.no_address`, `tx.interface_down`;
 *   `db.groups_full`, `db.sources_full`; `upstream.changes`,
 *   `upstream.refused`.
 * - **Depends on:** `ipv4`, `igmp` (`igmp.groups`).
 * - **Not supported:** MLD (IPv6) until `mld.groups` implements the
 *   multicast contract; IGMPv1/v2 queries towards older hosts (they read v3
 *   queries as v2 ones), adopting another querier's QRV and QQI, fragmenting
 *   a forwarded datagram larger than the outgoing MTU (`fwd.too_big`), the
 *   forward/postrouting hooks for the copies (they go straight to the link),
 *   checking that a downstream datagram's source is on that subnet.
 *
 * Graph: `lan0 -> ethernet -[ethertype 0x0800]-> ipv4 -[prerouting]-> mcproxy -> up0, lan1…`
 *
 * @module
 */
export { mcproxyPlugin, mcproxyPlugin as default } from "./mcproxy.ts";
export { RouterMembership } from "./router_groups.ts";
export type {
  RouterGroup,
  RouterMembershipOptions,
  RouterRefusal,
  RouterTimers,
  SpecificQuery,
} from "./router_groups.ts";
