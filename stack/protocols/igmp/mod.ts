/**
 * Internet Group Management Protocol, host side: IGMPv3 (RFC 3376) with
 * source filters for the groups the stack and its sockets listen to, and
 * the IGMPv2 (RFC 2236) and IGMPv1 (RFC 1112) compatibility modes of RFC
 * 3376 §7.2.1 while an older querier is heard.
 *
 * The stack joins 224.0.0.1 (all systems) on every interface; it is never
 * reported (RFC 3376 §5), other 224.0.0.x groups are. Holders' filters
 * merge into the interface state per RFC 3376 §3.2
 * (`stack/ip/multicast_groups.ts`). A change sends a State Change Report
 * (TO_IN/TO_EX, ALLOW/BLOCK records, §5.1) at once and `robustness` − 1
 * more times at random in (0, `unsolicitedReportInterval`]; General,
 * Group-Specific and Group-and-Source-Specific Queries are answered with
 * Current-State records at random within the Max Resp Time (§5.2, the v3
 * floating-point code decoded). An IGMPv1 or IGMPv2 query starts the Older
 * Version Querier Present timer (Robustness × Query Interval + Max Resp
 * Time, §8.12) and moves the interface to that mode: pending v3
 * transmissions are cancelled, joins send v1/v2 Reports to the group
 * (repeated, suppressed by another host's report), leaves in v2 mode send
 * a Leave to 224.0.0.2 when we were the last reporter, and queries of any
 * version are answered the older way. Every message leaves with TTL 1, DF
 * and a Router Alert option (RFC 2113), from the interface's first IPv4
 * address (0.0.0.0 before it has one), to 224.0.0.22 (v3) or the group.
 *
 * - **Binds:** `ip.protocol` 2 (IPv4 packets only).
 * - **Provides:** `igmp.groups` (`MulticastGroupsService`: newHolder,
 *   setFilter, dropHolder, join, leave, isMember, accepts, list).
 * - **Options:** `robustness` (2), `unsolicitedReportInterval` (1 s),
 *   `maxGroups` (128 per interface), `maxSources` (64),
 *   `requireRouterAlertV2` (false).
 * - **Receive checks (RFC 3376 §9.1):** a query with a TTL other than 1, a
 *   General Query sent to a multicast address other than 224.0.0.1, and a
 *   v3 query without Router Alert are ignored; a v2 query without it only
 *   with `requireRouterAlertV2` (IGMPv2 routers omit it: the IGMP_V2.pcap
 *   querier does); v1/v2 reports with a TTL other than 1 suppress nothing.
 *   The sources that Group-and-Source-Specific Queries make a host keep
 *   are bounded by `maxSources` per group (the §9.1 DoS).
 * - **Counters:** drops `rx.wrong_family`, `rx.truncated`, `rx.bad_length`,
 *   `rx.bad_checksum`, `rx.bad_group`, `rx.unknown_type`, `rx.bad_ttl`,
 *   `rx.no_router_alert`, `rx.bad_destination`; `rx.queries_v1`,
 *   `rx.queries_v2`, `rx.queries_v3`, `rx.query_not_member`, `rx.reports`,
 *   `rx.leaves`, `rx.suppressed`; `tx.reports_v3`, `tx.records`,
 *   `tx.reports_v2`, `tx.reports_v1`, `tx.leaves`, `tx.interface_down`;
 *   `mode.v1`, `mode.v2`, `mode.v3` (compatibility transitions);
 *   `groups.full`, `groups.sources_full` (refused changes).
 * - **Depends on:** `ipv4`, a link output.
 * - **Not supported:** the router side (querier, multicast routing; see
 *   the mcproxy plugin), a check that a query's or report's source is on
 *   the interface's subnet (hosts of other subnets share real links: the
 *   IGMP_V2.pcap reports come from 192.168.11.201 on 192.168.1.0/24),
 *   splitting one record's sources over several reports (`maxSources` is
 *   capped so that one fits the minimum MTU).
 * - **Receiving:** `ipv4` asks `accepts` for a multicast destination (and
 *   `isMember` for IGMP itself), so datagrams to a joined group, from an
 *   allowed source, arrive.
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x0800]-> ipv4 -[ip.protocol 2]-> igmp`
 *
 * @module
 */
export { igmpPlugin, igmpPlugin as default } from "./igmp.ts";
