/**
 * The IGMP plugin, host side: IGMPv3 (RFC 3376) with source filters, and
 * the IGMPv2 (RFC 2236) and IGMPv1 (RFC 1112) compatibility modes of RFC
 * 3376 §7.2.1 while an older querier is heard.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
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
import { type PacketBuffer, PacketFlags } from "../../packet.ts";
import {
  earliest,
  type GroupRecord,
  type InterfaceGroups,
  isListeningFilter,
  MulticastGroupTable,
  multicastMac,
  NEVER,
  packRecords,
} from "../../ip/multicast_groups.ts";
import { multicastGroupsService } from "../../ip/multicast_service.ts";
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
import type { IpKey } from "../../wire/ip_address.ts";
import { IP_PROTOCOL_IGMP } from "../../wire/numbers.ts";

/** The Query Interval until a querier says otherwise (RFC 3376 §8.2), µs. */
const DEFAULT_QUERY_INTERVAL = 125_000_000;
/** An IGMPv1 query has no Max Resp Time: 10 s (RFC 2236 §4). */
const V1_MAX_RESPONSE = 10_000_000;
/** Max Resp Time units: a tenth of a second, in µs. */
const TENTH = 100_000;

/** Older-version state of one interface (RFC 3376 §7.2.1). */
interface Compat {
  /** Until when an IGMPv1 querier is present, or NEVER. */
  v1Until: Instant;
  /** Until when an IGMPv2 querier is present, or NEVER. */
  v2Until: Instant;
  /** The Robustness Variable in force (ours, or the querier's QRV, §8.1). */
  robustness: number;
  /** The Query Interval in force, µs (§8.2, the querier's QQI). */
  queryInterval: number;
  /** IGMPv2 Leaves still to send (RFC 2236 §3). */
  leaves: IpKey[];
}

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
    const compat = new Map<number, Compat>();
    const table = new MulticastGroupTable({
      maxGroups,
      maxSources,
      // RFC 3376 §5: 224.0.0.1 is never reported; other 224.0.0.x groups are.
      isReported: (key) => key !== IGMP_ALL_SYSTEMS,
      onListening,
    });
    const timer = ctx.timer(fire);

    function compatOf(ifindex: number): Compat {
      let k = compat.get(ifindex);
      if (k === undefined) {
        k = {
          v1Until: NEVER,
          v2Until: NEVER,
          robustness,
          queryInterval: DEFAULT_QUERY_INTERVAL,
          leaves: [],
        };
        compat.set(ifindex, k);
      }
      return k;
    }

    /** The Host Compatibility Mode (§7.2.1). */
    function modeOf(k: Compat): 1 | 2 | 3 {
      return k.v1Until !== NEVER ? 1 : k.v2Until !== NEVER ? 2 : 3;
    }

    function schedule(): void {
      let at = NEVER;
      for (const s of table.interfaces()) {
        at = earliest(at, table.nextDue(s));
        const k = compat.get(s.ifindex);
        if (k === undefined) continue;
        at = earliest(earliest(at, k.v1Until), k.v2Until);
        if (k.leaves.length > 0) at = earliest(at, ctx.now());
      }
      if (at === NEVER) timer.cancel();
      else timer.arm(at);
    }

    /** A random instant in (now, now + max] (§5.1's retransmission interval). */
    function after(max: number): Instant {
      return ctx.now() + ctx.rng.range(1, max);
    }

    // ---- older versions: joins and leaves are v1/v2 Reports and v2 Leaves ------

    /** The link's multicast filter bit this table owns (NetInterface.multicastFilter). */
    const FILTER_BIT = 1;

    /** The table says an interface started or stopped listening to a group. */
    function onListening(ifindex: number, key: IpKey, listening: boolean): void {
      // The link accepts the group's MAC while some group mapping to it is held.
      const iface = ctx.interfaces.get(ifindex);
      if (iface !== undefined) {
        if (listening) iface.addLinkMulticast(multicastMac(key));
        else iface.removeLinkMulticast(multicastMac(key));
      }
      const k = compat.get(ifindex);
      if (k === undefined || modeOf(k) === 3 || key === IGMP_ALL_SYSTEMS) return;
      const g = table.interface(ifindex)?.groups.get(key);
      if (g === undefined) return;
      if (listening) {
        // RFC 2236 §3: an unsolicited Report at once, repeated.
        g.compatReportsLeft = k.robustness;
        g.reportAt = ctx.now();
        g.lastReporter = false;
      } else if (modeOf(k) === 2 && g.lastReporter) {
        k.leaves.push(key); // RFC 2236 §3: only the last reporter needs to leave
      }
    }

    /** After a service change: in an older mode no v3 records go out. */
    function changed(ifindex: number, _group: IpKey): void {
      const k = compat.get(ifindex);
      const s = table.interface(ifindex);
      if (k !== undefined && s !== undefined && modeOf(k) !== 3) table.clearChanges(s);
      schedule();
    }

    /** RFC 3376 §7.2.1: moving to an older mode cancels every pending v3 transmission. */
    function olderQuerier(s: InterfaceGroups, k: Compat, version: 1 | 2, until: Instant): void {
      const was = modeOf(k);
      if (version === 1) k.v1Until = until;
      else k.v2Until = until;
      const now = modeOf(k);
      if (now === was) return;
      (now === 1 ? c.toV1 : c.toV2).value++;
      table.cancelPending(s);
      table.clearChanges(s);
      if (now === 1) k.leaves.length = 0; // IGMPv1 has no Leave
      for (const g of s.groups.values()) g.lastReporter = false;
    }

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

    // ---- timers ----------------------------------------------------------------

    function fire(now: Instant): void {
      for (const s of [...table.interfaces()]) {
        const iface = ctx.interfaces.get(s.ifindex);
        if (iface === undefined) {
          table.remove(s.ifindex);
          compat.delete(s.ifindex);
          continue;
        }
        const k = compatOf(s.ifindex);
        const was = modeOf(k);
        if (k.v1Until !== NEVER && k.v1Until <= now) k.v1Until = NEVER;
        if (k.v2Until !== NEVER && k.v2Until <= now) k.v2Until = NEVER;
        const mode = modeOf(k);
        if (mode !== was) {
          // Back to a newer version: the older version's timers go (§7.2.1).
          table.cancelPending(s);
          k.leaves.length = 0;
          if (mode === 3) c.toV3.value++;
          else c.toV2.value++;
        }
        if (mode === 3) fireV3(s, iface, now);
        else fireOlder(s, k, iface, now, mode);
      }
      schedule();
    }

    function fireV3(s: InterfaceGroups, iface: NetInterface, now: Instant): void {
      if (s.changeAt !== NEVER && s.changeAt <= now) {
        const { records, more } = table.takeChangeRecords(s);
        s.changeAt = more ? after(uri) : NEVER;
        if (records.length > 0) sendV3(iface, records);
      }
      if (s.generalAt !== NEVER && s.generalAt <= now) {
        s.generalAt = NEVER;
        const records = table.currentStateRecords(s);
        if (records.length > 0) sendV3(iface, records);
      }
      const answers = table.takeGroupAnswers(s, now);
      if (answers.length > 0) sendV3(iface, answers);
    }

    function fireOlder(
      s: InterfaceGroups,
      k: Compat,
      iface: NetInterface,
      now: Instant,
      mode: 1 | 2,
    ): void {
      for (const key of k.leaves) sendV12(iface, IGMP_V2_LEAVE, key as number);
      k.leaves.length = 0;
      for (const g of s.groups.values()) {
        if (g.reportAt === NEVER || g.reportAt > now) continue;
        g.reportAt = NEVER;
        if (!g.reported || !isListeningFilter(g.state)) continue;
        sendV12(iface, mode === 1 ? IGMP_V1_REPORT : IGMP_V2_REPORT, g.key as number);
        g.lastReporter = true;
        if (g.compatReportsLeft > 0) g.compatReportsLeft--;
        if (g.compatReportsLeft > 0) g.reportAt = after(uri);
      }
    }

    // ---- receiving -------------------------------------------------------------

    /** Older-version answers (RFC 2236 §3): a timer per group, only ever made earlier. */
    function answerOlder(s: InterfaceGroups, group: number, maxDelay: number): void {
      const now = ctx.now();
      let found = false;
      for (const g of s.groups.values()) {
        if (!g.reported || !isListeningFilter(g.state) || (group !== 0 && g.key !== group)) {
          continue;
        }
        found = true;
        const at = now + ctx.rng.range(0, maxDelay);
        if (g.reportAt === NEVER || g.reportAt > at) g.reportAt = at;
      }
      if (!found && group !== 0) c.notMember.value++;
    }

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
      const s = table.ensure(iface.index);
      const k = compatOf(iface.index);
      const now = ctx.now();
      (version === 1 ? c.queriesV1 : version === 2 ? c.queriesV2 : c.queriesV3).value++;
      let maxDelay = version === 1 ? V1_MAX_RESPONSE : igmpMaxRespTime(b, off, version) * TENTH;
      if (version === 3) {
        const qrv = igmpV3QueryRobustness(b, off);
        if (qrv !== 0) k.robustness = qrv; // §8.1: the querier's value, when it gives one
        const qqi = igmpV3QueryInterval(b, off);
        if (qqi !== 0) k.queryInterval = qqi * 1_000_000;
      } else {
        // §8.12: Older Version Querier Present Timeout.
        olderQuerier(s, k, version, now + k.robustness * k.queryInterval + maxDelay);
      }
      const mode = modeOf(k);
      if (mode !== 3) {
        // An older mode answers every query the older way (a v3 query too, as Linux does).
        if (mode === 1) maxDelay = V1_MAX_RESPONSE;
        answerOlder(s, mode === 1 ? 0 : group, maxDelay);
      } else {
        const at = now + ctx.rng.range(0, maxDelay);
        if (group === 0) {
          table.scheduleAnswer(s, at);
        } else {
          const n = igmpV3QuerySourceCount(b, off);
          const sources: number[] = [];
          for (let i = 0; i < n; i++) sources.push(igmpV3QuerySource(b, off, i));
          if (!table.scheduleAnswer(s, at, group, sources)) c.notMember.value++;
        }
      }
      schedule();
      return CONSUMED;
    }

    /** Another host's v1/v2 Report: in an older mode ours for that group is suppressed (RFC 2236 §3). */
    function otherReport(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      if (pkt.ttl !== 1) return "bad_ttl"; // it could silence ours: only from the link (§9.2)
      c.reportsIn.value++;
      const k = compat.get(iface.index);
      if (k === undefined || modeOf(k) === 3) return CONSUMED; // v3 hosts never suppress (§5)
      const g = table.interface(iface.index)?.groups.get(igmpGroup(pkt.buf, pkt.start));
      if (g !== undefined && g.reportAt !== NEVER) {
        g.reportAt = NEVER;
        g.compatReportsLeft = 0;
        g.lastReporter = false;
        c.suppressed.value++;
        schedule();
      }
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

    // ---- the service and events ---------------------------------------------------

    const service = multicastGroupsService({
      family: 4,
      table,
      interfaces: ctx.interfaces,
      joinable: (key) => typeof key === "number" && isIpv4Multicast(key),
      robustness: (ifindex) => compat.get(ifindex)?.robustness ?? robustness,
      now: () => ctx.now(),
      changed,
      refused: (why) => (why === "groups_full" ? c.full : c.sourcesFull).value++,
    });

    /** The stack's own membership: 224.0.0.1 on every interface (RFC 1112 §4). */
    function adopt(iface: NetInterface): void {
      compatOf(iface.index);
      iface.multicastFilter |= FILTER_BIT; // the link now filters this family's multicast MACs
      if (!table.isMember(iface.index, IGMP_ALL_SYSTEMS)) {
        table.holdStack(iface.index, IGMP_ALL_SYSTEMS, robustness, ctx.now());
      }
    }

    function onEvent(ev: StackEvent): void {
      switch (ev.type) {
        case "interface-added":
          adopt(ev.iface as NetInterface);
          break;
        case "interface-removed": {
          const iface = ev.iface as NetInterface;
          table.remove(iface.index);
          compat.delete(iface.index);
          break;
        }
        case "link-changed": {
          const iface = ev.iface as NetInterface;
          const s = table.interface(iface.index);
          const k = compat.get(iface.index);
          if (s === undefined || k === undefined) break;
          if (!iface.up) {
            table.cancelPending(s);
            table.clearChanges(s);
            k.leaves.length = 0;
          } else if (modeOf(k) === 3) {
            table.reannounce(s, k.robustness, ctx.now()); // back up: announce again, as after a join
          } else {
            for (const g of s.groups.values()) {
              if (!g.reported || !isListeningFilter(g.state)) continue;
              g.compatReportsLeft = k.robustness;
              g.reportAt = ctx.now();
            }
          }
          break;
        }
        default:
          return;
      }
      schedule();
    }

    return {
      receive,
      services: { "igmp.groups": service },
      ready() {
        for (const iface of ctx.interfaces.list()) adopt(iface);
        schedule();
      },
      onEvent,
      teardown() {
        timer.cancel();
        for (const s of [...table.interfaces()]) table.remove(s.ifindex);
        for (const iface of ctx.interfaces.list()) iface.multicastFilter &= ~FILTER_BIT;
        compat.clear();
      },
    };
  },
};
