/**
 * The IGMP plugin, host side: IGMPv3 (RFC 3376) with source filters, and
 * the IGMPv2 (RFC 2236) and IGMPv1 (RFC 1112) compatibility modes of RFC
 * 3376 §7.2.1 while an older querier is heard.
 *
 * @module
 */
import type {
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  RxVerdict,
  StackEvent,
} from "../../manifest.ts";
import { CONSUMED } from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketFlags } from "../../packet_flags.ts";
import { type GroupRecord, packRecords } from "../../ip/multicast_groups.ts";
import { multicastHost } from "../../ip/multicast_host.ts";
import { checkInteger } from "../../validate.ts";
import { isIpv4Multicast } from "../../wire/address.ts";
import {
  checkIgmp,
  IGMP_ALL_ROUTERS,
  IGMP_ALL_SYSTEMS,
  IGMP_ALL_V3_ROUTERS,
  IGMP_IP_HEADER_LEN,
  IGMP_V12_LEN,
  IGMP_V1_REPORT,
  IGMP_V2_LEAVE,
  IGMP_V2_REPORT,
  IGMP_V3_RECORD_LEN,
  IGMP_V3_REPORT_HEADER_LEN,
  igmpGroup,
  igmpMaxRespTime,
  type IgmpRecord,
  igmpV3QueryInterval,
  igmpV3QueryRobustness,
  igmpV3QuerySource,
  igmpV3QuerySourceCount,
  igmpV3ReportLength,
  writeIgmpIpHeader,
  writeIgmpV12,
  writeIgmpV3Report,
} from "../../wire/igmp.ts";
import { IP_PROTOCOL_IGMP } from "../../wire/numbers.ts";

/** An IGMPv1 query has no Max Resp Time: 10 s (RFC 2236 §4). */
const V1_MAX_RESPONSE = 10_000_000;
/** Max Resp Time units: a tenth of a second, in µs. */
const TENTH = 100_000;

/**
 * The IGMP plugin (host side), one of the default plugins (after `ipv4`);
 * it provides `igmp.groups`.
 *
 * @example
 * ```ts
 * import { createStack, VirtualNetwork } from "../../../mod.ts";
 * import type { MulticastGroupsService } from "../../services.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const stack = net.addNode(createStack({ clock: net.clock, seed: 1 }));
 * const iface = stack.addInterface({ driver: net.link().a, addresses: ["10.0.0.1/24"] });
 * const igmp = stack.service<MulticastGroupsService>("igmp.groups")!;
 * assert.equal(igmp.join(iface.index, "239.1.2.3"), true);
 * assert.deepEqual(igmp.list().map((g) => g.group), ["224.0.0.1", "239.1.2.3"]);
 * stack.close();
 * net.close();
 * ```
 */
export const igmpPlugin: ProtocolPlugin = {
  manifest: {
    name: "igmp",
    version: "0.1.0",
    api: "^1.0.0",
    description: "IGMPv3 host reports (RFC 3376) with IGMPv2/v1 compatibility (RFC 2236, RFC 1112)",
    layer: "network",
    dependencies: ["ipv4"],
    binds: [{ table: "ip.protocol", key: IP_PROTOCOL_IGMP, family: 4 }],
    events: ["interface-added", "interface-removed", "link-changed"],
    provides: ["igmp.groups"],
    counters: [
      "rx.wrong_family",
      "rx.truncated",
      "rx.bad_length",
      "rx.bad_checksum",
      "rx.bad_group",
      "rx.unknown_type",
      "rx.bad_ttl",
      "rx.no_router_alert",
      "rx.bad_destination",
      "rx.queries_v1",
      "rx.queries_v2",
      "rx.queries_v3",
      "rx.query_not_member",
      "rx.reports",
      "rx.leaves",
      "rx.suppressed",
      "tx.reports_v3",
      "tx.records",
      "tx.reports_v2",
      "tx.reports_v1",
      "tx.leaves",
      "tx.interface_down",
      "mode.v1",
      "mode.v2",
      "mode.v3",
      "groups.full",
      "groups.sources_full",
    ],
    options: {
      robustness: {
        default: 2,
        description:
          "Robustness Variable (RFC 3376 §8.1): transmissions of each State Change Report",
      },
      unsolicitedReportInterval: {
        default: 1_000_000,
        description: "µs; retransmissions of a State Change Report are random in (0, this] (§8.11)",
      },
      maxGroups: { default: 128, description: "groups per interface (leaving ones included)" },
      maxSources: { default: 64, description: "sources per filter and per interface state" },
      requireRouterAlertV2: {
        default: false,
        description:
          "ignore IGMPv2 queries without Router Alert too (RFC 3376 §9.1); off by default: IGMPv2 routers omit it",
      },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const action = "Cannot set up igmp";
    const robustness = checkInteger(ctx.options.robustness, 1, 7, action, "robustness");
    const uri = checkInteger(
      ctx.options.unsolicitedReportInterval,
      1,
      3_600_000_000,
      action,
      "unsolicitedReportInterval",
    );
    const maxGroups = checkInteger(ctx.options.maxGroups, 2, 65535, action, "maxGroups");
    // 128 sources (520 bytes a record) still fit one report at the minimum MTU of 576.
    const maxSources = checkInteger(ctx.options.maxSources, 0, 128, action, "maxSources");
    const strictV2 = ctx.options.requireRouterAlertV2 as boolean; // the boot checked its type
    const c = {
      queriesV1: ctx.counter("rx.queries_v1"),
      queriesV2: ctx.counter("rx.queries_v2"),
      queriesV3: ctx.counter("rx.queries_v3"),
      notMember: ctx.counter("rx.query_not_member"),
      reportsIn: ctx.counter("rx.reports"),
      leavesIn: ctx.counter("rx.leaves"),
      suppressed: ctx.counter("rx.suppressed"),
      reportsV3: ctx.counter("tx.reports_v3"),
      records: ctx.counter("tx.records"),
      reportsV2: ctx.counter("tx.reports_v2"),
      reportsV1: ctx.counter("tx.reports_v1"),
      leaves: ctx.counter("tx.leaves"),
      down: ctx.counter("tx.interface_down"),
      toV1: ctx.counter("mode.v1"),
      toV2: ctx.counter("mode.v2"),
      toV3: ctx.counter("mode.v3"),
      full: ctx.counter("groups.full"),
      sourcesFull: ctx.counter("groups.sources_full"),
    };
    const host = multicastHost({
      family: 4,
      ctx,
      robustness,
      reportInterval: uri,
      maxGroups,
      maxSources,
      // RFC 3376 §5: 224.0.0.1 is never reported; other 224.0.0.x groups are.
      isReported: (key) => key !== IGMP_ALL_SYSTEMS,
      joinable: (key) => typeof key === "number" && isIpv4Multicast(key),
      filterBit: 1,
      oldestMaxDelay: V1_MAX_RESPONSE,
      counters: {
        modes: { oldest: c.toV1, older: c.toV2, current: c.toV3 },
        notMember: c.notMember,
        suppressed: c.suppressed,
      },
      sendCurrent: sendV3,
      sendOlder(iface, kind, group, mode) {
        const type = kind === "leave"
          ? IGMP_V2_LEAVE
          : mode === "oldest"
          ? IGMP_V1_REPORT
          : IGMP_V2_REPORT;
        sendV12(iface, type, group as number); // IPv4 keys are numbers
      },
      refused: (why) => (why === "groups_full" ? c.full : c.sourcesFull).value++,
    });

    // ---- sending -------------------------------------------------------------

    /** The interface's first IPv4 address, or 0.0.0.0 before it has one (RFC 3376 §4.2.13). */
    function sourceOf(iface: NetInterface): number {
      return iface.ipv4[0]?.address ?? 0;
    }

    /**
     * Sends an IGMP message of `len` bytes written by `write` to `dst`: TTL
     * 1, Router Alert (RFC 3376 §4). Handed to the link, not to routing: it
     * goes out of one given interface, possibly from 0.0.0.0.
     */
    function send(
      iface: NetInterface,
      dst: number,
      len: number,
      write: (b: Uint8Array, at: number) => void,
    ): boolean {
      if (!iface.up) {
        c.down.value++;
        return false;
      }
      const pkt: PacketBuffer = ctx.pool.alloc(IGMP_IP_HEADER_LEN + len);
      const b = pkt.buf;
      const at = pkt.start;
      writeIgmpIpHeader(b, at, len, sourceOf(iface), dst);
      write(b, at + IGMP_IP_HEADER_LEN);
      pkt.l3 = at;
      pkt.family = 4;
      pkt.srcAt = at + 12;
      pkt.dstAt = at + 16;
      pkt.proto = IP_PROTOCOL_IGMP;
      pkt.ttl = 1;
      ctx.linkOutput(iface.index, 4, dst, pkt);
      return true;
    }

    /** Version 3 Reports of `records`, as many as the MTU needs (§4.2.16). */
    function sendV3(iface: NetInterface, records: readonly GroupRecord[]): void {
      const room = Math.max(iface.mtu, 576) - IGMP_IP_HEADER_LEN - IGMP_V3_REPORT_HEADER_LEN;
      for (const part of packRecords(records, room, IGMP_V3_RECORD_LEN, 4)) {
        const recs = part as IgmpRecord[]; // IPv4 keys are numbers
        const len = igmpV3ReportLength(recs);
        if (send(iface, IGMP_ALL_V3_ROUTERS, len, (b, at) => writeIgmpV3Report(b, at, recs))) {
          c.reportsV3.value++;
          c.records.value += recs.length;
        }
      }
    }

    function sendV12(iface: NetInterface, type: number, group: number): void {
      const dst = type === IGMP_V2_LEAVE ? IGMP_ALL_ROUTERS : group;
      if (send(iface, dst, IGMP_V12_LEN, (b, at) => writeIgmpV12(b, at, type, group))) {
        (type === IGMP_V2_LEAVE ? c.leaves : type === IGMP_V1_REPORT ? c.reportsV1 : c.reportsV2)
          .value++;
      }
    }

    // ---- receiving -------------------------------------------------------------

    /**
     * RFC 3376 §9.1: a General Query sent to a group other than 224.0.0.1,
     * and a v3 Query without Router Alert (v2 too with
     * `requireRouterAlertV2`), are ignored; so is any query whose TTL is not
     * 1 (§4, RFC 2236 §2: sent with TTL 1, so never from off the link).
     */
    function badQuery(pkt: PacketBuffer, version: 1 | 2 | 3, group: number): RxVerdict | null {
      if (pkt.ttl !== 1) return "bad_ttl";
      const dst = pkt.dstKey() as number;
      if (group === 0 && isIpv4Multicast(dst) && dst !== IGMP_ALL_SYSTEMS) return "bad_destination";
      const alert = (pkt.flags & PacketFlags.ROUTER_ALERT) !== 0;
      if (!alert && (version === 3 || (version === 2 && strictV2))) return "no_router_alert";
      return null;
    }

    function query(pkt: PacketBuffer, iface: NetInterface, version: 1 | 2 | 3): RxVerdict {
      const b = pkt.buf;
      const off = pkt.start;
      const group = igmpGroup(b, off);
      if (group !== 0 && !isIpv4Multicast(group)) return "bad_group";
      const bad = badQuery(pkt, version, group);
      if (bad !== null) return bad;
      (version === 1 ? c.queriesV1 : version === 2 ? c.queriesV2 : c.queriesV3).value++;
      const v3 = version === 3;
      host.heardQuery(iface, {
        version: version === 1 ? "oldest" : version === 2 ? "older" : "current",
        group: group === 0 ? null : group,
        maxDelay: version === 1 ? V1_MAX_RESPONSE : igmpMaxRespTime(b, off, version) * TENTH,
        robustness: v3 ? igmpV3QueryRobustness(b, off) : 0,
        queryInterval: v3 ? igmpV3QueryInterval(b, off) * 1_000_000 : 0,
        sources() {
          const sources: number[] = [];
          for (let i = 0, n = igmpV3QuerySourceCount(b, off); i < n; i++) {
            sources.push(igmpV3QuerySource(b, off, i));
          }
          return sources;
        },
      });
      return CONSUMED;
    }

    /** Another host's v1/v2 Report: in an older mode ours for that group is suppressed (RFC 2236 §3). */
    function otherReport(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      if (pkt.ttl !== 1) return "bad_ttl"; // it could silence ours: only from the link (§9.2)
      c.reportsIn.value++;
      host.heardOlderReport(iface, igmpGroup(pkt.buf, pkt.start));
      return CONSUMED;
    }

    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      // `ip.protocol` is shared with IPv6, where 2 is not IGMP's number.
      if (pkt.family !== 4) return "wrong_family";
      const kind = checkIgmp(pkt.buf, pkt.start, pkt.end);
      switch (kind) {
        case "query_v1":
          return query(pkt, rx.iface, 1);
        case "query_v2":
          return query(pkt, rx.iface, 2);
        case "query_v3":
          return query(pkt, rx.iface, 3);
        case "report_v1":
        case "report_v2":
          return otherReport(pkt, rx.iface);
        case "report_v3":
          c.reportsIn.value++; // for routers: hosts do not suppress v3 reports
          return CONSUMED;
        case "leave_v2":
          c.leavesIn.value++;
          return CONSUMED;
        case "unknown":
          return "unknown_type";
        default:
          return kind;
      }
    }

    // ---- events ---------------------------------------------------------------------

    /** The stack's own membership: 224.0.0.1 on every interface (RFC 1112 §4). */
    function adopt(iface: NetInterface): void {
      host.adopt(iface);
      if (!host.table.isMember(iface.index, IGMP_ALL_SYSTEMS)) {
        host.table.holdStack(iface.index, IGMP_ALL_SYSTEMS, robustness, ctx.now());
      }
    }

    function onEvent(ev: StackEvent): void {
      switch (ev.type) {
        case "interface-added":
          adopt(ev.iface as NetInterface);
          break;
        case "interface-removed":
          host.interfaceRemoved(ev.iface as NetInterface);
          break;
        case "link-changed":
          host.linkChanged(ev.iface as NetInterface);
          break;
        default:
          return;
      }
      host.schedule();
    }

    return {
      receive,
      services: { "igmp.groups": host.service },
      ready() {
        for (const iface of ctx.interfaces.list()) adopt(iface);
        host.schedule();
      },
      onEvent,
      teardown: host.teardown,
    };
  },
};
