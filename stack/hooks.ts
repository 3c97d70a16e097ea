/**
 * What a hook sees besides the packet: the {@linkcode HookContext}, family
 * neutral (IPv4 fills it today, IPv6 will fill the same one), reused from a
 * small per-plugin stack ({@linkcode HookContexts}) so that running a hook
 * allocates nothing.
 *
 * The points, in netfilter's order (the network layer runs the middle five):
 *
 * ```
 *  rx → [ingress] → [prerouting] → routing decision ─ local → [input] → transport
 *                                                   └ forward → [forward] → [postrouting] → [egress] → link
 *  transport → routing → [output] → (re-route if a hook changed the destination) → [postrouting] → [egress] → link
 * ```
 *
 * | point         | `inIface` | `outIface` | `route`                          |
 * | ------------- | --------- | ---------- | -------------------------------- |
 * | `ingress`     | yes       | null       | null                             |
 * | `prerouting`  | yes       | null       | null (routing comes after)       |
 * | `input`       | yes       | null       | the local route (`local: true`)  |
 * | `forward`     | yes       | yes        | the route out                    |
 * | `output`      | null      | yes        | the route out (or local)         |
 * | `postrouting` | forwarded: yes; local: null | yes | the route out          |
 * | `egress`      | null      | yes        | null                             |
 *
 * The context is valid only during the hook call: copy what you keep.
 *
 * **The upper layer.** At the five network-layer points both families
 * tell a hook the same two things, as netfilter's `ipv6_find_hdr()` tells
 * `ip6tables -p tcp --dport`: `pkt.proto`, the upper-layer protocol
 * (IPv4's protocol field; on IPv6 the Next Header that follows every
 * Hop-by-Hop, Routing, Fragment, Destination Options and Authentication
 * header), and `pkt.l4`, the offset of its header, or -1 in a non-first
 * fragment (no header there; `pkt.proto` is still what it is a fragment
 * of). ESP and No Next Header end an IPv6 chain (`pkt.proto` 50 or 59).
 * An IPv6 packet whose chain cannot be followed within the IPv6 plugin's
 * `maxExtensionHeaders` and its bytes is dropped before the hooks
 * (`ipv6.hook.chain_truncated`, `ipv6.hook.chain_too_long`). `ingress`
 * and `egress` run at the link, where neither field is promised.
 *
 * Writing to a packet: a hook may rewrite it in place, but its bytes may
 * not be its own alone. A TCP segment is often its send queue's buffer
 * itself (kept until acknowledged, sent again as it is), and the in-memory
 * link hands the sender's buffer to the receiving stack. Before writing,
 * call `pkt.makeWritable(from, to)` (`PacketBuffer.makeWritable`) for the
 * bytes you write: the send queue then keeps a copy, and a retransmission
 * carries the bytes TCP was given, not yours. Headers (addresses, ports,
 * checksums, TTL, ECN) are written anew for every send: rewriting them
 * copies nothing, and NAT calls it so.
 *
 * ```ts
 * import { ACCEPT, type HookVerdict, type PacketBuffer } from "../mod.ts";
 * import { PacketPool } from "./packet_pool.ts";
 * import assert from "node:assert/strict";
 * // A mangle hook zeroing the 4th byte of an IPv4 packet's payload.
 * function hook(pkt: PacketBuffer): HookVerdict {
 *   const at = pkt.start + (pkt.buf[pkt.start]! & 15) * 4 + 3;
 *   if (at >= pkt.end) return ACCEPT;
 *   pkt.makeWritable(at, at + 1);
 *   pkt.buf[at] = 0; // (a real one fixes the transport checksum too)
 *   return ACCEPT;
 * }
 * const pkt = new PacketPool().alloc(24);
 * pkt.buf.fill(9, pkt.start, pkt.end);
 * pkt.buf[pkt.start] = 0x45;
 * assert.equal(hook(pkt), ACCEPT);
 * assert.equal(pkt.buf[pkt.start + 23], 0);
 * ```
 *
 * @module
 */
import type { HookPoint } from "./manifest.ts";
import type { NetInterface } from "./netif.ts";
import type { IpKey } from "./wire/ip_address.ts";

/** The route the network layer chose for a packet, as a hook sees it. */
export interface HookRoute {
  /** Index of the outgoing interface (for a local route, the receiving one). */
  ifindex: number;
  /** The next hop: the gateway, or the destination itself on a connected route. */
  nextHop: IpKey;
  /** The MTU towards the destination (the link's, lowered by a learned path MTU). */
  mtu: number;
  /** Whether the packet is delivered to this host rather than sent on. */
  local: boolean;
}

/**
 * The second argument of every hook call: where the packet is, with the
 * interfaces and route known at that point (see the module table). Filled
 * in place by the network layer or the dispatcher; never kept by a hook.
 *
 * @example
 * ```ts
 * import { HookContext } from "./hooks.ts";
 * import assert from "node:assert/strict";
 * const h = new HookContext();
 * assert.equal(h.inIface, null);
 * assert.equal(h.route, null);
 * ```
 */
export class HookContext {
  /** The point being run. */
  point: HookPoint = "prerouting";
  /** The IP version of the packet (0 at `ingress`/`egress` when not IP). */
  family: 0 | 4 | 6 = 0;
  /** The interface the packet arrived on, or null for a locally generated one. */
  inIface: NetInterface | null = null;
  /** The interface it leaves by, or null before the routing decision. */
  outIface: NetInterface | null = null;
  /** The route chosen for it, or null before the routing decision. */
  route: HookRoute | null = null;
  /** The storage `route` points at when set (reused, never reallocated). */
  readonly routeSlot: HookRoute = { ifindex: -1, nextHop: 0, mtu: 0, local: false };

  /** Clears the context for `point`. */
  reset(point: HookPoint, family: 0 | 4 | 6): void {
    this.point = point;
    this.family = family;
    this.inIface = null;
    this.outIface = null;
    this.route = null;
  }

  /** Sets `route` to the slot filled with these values. */
  setRoute(ifindex: number, nextHop: IpKey, mtu: number, local: boolean): void {
    const r = this.routeSlot;
    r.ifindex = ifindex;
    r.nextHop = nextHop;
    r.mtu = mtu;
    r.local = local;
    this.route = r;
  }
}

/**
 * A stack of reusable contexts, one per nesting level (a hook may send a
 * packet whose own hooks run before it returns): `enter` before running a
 * chain, `leave` after it. Allocates only when the nesting grows deeper than
 * ever before.
 *
 * @example
 * ```ts
 * import { HookContexts } from "./hooks.ts";
 * import assert from "node:assert/strict";
 * const hooks = new HookContexts(4);
 * const outer = hooks.enter("prerouting");
 * const inner = hooks.enter("output");
 * assert.notEqual(outer, inner);
 * hooks.leave();
 * hooks.leave();
 * assert.equal(hooks.enter("input"), outer); // reused
 * hooks.leave();
 * ```
 */
export class HookContexts {
  readonly #family: 0 | 4 | 6;
  readonly #stack: HookContext[] = [];
  #depth = 0;

  /** Contexts for packets of `family`. */
  constructor(family: 0 | 4 | 6) {
    this.#family = family;
  }

  /** A cleared context for `point` at the next nesting level. */
  enter(point: HookPoint): HookContext {
    const h = this.#stack[this.#depth] ?? (this.#stack[this.#depth] = new HookContext());
    this.#depth++;
    h.reset(point, this.#family);
    return h;
  }

  /** Leaves the level of the last `enter`. */
  leave(): void {
    if (this.#depth > 0) this.#depth--;
  }
}
