/**
 * Multicast Listener Discovery, host side: MLDv2 (RFC 3810) for the groups
 * the stack listens to, with MLDv1 compatibility (RFC 2710, RFC 3810 §8)
 * while an MLDv1 querier is heard.
 *
 * The stack joins all-nodes (ff02::1, never reported, RFC 3810 §6) and the
 * solicited-node group of every IPv6 address in any state but duplicate
 * (tentative included: RFC 4862 §5.4.2 joins before DAD's NS). Joining or
 * leaving sends a State Change Report (CHANGE_TO_EXCLUDE / CHANGE_TO_INCLUDE
 * records, no sources) at once and `robustness` − 1 more times at random
 * in (0, `unsolicitedReportInterval`] (§6.1); General and
 * Multicast-Address-Specific Queries are answered with MODE_IS_EXCLUDE
 * records at random within the Maximum Response Delay (§6.2). Every message
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
 * - **Provides:** `mld.groups` (`MldGroupsService`: join, leave, isMember, list).
 * - **Options:** `robustness` (2), `unsolicitedReportInterval` (1 s),
 *   `maxGroups` (128 per interface).
 * - **Counters:** drops `rx.truncated`, `rx.bad_length`, `rx.bad_source`,
 *   `rx.bad_hop_limit`, `rx.no_router_alert`, `rx.bad_group`; `rx.queries_v1`,
 *   `rx.queries_v2`, `rx.query_not_member`, `rx.reports_v1`, `rx.reports_v2`,
 *   `rx.done`, `rx.suppressed`; `tx.reports_v2`, `tx.records`,
 *   `tx.reports_v1`, `tx.done`, `tx.interface_down`; `groups.full`.
 * - **Depends on:** `icmpv6` (and `ipv6`), a link output.
 * - **Not supported:** source filters (every group is EXCLUDE {}: a
 *   source-specific query is answered as a group one, as Linux does),
 *   the router side (querier), the RFC 4862 §5.4.2 random delay before the
 *   first report.
 * - **Receiving:** `ipv6` asks `isMember` for a multicast destination that
 *   is not all-nodes or a solicited-node group of ours, so datagrams and
 *   Multicast-Address-Specific Queries sent to a joined group arrive.
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x86dd]-> ipv6 -[ip.protocol 58]-> icmpv6 -[icmpv6.message 130]-> mld`
 *
 * @module
 */
export { mldPlugin, mldPlugin as default } from "./mld.ts";
