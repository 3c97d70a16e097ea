/**
 * The proxy's multicast forwarding (RFC 4605 §4.2), IPv4 and IPv6: a datagram heard on
 * the upstream interface goes out of each downstream interface with
 * members for its (source, group); one heard on a downstream interface
 * goes upstream and out of the other downstream interfaces with members.
 * Never back out of the arrival interface; TTL decremented (IPv4's checksum
 * fixed incrementally, RFC 1624); not forwarded with TTL ≤ 1; groups in
 * 224.0.0.0/24 (RFC 5771 §4) and of interface- or link-local scope
 * (ff01::/16, ff02::/16) are never forwarded.
 *
 * @module
 */
import type { Counter } from "../../counters.ts";
import type { PluginContext } from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import { updateChecksum16 } from "../../wire/checksum.ts";
import { ipv4ChecksumField, setIpv4ChecksumField, setIpv4Ttl } from "../../wire/ipv4_fields.ts";
import { type IpKey, ipKeyAt } from "../../wire/ip_address.ts";
import { isIpv4LinkLocalGroup } from "./igmp_side.ts";
import { isIpv6LinkLocalGroup } from "./mld_side.ts";
import type { RouterMembership } from "./router_groups.ts";

/** The forwarder's counters (`mcproxy.fwd.*`). */
export interface ForwardCounters {
  /** Copies sent. */
  readonly forwarded: Counter;
  /** Datagrams with TTL ≤ 1. */
  readonly ttl: Counter;
  /** Link-local groups (224.0.0.0/24). */
  readonly linkLocal: Counter;
  /** Datagrams no interface wanted. */
  readonly noMembers: Counter;
  /** Copies larger than the outgoing MTU (no fragmentation here). */
  readonly tooBig: Counter;
  /** Copies for an interface that is down. */
  readonly down: Counter;
}

/** What the forwarder sees of one family's configuration (a `ProxyFamily`). */
export interface ForwardTopology {
  /** The upstream interface's index, or -1 while it does not exist. */
  readonly upstream: number;
  /** The downstream interfaces: index → membership database. */
  readonly databases: ReadonlyMap<number, RouterMembership>;
  /** Whether we are the querier on downstream interface `ifindex` (only then we forward there). */
  isQuerier(ifindex: number): boolean;
}

/**
 * Forwards the multicast datagram `pkt` (IPv4 or IPv6, header at
 * `pkt.l3`) heard on `inIf` as RFC 4605 §4.2 says. Borrows `pkt` (each
 * copy is a new buffer). Hot path: positional.
 *
 * @example
 * ```ts
 * import { forwardMulticast } from "./forward.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import assert from "node:assert/strict";
 * // A datagram to 224.0.0.251 (mDNS): link-local, never forwarded.
 * const pkt = new PacketPool().alloc(20);
 * pkt.buf.set([0x45, 0, 0, 20, 0, 0, 0, 0, 255, 17, 0, 0, 10, 0, 0, 9, 224, 0, 0, 251], pkt.start);
 * pkt.l3 = pkt.start;
 * pkt.family = 4;
 * pkt.srcAt = pkt.start + 12;
 * pkt.dstAt = pkt.start + 16;
 * const n = () => ({ value: 0 });
 * const c = { forwarded: n(), ttl: n(), linkLocal: n(), noMembers: n(), tooBig: n(), down: n() };
 * const topo = { upstream: 1, databases: new Map(), isQuerier: () => true };
 * forwardMulticast({} as never, pkt, { index: 2 } as never, topo, c as never);
 * assert.equal(c.linkLocal.value, 1);
 * assert.equal(c.forwarded.value, 0);
 * ```
 */
export function forwardMulticast(
  ctx: PluginContext,
  pkt: PacketBuffer,
  inIf: NetInterface,
  topo: ForwardTopology,
  c: ForwardCounters,
): void {
  const v6 = pkt.family === 6;
  const b = pkt.buf;
  let dst: IpKey;
  let src: IpKey;
  if (v6) {
    dst = ipKeyAt(b, pkt.dstAt, 6);
    if (isIpv6LinkLocalGroup(dst)) {
      c.linkLocal.value++;
      return;
    }
    src = ipKeyAt(b, pkt.srcAt, 6);
  } else {
    dst = pkt.dv.getUint32(pkt.dstAt);
    if (isIpv4LinkLocalGroup(dst)) {
      c.linkLocal.value++;
      return;
    }
    src = pkt.dv.getUint32(pkt.srcAt);
  }
  const ttl = b[pkt.l3 + (v6 ? 7 : 8)]!;
  if (ttl <= 1) {
    c.ttl.value++;
    return;
  }
  const up = topo.upstream;
  let sent = 0;
  if (inIf.index !== up && up >= 0) sent += copyOut(ctx, pkt, up, dst, ttl, c);
  for (const [ifindex, db] of topo.databases) {
    // RFC 4605 §4.2: by subscription, and only where we are the querier: a
    // second proxy on the LAN would otherwise send every datagram twice.
    if (ifindex === inIf.index || !db.forwards(dst, src) || !topo.isQuerier(ifindex)) continue;
    sent += copyOut(ctx, pkt, ifindex, dst, ttl, c);
  }
  if (sent === 0) c.noMembers.value++;
}

/** One copy out of `ifindex` with the TTL / hop limit one lower; 1 when sent. */
function copyOut(
  ctx: PluginContext,
  pkt: PacketBuffer,
  ifindex: number,
  dst: IpKey,
  ttl: number,
  c: ForwardCounters,
): number {
  const out = ctx.interfaces.get(ifindex);
  if (out === undefined || !out.up) {
    c.down.value++;
    return 0;
  }
  const len = pkt.end - pkt.l3;
  if (len > out.mtu) {
    c.tooBig.value++;
    return 0;
  }
  // The received buffer is borrowed until receive() returns: copy it.
  const copy = ctx.pool.copyOf(pkt.buf.subarray(pkt.l3, pkt.end));
  const at = copy.start;
  const family = pkt.family === 6 ? 6 : 4;
  if (family === 6) {
    copy.buf[at + 7] = ttl - 1; // IPv6 has no header checksum
  } else {
    const cdv = copy.dv;
    const oldWord = cdv.getUint16(at + 8); // TTL and protocol: one checksum word
    setIpv4Ttl(cdv, at, ttl - 1);
    setIpv4ChecksumField(
      cdv,
      at,
      updateChecksum16(ipv4ChecksumField(cdv, at), oldWord, cdv.getUint16(at + 8)),
    );
  }
  copy.l3 = at;
  copy.family = family;
  copy.srcAt = at + (pkt.srcAt - pkt.l3);
  copy.dstAt = at + (pkt.dstAt - pkt.l3);
  copy.proto = pkt.proto;
  copy.ttl = ttl - 1;
  copy.ifindex = ifindex;
  c.forwarded.value++;
  ctx.linkOutput(ifindex, family, dst, copy);
  return 1;
}
