/**
 * IPv4 (RFC 791, RFC 1122 3.2.1): header validation, local delivery
 * (unicast, directed and limited broadcast, all-systems multicast), sending
 * through the routing table and ARP, and a loopback path for packets to our
 * own addresses.
 *
 * - **Binds:** `ethertype` 0x0800.
 * - **Exposes:** `ip.protocol` (keyed by the protocol number).
 * - **Provides:** `ipv4.send`, `ipv4.routes`.
 * - **Requires:** `arp.resolve` (optional: raw-IP links need none),
 *   `ethernet.send` (optional).
 * - **Hooks run:** prerouting, input, output, postrouting.
 * - **Counters:** `rx.truncated`, `rx.bad_version`, `rx.bad_header_length`,
 *   `rx.bad_total_length`, `rx.bad_checksum`, `rx.bad_source`,
 *   `rx.not_for_us`, `rx.fragment_dropped`, `rx.delivered`, `tx.packets`,
 *   `tx.no_route`, `tx.message_too_long`, `tx.broadcast_not_permitted`,
 *   `tx.loopback`, `tx.loopback_queue_full`.
 * - **Depends on:** nothing (ARP and Ethernet when present).
 * - **Not supported yet:** fragmentation and reassembly, forwarding, ICMP
 *   errors (issue #3), IP options (skipped, never interpreted), multicast
 *   groups other than 224.0.0.1 (IGMP).
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x0800]-> ipv4 -[ip.protocol 1]-> icmp`
 *
 * @module
 */
export { ipv4Plugin, ipv4Plugin as default } from "./ipv4.ts";
export { RoutingTable } from "./routes.ts";
