/**
 * The proxy's IGMP side (IPv4): reads the hosts' messages heard on a
 * downstream interface into the family's database (v3 records as they
 * are; v1/v2 Reports as IS_EX({}) and v2 Leaves as TO_IN({}), RFC 3376
 * §7.3.2), hears other queriers, and writes IGMPv3 queries (TTL 1, Router
 * Alert, from the interface's first address).
 *
 * @module
 */
import type { PluginContext } from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import { GroupRecordType } from "../../ip/multicast_groups.ts";
import { isIpv4Multicast } from "../../wire/address.ts";
import {
  checkIgmp,
  IGMP_ALL_SYSTEMS,
  IGMP_IP_HEADER_LEN,
  igmpGroup,
  igmpV3QuerySource,
  igmpV3QuerySourceCount,
  igmpV3QuerySuppress,
  writeIgmpIpHeader,
} from "../../wire/igmp.ts";
import { igmpV3QueryLength, igmpV3Records, writeIgmpV3Query } from "../../wire/igmp_query.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { IP_PROTOCOL_IGMP } from "../../wire/numbers.ts";
import type { Counter } from "../../counters.ts";
import type { FamilyIo, ProxyFamily, ProxyParameters } from "./proxy_family.ts";

const SECOND = 1_000_000;
/** IGMP's time unit: a tenth of a second, in µs. */
const TENTH = 100_000;

/** IGMP's message counters. */
export interface IgmpSideCounters {
  readonly reportsV1: Counter;
  readonly reportsV2: Counter;
  readonly reportsV3: Counter;
  readonly leaves: Counter;
  readonly linkLocal: Counter;
  readonly badRecord: Counter;
  readonly malformed: Counter;
}

/**
 * Whether an IPv4 group is link-local (224.0.0.0/24, RFC 5771 §4): never
 * reported by a proxy nor forwarded.
 *
 * @example
 * ```ts
 * import { isIpv4LinkLocalGroup } from "./igmp_side.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isIpv4LinkLocalGroup(0xe00000fb), true);
 * assert.equal(isIpv4LinkLocalGroup(0xef010203), false);
 * ```
 */
export function isIpv4LinkLocalGroup(group: number): boolean {
  return (group >>> 8) === 0xe00000;
}

/**
 * The {@linkcode FamilyIo} of IGMP: IGMPv3 queries out of an interface.
 *
 * @example
 * ```ts
 * import { igmpIo } from "./igmp_side.ts";
 * const io = igmpIo({} as never, { robustness: 2, queryInterval: 125e6 } as never);
 * console.assert(io.lower(1, 2));
 * ```
 */
export function igmpIo(ctx: PluginContext, p: ProxyParameters): FamilyIo {
  return {
    address: (ifindex) => ctx.interfaces.get(ifindex)?.ipv4[0]?.address,
    lower: (a, b) => (a as number) < (b as number),
    sendQuery(ifindex, group, maxResp, suppress, sources) {
      const iface = ctx.interfaces.get(ifindex);
      if (iface === undefined || !iface.up) return "down";
      const src = iface.ipv4[0]?.address;
      if (src === undefined) return "no_address"; // a querier is elected by its address
      const len = igmpV3QueryLength(sources.length);
      const pkt = ctx.pool.alloc(IGMP_IP_HEADER_LEN + len);
      const at = pkt.start;
      const dst = group === null ? IGMP_ALL_SYSTEMS : group as number;
      writeIgmpIpHeader(pkt.buf, at, len, src, dst);
      writeIgmpV3Query(pkt.buf, at + IGMP_IP_HEADER_LEN, {
        group: group === null ? 0 : group as number,
        maxRespTime: Math.floor(maxResp / TENTH),
        suppress,
        robustness: p.robustness,
        queryInterval: Math.floor(p.queryInterval / SECOND),
        sources: sources as number[],
      });
      pkt.l3 = at;
      pkt.family = 4;
      pkt.srcAt = at + 12;
      pkt.dstAt = at + 16;
      pkt.proto = IP_PROTOCOL_IGMP;
      pkt.ttl = 1;
      ctx.linkOutput(ifindex, 4, dst, pkt);
      return "sent";
    },
  };
}

/**
 * Reads the IGMP message of IPv4 packet `pkt` (header at `pkt.l3`) heard on
 * downstream interface `ifindex` into `family`. Borrows `pkt`.
 *
 * @example
 * ```ts
 * import { igmpIn } from "./igmp_side.ts";
 * console.assert(typeof igmpIn === "function"); // exercised by tests/mcproxy
 * ```
 */
export function igmpIn(
  pkt: PacketBuffer,
  ifindex: number,
  family: ProxyFamily,
  now: number,
  c: IgmpSideCounters,
): void {
  const b = pkt.buf;
  const off = pkt.l3 + ((b[pkt.l3]! & 0x0f) << 2);
  const kind = checkIgmp(b, off, pkt.end);
  const record = (group: number, type: number, sources: readonly IpKey[], v: 1 | 2 | 3) => {
    // Link-local groups are never reported upstream nor forwarded (RFC 4605 §4).
    if (!isIpv4Multicast(group)) c.badRecord.value++;
    else if (isIpv4LinkLocalGroup(group)) c.linkLocal.value++;
    else family.hostRecord(ifindex, group, type, sources, v, now);
  };
  switch (kind) {
    case "report_v1":
    case "report_v2":
      (kind === "report_v1" ? c.reportsV1 : c.reportsV2).value++;
      record(igmpGroup(b, off), GroupRecordType.MODE_IS_EXCLUDE, [], kind === "report_v1" ? 1 : 2);
      break;
    case "leave_v2":
      c.leaves.value++;
      record(igmpGroup(b, off), GroupRecordType.CHANGE_TO_INCLUDE, [], 2);
      break;
    case "report_v3": {
      c.reportsV3.value++;
      const [records, whole] = igmpV3Records(b, off, pkt.end);
      if (!whole) c.malformed.value++;
      for (const r of records) record(r.group, r.type, r.sources, 3);
      break;
    }
    case "query_v1":
    case "query_v2":
    case "query_v3": {
      const src = pkt.dv.getUint32(pkt.srcAt);
      if (src === 0) break;
      const group = kind === "query_v1" ? 0 : igmpGroup(b, off);
      const sources: number[] = [];
      if (kind === "query_v3") {
        const n = igmpV3QuerySourceCount(b, off);
        for (let i = 0; i < n; i++) sources.push(igmpV3QuerySource(b, off, i));
      }
      const suppress = kind === "query_v3" && igmpV3QuerySuppress(b, off);
      family.heardQuery(ifindex, src, group === 0 ? null : group, sources, suppress, now);
      break;
    }
    case "unknown":
      break;
    default:
      c.malformed.value++;
  }
}
