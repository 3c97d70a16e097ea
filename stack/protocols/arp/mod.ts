/**
 * ARP (RFC 826) for IPv4 over Ethernet, on the neighbour cache it shares
 * with NDP (`stack/ip/neighbor_cache.ts`: INCOMPLETE, REACHABLE, STALE,
 * DELAY, PROBE, FAILED, and PERMANENT for static entries).
 *
 * - **Binds:** `ethertype` 0x0806.
 * - **Provides:** `neighbor.ipv4` (the family-4 `NeighborResolver` that
 *   Ethernet's link output asks for the MAC of a next hop: broadcast and
 *   multicast destinations map without ARP traffic, unicast ones are
 *   resolved; `onUnresolved` tells IPv4 which packets died with a failed
 *   resolution, so a router can answer host unreachable) and `arp.resolve`
 *   (the same object, with the cache rows and static entries). Packets wait
 *   in a queue bounded in
 *   packets (256) and bytes (524,288, like Linux's `unres_qlen_bytes`),
 *   counted as the whole 2 KiB pooled buffer each packet occupies (256
 *   packets), so a 64 KiB datagram refragmented to MTU 576 (135 fragments)
 *   fits; all queues together are bounded by
 *   `totalQueueBytes` (1 MiB), past which the stack's oldest waiting packet
 *   goes first.
 * - **Cache:** at most `maxEntries` (4,096). A neighbour learned from its
 *   request is STALE (unconfirmed, as in Linux), senders outside the
 *   interface's subnets are ignored, and a full cache evicts its least
 *   recently used entry that is neither INCOMPLETE nor PERMANENT.
 * - **Requires:** `ethernet.send`.
 * - **Counters:** `rx.truncated`, `rx.unsupported_hardware`,
 *   `rx.unsupported_protocol`, `rx.bad_length`, `rx.bad_sender` (broadcast,
 *   multicast or our own MAC as sender), `rx.address_conflict` (another
 *   host's ARP with one of our addresses as sender), `rx.not_for_us`, `rx.requests`,
 *   `rx.replies`, `tx.requests`, `tx.replies`, `tx.announcements`,
 *   `rx.off_subnet` (a request for us from a sender outside our subnets),
 *   `tx.queue_full` (packets dropped waiting for resolution, per-neighbour
 *   limit), `tx.queue_total_full` (the same, stack-wide limit),
 *   `tx.unresolved` (packets dropped when resolution failed), `cache.full`
 *   (no entry could be evicted), `cache.evicted` (an entry evicted for a new one).
 * - **Depends on:** ethernet.
 * - **Not supported:** proxy ARP, ARP for link types other than Ethernet,
 *   RFC 5227 conflict detection (probes are answered, not sent).
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x0806]-> arp`
 *
 * @module
 */
export { arpPlugin, arpPlugin as default } from "./arp.ts";
