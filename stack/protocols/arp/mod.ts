/**
 * ARP (RFC 826) for IPv4 over Ethernet, with a neighbour cache in the states
 * INCOMPLETE, REACHABLE, STALE, FAILED (and PERMANENT for static entries).
 *
 * - **Binds:** `ethertype` 0x0806.
 * - **Provides:** `arp.resolve` (send an IPv4 packet to a next hop, resolving it;
 *   `onUnresolved` tells IPv4 which packets died with a failed resolution, so a
 *   router can answer host unreachable). Packets wait in a queue bounded in
 *   packets (256) and bytes (212,992, Linux's `unres_qlen_bytes`), so all the
 *   fragments of a 64 KiB datagram fit.
 * - **Requires:** `ethernet.send`.
 * - **Counters:** `rx.truncated`, `rx.unsupported_hardware`,
 *   `rx.unsupported_protocol`, `rx.bad_length`, `rx.bad_sender` (broadcast,
 *   multicast or our own MAC as sender), `rx.address_conflict` (another
 *   host's ARP with one of our addresses as sender), `rx.not_for_us`, `rx.requests`,
 *   `rx.replies`, `tx.requests`, `tx.replies`, `tx.announcements`,
 *   `tx.queue_full` (packets dropped waiting for resolution), `tx.unresolved`
 *   (packets dropped when resolution failed), `cache.full`.
 * - **Depends on:** ethernet.
 * - **Not supported:** proxy ARP, ARP for link types other than Ethernet,
 *   RFC 5227 conflict detection (probes are answered, not sent).
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x0806]-> arp`
 *
 * @module
 */
export { arpPlugin, arpPlugin as default } from "./arp.ts";
