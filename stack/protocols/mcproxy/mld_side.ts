/**
 * The proxy's MLD side (IPv6): reads the listeners' messages heard on a
 * downstream interface into the family's database (MLDv2 records as they
 * are; MLDv1 Reports as IS_EX({}) and Dones as TO_IN({}), RFC 3810 §8.3.2),
 * hears other queriers, and writes MLDv2 queries (hop limit 1, Router
 * Alert in a Hop-by-Hop header, from the interface's link-local address,
 * RFC 3810 §5.1.14).
 *
 * @module
 */
import type { Counter } from "../../counters.ts";
import type { PluginContext } from "../../manifest.ts";
import { isUsableIpv6 } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import { GroupRecordType } from "../../ip/multicast_groups.ts";
import { setIcmpv6Checksum, verifyIcmpv6Checksum } from "../../wire/icmpv6.ts";
import { IpAddress, type IpKey, ipKeyAt } from "../../wire/ip_address.ts";
import { IPV6_HEADER_LEN, writeIpv6Header } from "../../wire/ipv6.ts";
import { Ipv6Chain, walkIpv6Chain } from "../../wire/ipv6_chain.ts";
import { IPV6_HOP_BY_HOP } from "../../wire/ipv6_ext.ts";
import {
  checkMldQuery,
  MLD_HOP_BY_HOP_LEN,
  mldGroupKey,
  mldQuerySource,
  mldQuerySources,
  writeMldHopByHop,
} from "../../wire/mld.ts";
import { mldV2QueryLength, mldV2Records, writeMldV2Query } from "../../wire/mld_query.ts";
import type { FamilyIo, ProxyFamily, ProxyParameters } from "./proxy_family.ts";

const SECOND = 1_000_000;
const HEADERS = IPV6_HEADER_LEN + MLD_HOP_BY_HOP_LEN;
const ALL_NODES: IpKey = IpAddress.parse("ff02::1")!.key;

/**
 * Whether an IPv6 group has interface- or link-local scope (ff01::/16,
 * ff02::/16, RFC 4291 §2.7): never reported by a proxy nor forwarded.
 *
 * @example
 * ```ts
 * import { isIpv6LinkLocalGroup } from "./mld_side.ts";
 * import { IpAddress } from "../../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isIpv6LinkLocalGroup(IpAddress.parse("ff02::fb")!.key), true);
 * assert.equal(isIpv6LinkLocalGroup(IpAddress.parse("ff05::1:3")!.key), false);
 * ```
 */
export function isIpv6LinkLocalGroup(group: IpKey): boolean {
  const first = (group as string).charCodeAt(0);
  return (first >> 8) === 0xff && (first & 0x0f) <= 2;
}

/** The interface's usable link-local address, if any. */
function linkLocalOf(ctx: PluginContext, ifindex: number): IpKey | undefined {
  for (const a of ctx.interfaces.get(ifindex)?.ipv6 ?? []) {
    if (a.address[0] === 0xfe && (a.address[1]! & 0xc0) === 0x80 && isUsableIpv6(a)) {
      return IpAddress.v6(a.address).key;
    }
  }
  return undefined;
}

/**
 * The {@linkcode FamilyIo} of MLD: MLDv2 queries out of an interface.
 *
 * @example
 * ```ts
 * import { mldIo } from "./mld_side.ts";
 * const io = mldIo({} as never, { robustness: 2, queryInterval: 125e6 } as never);
 * console.assert(io.lower("\ufe80\0\0\0\0\0\0\u0001", "\ufe80\0\0\0\0\0\0\u0002"));
 * ```
 */
export function mldIo(ctx: PluginContext, p: ProxyParameters): FamilyIo {
  return {
    address: (ifindex) => linkLocalOf(ctx, ifindex),
    // 8 UTF-16 units, most significant first: string order is address order.
    lower: (a, b) => (a as string) < (b as string),
    sendQuery(ifindex, group, maxResp, suppress, sources) {
      const iface = ctx.interfaces.get(ifindex);
      if (iface === undefined || !iface.up) return "down";
      const src = linkLocalOf(ctx, ifindex);
      if (src === undefined) return "no_address";
      const len = mldV2QueryLength(sources.length);
      const pkt = ctx.pool.alloc(HEADERS + len);
      const b = pkt.buf;
      const at = pkt.start;
      const dst = group ?? ALL_NODES;
      writeIpv6Header(b, at, MLD_HOP_BY_HOP_LEN + len, IPV6_HOP_BY_HOP, 1, src, dst);
      writeMldHopByHop(b, at + IPV6_HEADER_LEN);
      writeMldV2Query(b, at + HEADERS, {
        group,
        maxResponseDelay: Math.floor(maxResp / 1000),
        suppress,
        robustness: p.robustness,
        queryInterval: Math.floor(p.queryInterval / SECOND),
        sources,
      });
      setIcmpv6Checksum(b, at, at + HEADERS, at + HEADERS + len);
      pkt.l3 = at;
      pkt.family = 6;
      pkt.srcAt = at + 8;
      pkt.dstAt = at + 24;
      pkt.proto = IPV6_HOP_BY_HOP;
      pkt.ttl = 1;
      ctx.linkOutput(ifindex, 6, dst, pkt);
      return "sent";
    },
  };
}

/** MLD's message counters. */
export interface MldSideCounters {
  readonly reportsV1: Counter;
  readonly reportsV2: Counter;
  readonly done: Counter;
  readonly linkLocal: Counter;
  readonly badRecord: Counter;
  readonly malformed: Counter;
}

/** Reused by {@linkcode mldIn} (the packet path allocates no walker). */
const chain = new Ipv6Chain();

/**
 * Reads the MLD message of IPv6 packet `pkt` (header at `pkt.l3`) heard on
 * downstream interface `ifindex` into `family`; other packets are left
 * alone. Borrows `pkt`. Returns whether it was MLD.
 *
 * @example
 * ```ts
 * import { mldIn } from "./mld_side.ts";
 * console.assert(typeof mldIn === "function"); // exercised by tests/mcproxy
 * ```
 */
export function mldIn(
  pkt: PacketBuffer,
  ifindex: number,
  family: ProxyFamily,
  now: number,
  c: MldSideCounters,
): boolean {
  const b = pkt.buf;
  if (walkIpv6Chain(b, pkt.l3, pkt.end, chain) !== null || chain.protocol !== 58) return false;
  const off = chain.upperAt;
  const type = pkt.end - off >= 4 ? b[off]! : -1;
  if (type !== 130 && type !== 131 && type !== 132 && type !== 143) return false;
  if (!verifyIcmpv6Checksum(b, pkt.l3, off, pkt.end)) {
    c.malformed.value++;
    return true;
  }
  const record = (group: IpKey, t: number, sources: readonly IpKey[], v: 2 | 3) => {
    if ((group as string).charCodeAt(0) >> 8 !== 0xff) c.badRecord.value++;
    else if (isIpv6LinkLocalGroup(group)) c.linkLocal.value++;
    else family.hostRecord(ifindex, group, t, sources, v, now);
  };
  const end = pkt.end;
  if (type === 143) {
    c.reportsV2.value++;
    const [records, whole] = mldV2Records(b, off, end);
    if (!whole) c.malformed.value++;
    for (const r of records) record(r.group, r.type, r.sources, 3);
    return true;
  }
  if (end - off < 24) {
    c.malformed.value++;
    return true;
  }
  if (type === 131) {
    c.reportsV1.value++; // MLDv1 behaves as IGMPv2 (RFC 3810 §8.3.2)
    record(mldGroupKey(b, off), GroupRecordType.MODE_IS_EXCLUDE, [], 2);
  } else if (type === 132) {
    c.done.value++;
    record(mldGroupKey(b, off), GroupRecordType.CHANGE_TO_INCLUDE, [], 2);
  } else {
    const v = checkMldQuery(b, off, end);
    if (typeof v === "string") {
      c.malformed.value++;
      return true;
    }
    const group = mldGroupKey(b, off);
    const general = (group as string) === "\0\0\0\0\0\0\0\0";
    const sources: IpKey[] = [];
    if (v === 2) {
      for (let i = 0; i < mldQuerySources(b, off); i++) sources.push(mldQuerySource(b, off, i));
    }
    const suppress = v === 2 && (b[off + 24]! & 8) !== 0;
    family.heardQuery(
      ifindex,
      ipKeyAt(b, pkt.srcAt, 6),
      general ? null : group,
      sources,
      suppress,
      now,
    );
  }
  return true;
}
