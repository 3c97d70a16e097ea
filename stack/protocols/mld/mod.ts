/**
 * Multicast Listener Discovery, host side: MLDv2 (RFC 3810) for the groups
 * the stack listens to, with MLDv1 compatibility (RFC 2710, RFC 3810 §8)
 * while an MLDv1 querier is heard.
 *
 * The stack joins all-nodes (ff02::1, never reported, RFC 3810 §6) and the
 * solicited-node group of every IPv6 address in any state but duplicate
 * (tentative included: RFC 4862 §5.4.2 joins before DAD's NS). Holders'
 * source filters merge into the interface state per RFC 3810 §4.2 in the
 * shared group table (`stack/ip/multicast_groups.ts`, the same as IGMP's). A
 * change sends a State Change Report (TO_IN/TO_EX, ALLOW/BLOCK records,
 * §6.1) at once and `robustness` − 1 more times at random in (0,
 * `unsolicitedReportInterval`]; General, Multicast-Address-Specific and
 * Multicast-Address-and-Source-Specific Queries are answered with
 * Current-State records at random within the Maximum Response Delay (§6.2). Every message
 * leaves from the interface's usable link-local address (`::` while there
 * is none, §5.2.13) with hop limit 1 and a Hop-by-Hop Router Alert (RFC
 * 2711), to ff02::16 (MLDv1: Reports to the group, Done to ff02::2).
 * Messages are written here and handed to the interface's link
 * (`ctx.linkOutput`), so `ipv6` hooks do not see them (as Linux's, they are
 * link-local control traffic; on Ethernet the `neighbor.ipv6` resolver maps
 * the multicast MAC).
 *
 * - **Binds:** `icmpv6.message` 130 (Query), 131 (MLDv1 Report), 132
 *   (Done), 143 (Version 2 Report).
 * - **Provides:** `mld.groups` (`MulticastGroupsService`: newHolder,
 *   setFilter, dropHolder, join, leave, isMember, accepts, list).
 * - **Options:** `robustness` (2), `unsolicitedReportInterval` (1 s),
 *   `maxGroups` (128 per interface), `maxSources` (64).
 * - **Receive checks (RFC 3810 §5.1.14, §6.2; RFC 2710 §3):** queries
 *   and MLDv1 Reports (which could silence ours) from a source that is not
 *   link-local (`::` included), with a hop limit other than 1, or without
 *   a Hop-by-Hop Router Alert are dropped, each reason counted; the first
 *   query dropped for its source is logged. Queries are taken whatever
 *   their destination address of ours (§5.1.15).
 * - **Counters:** drops `rx.truncated`, `rx.bad_length`, `rx.bad_source`,
 *   `rx.bad_hop_limit`, `rx.no_router_alert`, `rx.bad_group`; `rx.queries_v1`,
 *   `rx.queries_v2`, `rx.query_not_member`, `rx.reports_v1`, `rx.reports_v2`,
 *   `rx.done`, `rx.suppressed`; `tx.reports_v2`, `tx.records`,
 *   `tx.reports_v1`, `tx.done`, `tx.interface_down`; `mode.v1`, `mode.v2`
 *   (compatibility transitions); `groups.full`, `groups.sources_full`.
 * - **Depends on:** `icmpv6` (and `ipv6`), a link output.
 * - **Not supported:** the router side (querier), the RFC 4862 §5.4.2
 *   random delay before the first report, splitting one record's sources
 *   over several reports (`maxSources` is capped so that one fits 1280).
 * - **Receiving:** `ipv6` asks `accepts` (with the source) for a multicast
 *   destination that is not all-nodes or a solicited-node group of ours,
 *   and `isMember` for packets with a Hop-by-Hop header (MLD), so
 *   datagrams from allowed sources and queries sent to a joined group arrive.
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x86dd]-> ipv6 -[ip.protocol 58]-> icmpv6 -[icmpv6.message 130]-> mld`
 *
 * @module
 */
export { mldPlugin, mldPlugin as default } from "./mld.ts";
