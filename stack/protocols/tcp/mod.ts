/**
 * TCP (RFC 9293) for IPv4 and IPv6: the state machine with simultaneous
 * open and close, half-close and TIME-WAIT; RFC 6528 ISNs, RFC 6056
 * ephemeral ports, timestamp offsets and SYN cookies keyed by the full
 * addresses; a bounded send queue of segment-sized packet buffers, each
 * sent as a segment itself (`send_queue.ts`), and a bounded receive ring
 * with out-of-order reassembly (allocated on first use, and given back once
 * drained and idle for 1 s;
 * so are the SACK scoreboard and the reassembly ranges); MSS from the route
 * (its MTU less 40 for IPv4, 60 for IPv6; 536 and 1220 when the route or
 * the peer gives none), window scaling and timestamps with PAWS (RFC 7323);
 * delayed and quick ACKs, and one stretch ACK per receive batch (the
 * plugin's `flush()`); Nagle; silly-window avoidance on both sides;
 * RTO per RFC 6298 (Karn, backoff); fast retransmit and NewReno (RFC 5681,
 * 6582), SACK (RFC 2018) with RACK-TLP loss detection (RFC 8985: time-based
 * loss marks, a reordering window grown by D-SACKs, tail loss probes; the
 * `rack` option off falls back to RFC 6675's DupThresh), PRR-SSRB (RFC 6937)
 * for the window during fast recovery (without SACK: Linux's emulation, a
 * segment per duplicate ACK), D-SACK (RFC 2883) sent for duplicates
 * and used to undo spurious congestion responses (RFC 3708, Linux's undo);
 * pluggable congestion control (NewReno, CUBIC RFC 9438, both with HyStart++
 * RFC 9406; BBR v1), chosen per connection and extensible through the
 * `tcp.congestion` service; delivery-rate sampling; pacing driven by the
 * connection's timer; zero-window probes; keepalive; listeners with a
 * SYN queue, an accept queue and SYN cookies (with timestamps, window scale
 * and SACK carried in the low bits of a TSval on the connection's own
 * timestamp clock, as Linux); RFC 5961 challenge ACKs (an
 * in-window RST, a SYN at any sequence number, an ACK below SND.UNA −
 * MAX.SND.WND) with a stack-wide rate limit; ICMP errors (port unreachable
 * aborts a connect, fragmentation needed lowers the MSS, which follows the
 * route's MTU back up when the learned path MTU expires); forward progress
 * (new data acknowledged or received) confirms the peer's next hop to ARP or
 * NDP through the route service, at most once per quarter reachable time
 * (RFC 4861 §7.3.1), so a busy connection causes no probes; an `ss -tani`-like
 * socket list. The API (through the `tcp.sockets` service) is Deno's:
 * `connect`, `listen`, `Conn` with Web Streams.
 *
 * Choices, documented where they are made: RTO minimum 200 ms (Linux) rather
 * than RFC 6298's 1 s; delayed-ACK timer 40 ms with 16 quick ACKs after the
 * handshake (Linux); TIME-WAIT 60 s (MSL 30 s), kept as a compact record
 * once the user closed the socket (`timewait_table.ts`, as Linux's
 * `inet_timewait_sock`); RST in TIME-WAIT ignored (RFC
 * 1337); a non-RST segment without timestamps on a timestamped connection is
 * dropped (RFC 7323 §3.2); a zero-window probe is the octet at SND.UNA with
 * SND.NXT left there (BSD), and the answers to probes are never duplicate
 * ACKs; connections to our own addresses and to 127.0.0.0/8 use a 65495-byte
 * MSS (Linux's `lo`); in-order data is acknowledged at the end of the receive
 * batch once two full-sized segments are pending (RFC 5681 §4.2's "every
 * second segment" per batch, as Linux's GRO), at once when out of order, for
 * a FIN or in quick-ACK mode; slow start counts every byte such a stretch
 * ACK covers (Linux `tcp_slow_start`, not RFC 3465's L = 2·SMSS).
 *
 * - **Binds:** `ip.protocol` 6; `ip.error` 6 (optional: ICMP errors).
 * - **Provides:** `tcp.sockets` (the synchronous `StreamService` of `stack/stream.ts`; the Deno-shaped
 *   `TcpConn`/`TcpListener` wrap it in `stack/sockets/`).
 *   `tcp.congestion` (a `CongestionRegistry`: plugins register more congestion controls by name).
 * - **Requires:** `ipv4.route`; `ipv6.route` (optional). TCP is
 *   version-neutral: connections keyed by `IpKey`, the pseudo-header from
 *   one shared function, MSS from the route's MTU and header length, ICMP
 *   errors by `TransportErrorKind`.
 * - **Counters:** drop reasons `rx.truncated`, `rx.bad_header_length`,
 *   `rx.bad_checksum`, `rx.not_unicast`, `rx.no_socket`,
 *   `rx.listen_overflow`, `rx.syn_queue_full`, `rx.accept_queue_full`,
 *   `rx.syn_fin`, `rx.not_syn`, `rx.rst_to_listener`, `rx.bad_cookie`,
 *   `rx.too_many_connections`, `rx.out_of_window`, `rx.paws`,
 *   `rx.no_timestamp`, `rx.rst_challenged`, `rx.syn_challenged`, `rx.no_ack`,
 *   `rx.bad_ack`, `rx.ack_unsent`, `rx.ack_too_old`, `rx.rst_ignored`,
 *   `rx.no_syn`, `rx.ooo_dropped`, `rx.data_after_close`,
 *   `rx.time_wait_rst`, `rx.icmp_no_socket`, `rx.icmp_bad_seq`,
 *   `rx.icmp_ignored`; statistics `active_opens`, `passive_opens`,
 *   `attempt_fails`, `estab_resets`, `in_segs`, `out_segs`, `retrans_segs`,
 *   `tx_shared_copies` (segments of a send-queue chunk a driver or a
 *   receiver still had, copied rather than rewritten), `out_rsts`, `in_errs`, `fast_retransmits`, `sack_recoveries`, `timeouts`,
 *   `syncookies_sent`, `syncookies_recv`, `challenge_acks`,
 *   `challenge_acks_limited`, `delayed_acks`, `zero_window_probes`,
 *   `keepalive_probes`, `pmtu_updates`, `tx.failed`, `bad_options`,
 *   `dsacks_sent`, `dsacks_recv`, `spurious_undos`, `tlp_probes`,
 *   `tlp_recoveries`, `rack_overflows`, `rate_untracked` (segments the
 *   delivery-rate sampler had no room for), `dsacks_invalid` (D-SACK
 *   blocks past SND.MAX or more than a window below SND.UNA, ignored),
 *   `sacks_invalid` (other SACK blocks past SND.MAX or empty, ignored);
 *   buffer memory (`memory.ts`, Linux's tcp_mem): drop reasons
 *   `rx.mem_dropped` and `rx.ooo_mem_dropped` (data past the stack's limit),
 *   `memory_pressures`, `prune_called`, `ofo_pruned` (out-of-order data
 *   given up, its SACKs reneged), `rcv_pruned` (still no room after
 *   pruning), `rcv_collapsed` (a receive store shrunk to what it holds),
 *   `rcv_hold_refused` (a segment copied into the receive store because
 *   its packet pool refused to hold its buffer: the pool's holds used up,
 *   or the slab it was carved from would be kept alive past the pool's cap,
 *   `PacketPool.heldSlabBytes`),
 *   `sack_reneging` (the peer dropped data it had SACKed: retransmission
 *   timer brought forward), `tfo_syn_data_mem_refused` (a Fast Open SYN's
 *   data refused under pressure: the client sends it again after the
 *   handshake), `memory_pressure_us` (virtual µs spent under pressure,
 *   Linux's TCPMemoryPressuresChrono; current whenever read), and the
 *   gauges `memory_allocated` and `memory_peak` (bytes, current whenever
 *   read).
 * - **Depends on:** ipv4 (and icmp for `ip.error`, when loaded).
 * - **Not supported:** IPv6 without an IPv6 network plugin (connect rejects
 *   with NetworkUnreachable), dual-stack listeners (`::` does not take
 *   IPv4), RFC 6528 hashing of all 128 address bits (IPv6 addresses are
 *   folded to 32 bits first), the IPv6 default MSS of 1220; AccECN; ECN on
 *   SYN-cookie connections without timestamps; Fast Open data on a SYN
 *   answered with a cookie; RACK without SACK (NewReno's DupThresh
 *   stays); TCP-AO/MD5; SO_REUSEADDR-style
 *   port sharing; data on a SYN without a valid Fast Open cookie is not
 *   acknowledged (the peer resends it).
 * - **ECN, Fast Open, urgent data, TIME-WAIT reuse:** RFC 3168 ECN
 *   (`ecn.ts`: accepted by default, requested with the `ecn` option 1 or
 *   `connect({ ecn: true })`), RFC 7413 Fast Open (`fastopen.ts`:
 *   `listen({ fastOpen })`, `connect({ fastOpenData })`), RFC 6093 urgent
 *   data (`urgent.ts`: `sendUrgent`, inline by default, `readUrgent`), RFC
 *   6191 TIME-WAIT reuse with the new ISN above the old SND.NXT
 *   (`timewait.ts`). Counters `ecn_ce_received`, `ecn_reductions`,
 *   `tfo_cookie_sent`, `tfo_cookie_invalid`, `tfo_syn_data_accepted`,
 *   `tfo_queue_full`, `tfo_syn_data_acked`, `tfo_fallback`,
 *   `tfo_cache_evicted`, `urgent_received`.
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x0800]-> ipv4 -[ip.protocol 6]-> tcp`
 *
 * @module
 */
export { tcpPlugin, tcpPlugin as default } from "./tcp.ts";
export { formatSockets } from "./info.ts";
export {
  CONGESTION_CONTROLS,
  type CongestionControl,
  type CongestionFactory,
  type CongestionOptions,
} from "./congestion/mod.ts";
export type { CongestionRegistry } from "./congestion/registry.ts";
export type { RateSample } from "./congestion/delivery_rate.ts";
