/**
 * ICMP for IPv4 (RFC 792, RFC 1122 3.2.2): echo request and reply, and the
 * ping API with round-trip times on the stack's clock.
 *
 * - **Binds:** `ip.protocol` 1.
 * - **Provides:** `icmp.echo`.
 * - **Requires:** `ipv4.send`.
 * - **Counters:** `rx.truncated`, `rx.bad_checksum`, `rx.echo_requests`,
 *   `rx.echo_replies`, `rx.unmatched_reply`, `rx.broadcast_echo_ignored`,
 *   `rx.unhandled_type`, `tx.echo_replies`, `tx.echo_requests`,
 *   `tx.send_failed`.
 * - **Depends on:** ipv4.
 * - **Not supported yet:** sending and dispatching ICMP errors (issue #3),
 *   timestamp and address-mask messages (obsolete), redirects.
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x0800]-> ipv4 -[ip.protocol 1]-> icmp`
 *
 * @module
 */
export { icmpPlugin, icmpPlugin as default } from "./icmp.ts";
