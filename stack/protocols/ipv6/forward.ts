/**
 * IPv6 forwarding between interfaces (RFC 8200 §3, RFC 4443 §3, RFC 4291
 * §2.5.6): what a router does with a valid packet that is not for one of
 * its addresses (nor to a Subnet-Router anycast address of its prefixes,
 * which are its own while it forwards: `anycast.ts`). Off by default (a host); the `forwarding` option of the
 * IPv6 plugin, `ipv6.routes`' `setForwarding(true)` or
 * `stack.setForwarding(true)` turns it on.
 *
 * Order, as Linux's `ip6_forward()`: refuse what must never be forwarded;
 * hop limit (Time Exceeded code 0 at 1 or 0, RFC 8200 §3); route
 * (Destination Unreachable code 0 without one, RFC 4443 §3.1); scope (a
 * link-local source never leaves its link: code 2, beyond scope, RFC 4291
 * §2.5.6); MTU (Packet Too Big with the outgoing link's MTU: routers never
 * fragment, RFC 8200 §5); then copy into a fresh pooled buffer (the
 * received one is borrowed), decrement the hop limit (no header checksum
 * in IPv6), run the `forward` hooks (a drop there: code 1, administratively
 * prohibited) and hand the copy to the output path (`postrouting`, the link).
 *
 * Never forwarded (dropped and counted, no ICMPv6):
 * - frames received as link-layer broadcast or multicast, or for another
 *   MAC (`not_for_us`);
 * - multicast destinations (no multicast routing: `not_for_us`);
 * - link-local or loopback destinations (`fwd_bad_destination`);
 * - unspecified, loopback or multicast sources (`fwd_bad_source`; the
 *   receive path already refuses multicast and loopback ones).
 *
 * Not supported: Redirect (RFC 4861 §8.2), multicast routing, Routing
 * header processing (segments left > 0 is treated as the receive path does).
 *
 * A packet a `defrag` prerouting hook had reassembled is the exception to
 * "never fragment": it leaves in fragments no larger than the largest it
 * came in (at least 1280), with a new Identification, as Linux's
 * nf_conntrack_reasm + ip6_fragment send it; Packet Too Big only when that
 * largest fragment exceeds the outgoing MTU.
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
import type { IpKey } from "../../wire/ip_address.ts";
import {
  ICMPV6_DESTINATION_UNREACHABLE,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_TIME_EXCEEDED,
  Icmpv6TimeExceededCode,
  Icmpv6UnreachableCode,
} from "../../wire/icmpv6.ts";
import { IPV6_MIN_MTU } from "../../wire/ipv6.ts";
import { segmentTcp } from "../../wire/tcp_gso.ts";
import type { Ipv6RoutingTable } from "./routes.ts";
import { UNSPECIFIED } from "./routes.ts";

/** Why the forwarder dropped a packet (counted as `ipv6.rx.<reason>`). */
export type Ipv6ForwardDropReason =
  | "not_for_us"
  | "fwd_link_multicast"
  | "fwd_bad_destination"
  | "fwd_bad_source"
  | "fwd_hop_limit_exceeded"
  | "fwd_no_route"
  | "fwd_beyond_scope"
  | "fwd_too_big";

/** Every reason of {@linkcode Ipv6ForwardDropReason}, for the manifest. */
export const IPV6_FORWARD_DROPS: readonly Ipv6ForwardDropReason[] = [
  "fwd_link_multicast",
  "fwd_bad_destination",
  "fwd_bad_source",
  "fwd_hop_limit_exceeded",
  "fwd_no_route",
  "fwd_beyond_scope",
  "fwd_too_big",
];

/** Sends a forwarded packet on: `postrouting` hooks, the link. Takes ownership of `pkt`. */
export type Ipv6ForwardOutput = (
  iface: NetInterface,
  nextHop: IpKey,
  pkt: PacketBuffer,
  mtu: number,
) => void;

/**
 * What the IPv6 plugin's hook runner answers, without running the hooks,
 * for a packet whose extension header chain it cannot follow to the upper
 * layer (counted `hook.chain_truncated`, `hook.chain_too_long`): dropped,
 * and no hook refused it, so no ICMPv6 "administratively prohibited".
 */
export const HOOK_CHAIN_UNREADABLE = "hook_chain_unreadable";

/**
 * Runs the hook chain at `point` with a context (the IPv6 plugin's
 * `runHook`); {@linkcode HOOK_CHAIN_UNREADABLE} when it could not.
 */
export type Ipv6HookRunner = (
  point: HookPoint,
  pkt: PacketBuffer,
  inIf: NetInterface | null,
  outIf: NetInterface | null,
  nextHop: IpKey,
  mtu: number,
  isLocal: boolean,
) => HookVerdict;

/** Whether the 16 bytes at `at` are fe80::/10 (link-local unicast). */
function isLinkLocalAt(b: Uint8Array, at: number): boolean {
  return b[at] === 0xfe && (b[at + 1]! & 0xc0) === 0x80;
}

/** Whether the 16 bytes at `at` are `::` (`last` 0) or `::1` (`last` 1). */
function isZeroThen(b: Uint8Array, at: number, last: number): boolean {
  for (let i = 0; i < 15; i++) if (b[at + i] !== 0) return false;
  return b[at + 15] === last;
}

/**
 * The forwarding decision of one IPv6 plugin instance.
 *
 * @example
 * ```ts
 * import { Ipv6Forwarder } from "./forward.ts";
 * import assert from "node:assert/strict";
 * // Built by the IPv6 plugin; off until enabled.
 * assert.equal(typeof Ipv6Forwarder, "function");
 * ```
 */
export class Ipv6Forwarder {
  /** Whether packets not for us are forwarded. */
  enabled: boolean;
  /** Where ICMPv6 errors go (resolved once every plugin is set up). */
  icmp: IcmpErrorService | undefined = undefined;
  readonly #ctx: PluginContext;
  readonly #routes: Ipv6RoutingTable;
  readonly #output: Ipv6ForwardOutput;
  readonly #runHook: Ipv6HookRunner;
  readonly #pathMtu: (dst: IpKey, ifMtu: number) => number;
  readonly #forwarded: Counter;
  readonly #prohibited: Counter;
  /** Whether a `forward` chain exists: final at boot (dispatcher.ts), asked once. */
  readonly #forwardHooks: boolean;

  /**
   * A forwarder using `routes`, sending through `output`, running the
   * `forward` chain with `runHook`; `pathMtu` lowers a link MTU by what
   * path MTU discovery learned towards a destination.
   */
  constructor(
    ctx: PluginContext,
    routes: Ipv6RoutingTable,
    io: {
      readonly output: Ipv6ForwardOutput;
      readonly runHook: Ipv6HookRunner;
      readonly pathMtu: (dst: IpKey, ifMtu: number) => number;
      readonly enabled: boolean;
    },
  ) {
    this.#ctx = ctx;
    this.#routes = routes;
    this.#output = io.output;
    this.#runHook = io.runHook;
    this.#pathMtu = io.pathMtu;
    this.enabled = io.enabled;
    this.#forwarded = ctx.counter("fwd.forwarded");
    this.#prohibited = ctx.counter("fwd.prohibited");
    this.#forwardHooks = ctx.hasHooks("forward");
  }

  /**
   * Forwards the validated packet `pkt` (header at `l3`, `end` cut to its
   * payload length, `srcAt`/`dstAt`/`flags` set) that arrived on `iface`.
   * Borrows `pkt`: what goes out is a copy.
   *
   * @returns {@linkcode CONSUMED} when forwarded (or taken by a hook), else
   * the drop reason.
   */
  forward(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
    const flags = pkt.flags;
    if ((flags & PacketFlags.LINK_OTHERHOST) !== 0) return "not_for_us";
    const b = pkt.buf;
    const s = pkt.l3;
    if (b[s + 24] === 0xff) return "not_for_us"; // no multicast routing
    if ((flags & (PacketFlags.LINK_BROADCAST | PacketFlags.LINK_MULTICAST)) !== 0) {
      return "fwd_link_multicast";
    }
    // RFC 4291 §2.5.6: link-local destinations never leave their link; ::1 never on a wire.
    if (isLinkLocalAt(b, s + 24) || isZeroThen(b, s + 24, 1)) return "fwd_bad_destination";
    if (isZeroThen(b, s + 8, 0) || isZeroThen(b, s + 8, 1) || b[s + 8] === 0xff) {
      return "fwd_bad_source";
    }
    const hopLimit = b[s + 7]!;
    if (hopLimit <= 1) {
      this.icmp?.send(pkt, ICMPV6_TIME_EXCEEDED, Icmpv6TimeExceededCode.HOP_LIMIT, 0);
      return "fwd_hop_limit_exceeded";
    }
    const dst = pkt.dstKey();
    const route = this.#routes.route(dst);
    const out = route === undefined ? undefined : this.#ctx.interfaces.get(route.ifindex);
    if (route === undefined || out === undefined) {
      this.icmp?.send(pkt, ICMPV6_DESTINATION_UNREACHABLE, Icmpv6UnreachableCode.NO_ROUTE, 0);
      return "fwd_no_route";
    }
    // RFC 4291 §2.5.6, RFC 4443 §3.1: a link-local source stays on its link (code 2).
    if (out !== iface && isLinkLocalAt(b, s + 8)) {
      this.icmp?.send(pkt, ICMPV6_DESTINATION_UNREACHABLE, Icmpv6UnreachableCode.BEYOND_SCOPE, 0);
      return "fwd_beyond_scope";
    }
    // RFC 8200 §5: routers never fragment; the sender learns the link MTU (RFC 8201).
    let mtu = Math.max(this.#pathMtu(dst, out.mtu), IPV6_MIN_MTU);
    // A packet that arrived in fragments and was reassembled only for a
    // hook (defrag) is judged by its largest fragment and leaves refragmented
    // to that size, at least 1280 (Linux: ip6_pkt_too_big() and
    // ip6_fragment() by frag_max_size): the sender's fragments, not ours.
    const fragMax = pkt.fragMaxSize;
    // A TCP super-segment a driver took whole (TSO/GRO, `gsoSize`): on whole
    // to a link that segments it, else cut here (wire/tcp_gso.ts), never "too big".
    const total = pkt.end - s;
    const superOut = pkt.gsoSize > 0 && total > mtu && total <= out.tsoMaxSize;
    if (pkt.gsoSize > 0 && total > mtu && !superOut) {
      const fwd = (seg: PacketBuffer) => void this.forward(seg, iface);
      if (segmentTcp(pkt, this.#ctx.pool, fwd) > 0) return CONSUMED;
    }
    if (!superOut && (fragMax > 0 ? fragMax > mtu : total > mtu)) {
      this.icmp?.send(pkt, ICMPV6_PACKET_TOO_BIG, 0, mtu);
      return "fwd_too_big";
    }
    if (fragMax > 0) mtu = Math.max(Math.min(mtu, fragMax), IPV6_MIN_MTU);
    if (superOut) mtu = out.tsoMaxSize;
    // The received buffer is borrowed until receive() returns: copy it.
    const copy = this.#ctx.pool.copyOf(b.subarray(s, pkt.end));
    const at = copy.start;
    copy.buf[at + 7] = hopLimit - 1;
    copy.l3 = at;
    copy.family = 6;
    copy.srcAt = at + 8;
    copy.dstAt = at + 24;
    copy.proto = pkt.proto;
    copy.ttl = hopLimit - 1;
    copy.flags = flags;
    copy.ifindex = iface.index;
    copy.mark = pkt.mark; // per-flow state of the hooks goes with the copy
    copy.ct = pkt.ct;
    if (superOut) copy.gsoSize = pkt.gsoSize;
    const nextHop = route.gateway !== UNSPECIFIED ? route.gateway : dst;
    if (this.#forwardHooks) {
      const v = this.#runHook("forward", copy, iface, out, nextHop, mtu, false);
      if (v !== ACCEPT) {
        if (v === HOOK_CHAIN_UNREADABLE) copy.release(); // counted by the runner
        else if (v !== CONSUMED) {
          // A filter dropped it: tell the sender (RFC 4443 §3.1 code 1).
          this.#prohibited.value++;
          this.icmp?.send(
            pkt,
            ICMPV6_DESTINATION_UNREACHABLE,
            Icmpv6UnreachableCode.ADMINISTRATIVELY_PROHIBITED,
            0,
          );
          copy.release(); // dropped: counted against the hook
        }
        return CONSUMED;
      }
    }
    this.#forwarded.value++;
    this.#output(out, nextHop, copy, mtu);
    return CONSUMED;
  }
}
