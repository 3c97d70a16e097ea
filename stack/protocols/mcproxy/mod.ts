/**
 * IGMP/MLD proxy (RFC 4605): a router with one upstream interface and one
 * or more downstream interfaces, between a multicast network and LANs of
 * hosts, with no multicast routing protocol. IPv4 through IGMP always;
 * IPv6 through MLD when `mld.groups` is loaded.
 *
 * - **Downstream:** the querier of RFC 3376 §6 / RFC 3810 §7: General
 *   Queries every `queryInterval` (the first `robustness` of them a quarter
 *   of it apart, §8.6-8.7), IGMPv3 from the interface's first IPv4 address
 *   (TTL 1, Router Alert) and MLDv2 from its link-local address (hop limit
 *   1, Hop-by-Hop Router Alert; retried each second while it is
 *   tentative); the membership database per (interface, group) with filter
 *   mode, group timer and source timers, changed by the hosts' records as
 *   §6.4's tables say, which also give the Group(-and-Source)-Specific
 *   Queries sent `robustness` times `lastMemberQueryInterval` apart with
 *   the S flag of §6.6.3; IGMPv1/v2 Reports, v2 Leaves, MLDv1 Reports and
 *   Dones per RFC 3376 §7.3.2 / RFC 3810 §8.3.2 (older host present for
 *   GMI). Querier election by the lowest address (§6.6.2, §7.6.2): a query
 *   from a lower address stops our queries for the Other Querier Present
 *   Interval while we keep listening, lowering our timers on that querier's
 *   specific queries (§6.6.1). Downstream interfaces hear every multicast
 *   frame (`allMulticast`, turned off again at teardown).
 * - **Upstream:** per group, the union of the downstream memberships (RFC
 *   4605 §4.1, merged per RFC 3376 §3.2) held through `igmp.groups` /
 *   `mld.groups` `setFilter` with one holder, so the host-side plugins
 *   report it there.
 * - **Forwarding** (RFC 4605 §4.2), from a `prerouting` hook: datagrams to a
 *   group from the upstream interface go out of each downstream interface
 *   whose database forwards (source, group); from a downstream interface,
 *   upstream and to the other downstream interfaces with members. TTL / hop
 *   limit decremented, never back out of the arrival interface, not with
 *   TTL ≤ 1, never for 224.0.0.0/24, ff01::/16 or ff02::/16. The hook always
 *   accepts: the router itself may be a member too. Without this plugin the
 *   network layers forward no multicast.
 * - **Options:** `upstream` (a name), `downstream` (names, comma-separated),
 *   `robustness` (2), `queryInterval` (125 s), `queryResponseInterval`
 *   (10 s), `lastMemberQueryInterval` (1 s), `maxGroups` (256 per
 *   downstream interface and family), `maxSources` (64 per group).
 * - **Counters** (IPv4's as named; IPv6's the same behind `mld.`):
 *   `fwd.forwarded`, `fwd.ttl_exceeded`, `fwd.link_local`,
 *   `fwd.no_members`, `fwd.too_big`, `fwd.interface_down`; `rx.records`,
 *   `rx.link_local_records`, `rx.bad_record`, `rx.malformed`, `rx.queries`;
 *   `querier.lost`, `querier.resumed`; `tx.general_queries`,
 *   `tx.group_queries`, `tx.source_queries`, `tx.no_address`,
 *   `tx.interface_down`; `db.groups_full`, `db.sources_full`;
 *   `upstream.changes`, `upstream.refused`. Messages: `rx.reports_v1`,
 *   `rx.reports_v2`, `rx.reports_v3`, `rx.leaves` (IGMP); `mld.rx.reports_v1`,
 *   `mld.rx.reports_v2`, `mld.rx.done` (MLD).
 * - **Depends on:** `ipv4`, `igmp` (`igmp.groups`); `mld.groups` when there.
 * - **Not supported:** IGMPv1/v2 and MLDv1 queries towards older hosts
 *   (they read v3/v2 queries as their own), adopting another querier's QRV
 *   and QQI, fragmenting a forwarded datagram larger than the outgoing MTU
 *   (`fwd.too_big`), the forward/postrouting hooks for the copies (they go
 *   straight to the link), checking that a downstream datagram's source is
 *   on that subnet, the RFC 3376 §9 / RFC 3810 §10 checks on a message's
 *   source and TTL, forwarding what the router itself sends to a group
 *   (that leaves by one interface, as from any host).
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
