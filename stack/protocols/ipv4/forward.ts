/**
 * Forwarding between interfaces (RFC 1812 §5.2, §5.3): what a router does
 * with a valid datagram that is not for one of its addresses. Off by
 * default (RFC 1122 §3.3.1.5 hosts); the `forwarding` option of the IPv4
 * plugin or `stack.setForwarding(true)` turns it on.
 *
 * Order, as Linux's `ip_forward()`: refuse what must never be forwarded;
 * TTL (time exceeded at 1 or 0, RFC 1812 §5.3.1); route (net unreachable
 * without one, RFC 1812 §5.2.7.1); MTU (fragmentation needed with the next
 * hop's MTU when DF is set, RFC 1191 §4; a datagram a `defrag` hook had
 * reassembled is judged by its largest fragment and leaves in fragments no
 * larger, as Linux's `frag_max_size`); then copy into a fresh pooled
 * buffer (the received one is borrowed), decrement the TTL with an
 * incremental checksum update (RFC 1624), run the `forward` hooks, and hand
 * the copy to the output path (`postrouting` hooks, fragmentation when DF is
 * clear, the link).
 *
 * Never forwarded (dropped and counted, no ICMP):
 * - frames received as link-layer broadcast or multicast (RFC 1812 §5.3.4);
 *   frames for another MAC seen in promiscuous mode (`not_for_us`);
 * - multicast destinations (no multicast routing: `not_for_us`);
 * - destinations in 0.0.0.0/8, 127/8, 169.254/16 (RFC 3927 §7) and 240/4,
 *   including the limited broadcast (RFC 1812 §5.3.7, §4.2.2.11);
 * - sources in 0.0.0.0/8, 169.254/16 and 240/4 (127/8, multicast,
 *   broadcast, 0/8 and our own addresses are refused earlier by the receive
 *   path as martians, and with `rpFilter` spoofed sources too).
 *
 * Options: Record Route and Timestamp get the outgoing route's source
 * address (and the time) and the header checksum is recomputed (RFC 1812
 * §5.3.13.3, §5.3.13.4; see options.ts); source-routed datagrams were
 * dropped by the receive path unless `acceptSourceRoute` is on, and then
 * are forwarded by destination without following the route.
 *
 * Not supported: ICMP redirects (RFC 1812 §5.2.7.2), following source
 * routes (RFC 1812 §5.2.4.1), directed broadcast forwarding (RFC 2644: off), multicast routing.
 *
 * @module
 */
import type { HookPoint, HookVerdict, PluginContext, RxVerdict } from "../../manifest.ts";
import { ACCEPT, CONSUMED } from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketFlags } from "../../packet_flags.ts";
import type { IcmpErrorService } from "../../services.ts";
import type { Counter } from "../../counters.ts";
import { isIpv4Multicast } from "../../wire/address.ts";
import { updateChecksum16 } from "../../wire/checksum.ts";
import { segmentTcp } from "../../wire/tcp_gso.ts";
import type { RoutingTable } from "./routes.ts";
import type { Ipv4OptionsProcessor } from "./options.ts";
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_FRAG_NEEDED as FRAG_NEEDED,
  ICMP_NET_UNREACHABLE as NET_UNREACHABLE,
  ICMP_TIME_EXCEEDED,
} from "../../wire/icmpv4.ts";
import {
  IPV4_FLAG_DF,
  ipv4ChecksumField,
  ipv4FragmentField,
  ipv4Ttl,
  setIpv4ChecksumField,
  setIpv4Ttl,
} from "../../wire/ipv4_fields.ts";

/** Why the forwarder dropped a datagram (counted as `ipv4.rx.<reason>`). */
export type ForwardDropReason =
  | "not_for_us"
  | "fwd_link_broadcast"
  | "fwd_bad_destination"
  | "fwd_bad_source"
  | "fwd_ttl_exceeded"
  | "fwd_no_route"
  | "fwd_frag_needed";

/**
 * Sends a forwarded datagram on: `postrouting` hooks, fragmentation to
 * `mtu`, the link. Takes ownership of `pkt` (header at `start`).
 */
export type ForwardOutput = (
  iface: NetInterface,
  nextHop: number,
  pkt: PacketBuffer,
  mtu: number,
  inIf: NetInterface | null,
) => void;

/**
 * Runs the hook chain at `point` with a context: `inIf`, and the route
 * through `outIf` to `nextHop` (IPv4 plugin's `runHook`).
 */
export type ForwardHookRunner = (
  point: HookPoint,
  pkt: PacketBuffer,
  inIf: NetInterface | null,
  outIf: NetInterface | null,
  nextHop: number,
  mtu: number,
  isLocal: boolean,
) => HookVerdict;

/**
 * Whether `addr` may never be the destination of a forwarded datagram:
 * 0.0.0.0/8, 127/8, 169.254/16, 240/4.
 *
 * @example
 * ```ts
 * import { isUnforwardableDestination } from "./forward.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isUnforwardableDestination(0x7f000001)); // 127.0.0.1
 * assert.ok(isUnforwardableDestination(0xa9fe0001)); // 169.254.0.1
 * assert.ok(!isUnforwardableDestination(0x0a000001));
 * ```
 */
export function isUnforwardableDestination(addr: number): boolean {
  const top = addr >>> 24;
  return top === 0 || top === 127 || top >= 240 || (addr >>> 16) === 0xa9fe;
}

/**
 * The forwarding decision of one IPv4 plugin instance.
 *
 * @example
 * ```ts
 * import { Forwarder } from "./forward.ts";
 * import assert from "node:assert/strict";
 * // Built by the IPv4 plugin; off until enabled.
 * assert.equal(typeof Forwarder, "function");
 * ```
 */
export class Forwarder {
  /** Whether datagrams not for us are forwarded. */
  enabled: boolean;
  /** Where ICMP errors go (resolved once every plugin is set up). */
  icmp: IcmpErrorService | undefined = undefined;
  /** Records this router in Record Route / Timestamp (set by the IPv4 plugin). */
  options: Ipv4OptionsProcessor | undefined = undefined;
  readonly #ctx: PluginContext;
  readonly #routes: RoutingTable;
  readonly #output: ForwardOutput;
  readonly #forwarded: Counter;
  readonly #runHook: ForwardHookRunner | undefined;

  /**
   * A forwarder using `routes`, sending through `output`; `runHook` runs the
   * `forward` chain with a context (without it, a bare one).
   */
  constructor(
    ctx: PluginContext,
    routes: RoutingTable,
    output: ForwardOutput,
    enabled: boolean,
    runHook?: ForwardHookRunner,
  ) {
    this.#runHook = runHook;
    this.#ctx = ctx;
    this.#routes = routes;
    this.#output = output;
    this.enabled = enabled;
    this.#forwarded = ctx.counter("fwd.forwarded");
  }

  /**
   * Forwards the validated datagram `pkt` (header at `l3`, `end` cut to its
   * total length, `srcAt`/`dstAt`/`flags` set) that arrived on `iface`.
   * Borrows `pkt`: what goes out is a copy.
   *
   * @returns {@linkcode CONSUMED} when forwarded (or taken by a hook), else
   * the drop reason.
   */
  forward(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
    const flags = pkt.flags;
    if ((flags & PacketFlags.LINK_OTHERHOST) !== 0) return "not_for_us";
    if ((flags & (PacketFlags.LINK_BROADCAST | PacketFlags.LINK_MULTICAST)) !== 0) {
      return "fwd_link_broadcast";
    }
    const dst = pkt.dv.getUint32(pkt.dstAt);
    const src = pkt.dv.getUint32(pkt.srcAt);
    if (isIpv4Multicast(dst)) return "not_for_us";
    if (isUnforwardableDestination(dst)) return "fwd_bad_destination";
    const stop = src >>> 24;
    if (stop === 0 || stop >= 240 || (src >>> 16) === 0xa9fe) return "fwd_bad_source";
    const s = pkt.l3;
    const b = pkt.buf;
    const dv = pkt.dv;
    const ttl = ipv4Ttl(dv, s);
    if (ttl <= 1) {
      this.icmp?.send(pkt, ICMP_TIME_EXCEEDED, 0, 0);
      return "fwd_ttl_exceeded";
    }
    const route = this.#routes.route(dst);
    const out = route === undefined ? undefined : this.#ctx.interfaces.get(route.ifindex);
    if (route === undefined || out === undefined) {
      this.icmp?.send(pkt, ICMP_DEST_UNREACHABLE, NET_UNREACHABLE, 0);
      return "fwd_no_route";
    }
    const total = pkt.end - s;
    // Reassembled only for a hook (defrag): judged by its largest fragment,
    // as Linux's ip_exceeds_mtu() by frag_max_size, and sent on in fragments
    // no larger (ip_do_fragment), DF or not.
    const fragMax = pkt.fragMaxSize;
    // A TCP super-segment a driver took whole (TSO/GRO, `gsoSize`): on whole
    // to a link that segments it, else cut here (wire/tcp_gso.ts), never "too big".
    const superOut = pkt.gsoSize > 0 && total > out.mtu && total <= out.tsoMaxSize;
    if (pkt.gsoSize > 0 && total > out.mtu && !superOut) {
      const fwd = (seg: PacketBuffer) => void this.forward(seg, iface);
      if (segmentTcp(pkt, this.#ctx.pool, fwd) > 0) return CONSUMED;
    }
    const tooBig = !superOut && (fragMax > 0 ? fragMax > out.mtu : total > out.mtu);
    if (tooBig && (ipv4FragmentField(dv, s) & IPV4_FLAG_DF) !== 0) {
      this.icmp?.send(pkt, ICMP_DEST_UNREACHABLE, FRAG_NEEDED, out.mtu);
      return "fwd_frag_needed";
    }
    const mtu = superOut ? out.tsoMaxSize : fragMax > 0 ? Math.min(out.mtu, fragMax) : out.mtu;
    // The received buffer is borrowed until receive() returns: copy it.
    const copy = this.#ctx.pool.copyOf(b.subarray(s, pkt.end));
    const at = copy.start;
    const cdv = copy.dv;
    const oldWord = cdv.getUint16(at + 8); // TTL and protocol, one checksum word
    setIpv4Ttl(cdv, at, ttl - 1);
    setIpv4ChecksumField(
      cdv,
      at,
      updateChecksum16(ipv4ChecksumField(cdv, at), oldWord, cdv.getUint16(at + 8)),
    );
    if ((flags & (PacketFlags.IPV4_RECORD_ROUTE | PacketFlags.IPV4_TIMESTAMP)) !== 0) {
      this.options?.record(copy.buf, cdv, at, this.#routes.sourceFor(route, dst));
    }
    copy.l3 = at;
    copy.family = 4;
    copy.srcAt = at + 12;
    copy.dstAt = at + 16;
    copy.proto = pkt.proto;
    copy.ttl = ttl - 1;
    copy.flags = flags;
    copy.ifindex = iface.index;
    copy.mark = pkt.mark; // per-flow state of the hooks goes with the copy
    copy.ct = pkt.ct;
    if (superOut) copy.gsoSize = pkt.gsoSize;
    const nextHop = route.gateway !== 0 ? route.gateway : dst;
    if (this.#ctx.hasHooks("forward")) {
      const v = this.#runHook === undefined
        ? this.#ctx.runHooks("forward", copy)
        : this.#runHook("forward", copy, iface, out, nextHop, mtu, false);
      if (v !== ACCEPT) {
        if (v !== CONSUMED) copy.release(); // dropped: counted against the hook
        return CONSUMED;
      }
    }
    this.#forwarded.value++;
    this.#output(out, nextHop, copy, mtu, iface);
    return CONSUMED;
  }
}
