/**
 * The MLD plugin, host side: MLDv2 (RFC 3810) with source filters and
 * MLDv1 compatibility (RFC 2710, RFC 3810 §8) for the groups the stack and
 * its sockets listen to, over the shared group table
 * (`stack/ip/multicast_groups.ts`).
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
import { isUsableIpv6, type NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketFlags } from "../../packet_flags.ts";
import { type GroupRecord, packRecords } from "../../ip/multicast_groups.ts";
import { multicastHost } from "../../ip/multicast_host.ts";
import { checkInteger } from "../../validate.ts";
import {
  ICMPV6_MLD2_REPORT,
  ICMPV6_MLD_DONE,
  ICMPV6_MLD_QUERY,
  ICMPV6_MLD_REPORT,
  setIcmpv6Checksum,
} from "../../wire/icmpv6.ts";
import { IpAddress, type IpKey } from "../../wire/ip_address.ts";
import { IPV6_HEADER_LEN, writeIpv6Header } from "../../wire/ipv6.ts";
import { IPV6_HOP_BY_HOP } from "../../wire/ipv6_ext.ts";
import { solicitedNodeKey } from "../../wire/ipv6_scope.ts";
import {
  checkMldQuery,
  MLD_HOP_BY_HOP_LEN,
  MLD_V1_LEN,
  MLD_V2_RECORD_LEN,
  MLD_V2_REPORT_HEADER_LEN,
  mldGroupKey,
  mldMaxResponseDelay,
  mldQueryInterval,
  mldQueryRobustness,
  mldQuerySource,
  mldQuerySources,
  mldV2ReportLength,
  writeMldHopByHop,
  writeMldV1,
  writeMldV2Report,
} from "../../wire/mld.ts";
import { isReported } from "./_state.ts";

const UNSPECIFIED: IpKey = "\0\0\0\0\0\0\0\0";
const ALL_NODES: IpKey = IpAddress.parse("ff02::1")!.key;
const ALL_ROUTERS: IpKey = IpAddress.parse("ff02::2")!.key;
/** Where MLDv2 reports go (RFC 3810 §5.2.14). */
const ALL_MLDV2_ROUTERS: IpKey = IpAddress.parse("ff02::16")!.key;
/** Headers before the MLD message: IPv6 and the Hop-by-Hop Router Alert. */
const HEADERS = IPV6_HEADER_LEN + MLD_HOP_BY_HOP_LEN;
function isLinkLocal(key: IpKey): boolean {
  return ((key as string).charCodeAt(0) & 0xffc0) === 0xfe80;
}

/**
 * The MLD plugin (host side), one of the default plugins (after `ipv6`,
 * `icmpv6` and `ndp`); it provides `mld.groups`.
 *
 * @example
 * ```ts
 * import { createStack, VirtualNetwork } from "../../../mod.ts";
 * import type { MulticastGroupsService } from "../../services.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const stack = net.addNode(createStack({ clock: net.clock, seed: 1 }));
 * const iface = stack.addInterface({ driver: net.link({ linkType: 101 }).a, addresses: ["fd00::1/64"] });
 * const mld = stack.service<MulticastGroupsService>("mld.groups")!;
 * assert.deepEqual(mld.list().map((g) => g.group), ["ff02::1", "ff02::1:ff00:1"]);
 * assert.equal(mld.join(iface.index, "ff02::fb"), true);
 * stack.close();
 * net.close();
 * ```
 */
export const mldPlugin: ProtocolPlugin = {
  manifest: {
    name: "mld",
    version: "0.2.0",
    api: "^1.0.0",
    description: "MLDv2 host reports (RFC 3810) with MLDv1 compatibility (RFC 2710)",
    layer: "network",
    dependencies: ["icmpv6"],
    binds: [
      { table: "icmpv6.message", key: ICMPV6_MLD_QUERY },
      { table: "icmpv6.message", key: ICMPV6_MLD_REPORT },
      { table: "icmpv6.message", key: ICMPV6_MLD_DONE },
      { table: "icmpv6.message", key: ICMPV6_MLD2_REPORT },
    ],
    events: [
      "interface-added",
      "interface-removed",
      "link-changed",
      "address-added",
      "address-removed",
      "address-changed",
    ],
    provides: ["mld.groups"],
    counters: [
      "rx.truncated",
      "rx.bad_length",
      "rx.bad_source",
      "rx.bad_hop_limit",
      "rx.no_router_alert",
      "rx.bad_group",
      "rx.queries_v1",
      "rx.queries_v2",
      "rx.query_not_member",
      "rx.reports_v1",
      "rx.reports_v2",
      "rx.done",
      "rx.suppressed",
      "tx.reports_v2",
      "tx.records",
      "tx.reports_v1",
      "tx.done",
      "tx.interface_down",
      "mode.v1",
      "mode.v2",
      "groups.full",
      "groups.sources_full",
    ],
    options: {
      robustness: {
        default: 2,
        description:
          "Robustness Variable (RFC 3810 §9.1): transmissions of each State Change Report",
      },
      unsolicitedReportInterval: {
        default: 1_000_000,
        description: "µs; retransmissions of a State Change Report are random in (0, this] (§9.11)",
      },
      maxGroups: { default: 128, description: "groups per interface (leaving ones included)" },
      maxSources: { default: 64, description: "sources per filter and per interface state" },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const action = "Cannot set up mld";
    const robustness = checkInteger(ctx.options.robustness, 1, 7, action, "robustness");
    const uri = checkInteger(
      ctx.options.unsolicitedReportInterval,
      1,
      3_600_000_000,
      action,
      "unsolicitedReportInterval",
    );
    const maxGroups = checkInteger(ctx.options.maxGroups, 2, 65535, action, "maxGroups");
    // 64 sources (1044 bytes a record) still fit one report at the minimum MTU of 1280.
    const maxSources = checkInteger(ctx.options.maxSources, 0, 64, action, "maxSources");
    const c = {
      queriesV1: ctx.counter("rx.queries_v1"),
      queriesV2: ctx.counter("rx.queries_v2"),
      notMember: ctx.counter("rx.query_not_member"),
      reportsV1In: ctx.counter("rx.reports_v1"),
      reportsV2In: ctx.counter("rx.reports_v2"),
      doneIn: ctx.counter("rx.done"),
      suppressed: ctx.counter("rx.suppressed"),
      reportsV2: ctx.counter("tx.reports_v2"),
      records: ctx.counter("tx.records"),
      reportsV1: ctx.counter("tx.reports_v1"),
      done: ctx.counter("tx.done"),
      down: ctx.counter("tx.interface_down"),
      toV1: ctx.counter("mode.v1"),
      toV2: ctx.counter("mode.v2"),
      full: ctx.counter("groups.full"),
      sourcesFull: ctx.counter("groups.sources_full"),
    };
    const host = multicastHost({
      family: 6,
      ctx,
      robustness,
      reportInterval: uri,
      maxGroups,
      maxSources,
      isReported,
      // A multicast address of a scope (not the reserved scope 0).
      joinable: (key) => {
        const w0 = typeof key === "string" ? key.charCodeAt(0) : 0;
        return w0 >> 8 === 0xff && (w0 & 0xf) !== 0;
      },
      filterBit: 2,
      counters: {
        modes: { older: c.toV1, current: c.toV2 },
        notMember: c.notMember,
        suppressed: c.suppressed,
      },
      sendCurrent: sendV2,
      sendOlder: (iface, kind, group) =>
        sendV1(iface, kind === "leave" ? ICMPV6_MLD_DONE : ICMPV6_MLD_REPORT, group),
      refused(why) {
        const counter = why === "groups_full" ? c.full : c.sourcesFull;
        if (counter.value++ === 0) ctx.log.warn(`group table refused a change: ${why}`);
      },
    });
    const table = host.table;

    // ---- the stack's own groups ---------------------------------------------------

    /** The stack's groups of `iface`: all-nodes, and solicited-node per address not duplicate. */
    function syncAddresses(iface: NetInterface): void {
      const s = host.adopt(iface);
      const want = new Map<IpKey, number>();
      for (const a of iface.ipv6) {
        // RFC 4862 §5.4.2: joined while tentative (before DAD's NS); a duplicate one is not ours.
        if (a.state === "duplicate") continue;
        const k = solicitedNodeKey(IpAddress.v6(a.address).key);
        want.set(k, (want.get(k) ?? 0) + 1);
      }
      want.set(ALL_NODES, (want.get(ALL_NODES) ?? 0) + 1);
      const r = host.robustnessOf(iface.index);
      const now = ctx.now();
      for (const g of [...s.groups.values()]) {
        const n = want.get(g.key) ?? 0;
        while (g.stackRefs > n) table.releaseStack(iface.index, g.key, r, now);
      }
      for (const [key, n] of want) {
        for (let have = s.groups.get(key)?.stackRefs ?? 0; have < n; have++) {
          const res = table.holdStack(iface.index, key, r, now);
          if (typeof res === "string") {
            if (c.full.value++ === 0) {
              ctx.log.warn(`group table of interface ${iface.index} is full (${maxGroups})`);
            }
            break;
          }
        }
      }
      host.changed(iface.index);
    }

    // ---- sending -------------------------------------------------------------

    /** Our link-local address on `iface` if usable, else `::` (RFC 3810 §5.2.13). */
    function sourceOf(iface: NetInterface): IpKey {
      for (const a of iface.ipv6) {
        if (a.address[0] === 0xfe && (a.address[1]! & 0xc0) === 0x80 && isUsableIpv6(a)) {
          return IpAddress.v6(a.address).key;
        }
      }
      return UNSPECIFIED;
    }

    /**
     * Sends an MLD message of `len` bytes written by `write` to `dst`: hop
     * limit 1, Hop-by-Hop Router Alert (RFC 3810 §5). Written here and
     * handed to the link, not to `ipv6.route`: it goes out of one given
     * interface, possibly from `::`, which routing and source selection do not do.
     */
    function send(
      iface: NetInterface,
      dst: IpKey,
      len: number,
      write: (b: Uint8Array, at: number) => void,
    ): boolean {
      if (!iface.up) {
        c.down.value++;
        return false;
      }
      const pkt: PacketBuffer = ctx.pool.alloc(HEADERS + len);
      const b = pkt.buf;
      const at = pkt.start;
      writeIpv6Header(b, at, MLD_HOP_BY_HOP_LEN + len, IPV6_HOP_BY_HOP, 1, sourceOf(iface), dst);
      writeMldHopByHop(b, at + IPV6_HEADER_LEN);
      write(b, at + HEADERS);
      setIcmpv6Checksum(b, at, at + HEADERS, at + HEADERS + len);
      pkt.l3 = at;
      pkt.family = 6;
      pkt.srcAt = at + 8;
      pkt.dstAt = at + 24;
      pkt.proto = IPV6_HOP_BY_HOP;
      ctx.linkOutput(iface.index, 6, dst, pkt);
      return true;
    }

    /** Version 2 Reports of `records`, as many as the MTU needs (RFC 3810 §5.2.15). */
    function sendV2(iface: NetInterface, records: readonly GroupRecord[]): void {
      const room = Math.max(iface.mtu, 1280) - HEADERS - MLD_V2_REPORT_HEADER_LEN;
      for (const recs of packRecords(records, room, MLD_V2_RECORD_LEN, 16)) {
        const len = mldV2ReportLength(recs);
        if (send(iface, ALL_MLDV2_ROUTERS, len, (b, at) => writeMldV2Report(b, at, recs))) {
          c.reportsV2.value++;
          c.records.value += recs.length;
        }
      }
    }

    function sendV1(iface: NetInterface, type: number, group: IpKey): void {
      const dst = type === ICMPV6_MLD_DONE ? ALL_ROUTERS : group;
      if (send(iface, dst, MLD_V1_LEN, (b, at) => writeMldV1(b, at, type, group))) {
        (type === ICMPV6_MLD_DONE ? c.done : c.reportsV1).value++;
      }
    }

    // ---- receiving -------------------------------------------------------------

    let warnedSource = false;

    /** RFC 3810 §6.2 (RFC 2710 §3): link-local source, hop limit 1, Router Alert; else dropped. */
    function badMessage(pkt: PacketBuffer): RxVerdict | null {
      if (!isLinkLocal(pkt.srcKey())) return "bad_source";
      if (pkt.ttl !== 1) return "bad_hop_limit";
      if ((pkt.flags & PacketFlags.ROUTER_ALERT) === 0) return "no_router_alert";
      return null;
    }

    function query(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      const b = pkt.buf;
      const off = pkt.start;
      const version = checkMldQuery(b, off, pkt.end);
      if (typeof version === "string") return version;
      const bad = badMessage(pkt);
      if (bad === "bad_source" && !warnedSource) {
        // RFC 3810 §5.1.14: discarded, and SHOULD be logged (once here: a forger could flood).
        warnedSource = true;
        ctx.log.warn(
          `ignored an MLD query from ${IpAddress.fromKey(pkt.srcKey())}: not link-local`,
        );
      }
      if (bad !== null) return bad;
      const group = mldGroupKey(b, off);
      const general = group === UNSPECIFIED;
      if (!general && (group as string).charCodeAt(0) >> 8 !== 0xff) return "bad_group";
      const v2 = version === 2;
      (v2 ? c.queriesV2 : c.queriesV1).value++;
      host.heardQuery(iface, {
        version: v2 ? "current" : "older",
        group: general ? null : group,
        maxDelay: mldMaxResponseDelay(b, off, version) * 1000,
        robustness: v2 ? mldQueryRobustness(b, off) : 0,
        queryInterval: v2 ? mldQueryInterval(b, off) * 1_000_000 : 0,
        sources() {
          const sources: IpKey[] = [];
          for (let i = 0, n = v2 ? mldQuerySources(b, off) : 0; i < n; i++) {
            sources.push(mldQuerySource(b, off, i));
          }
          return sources;
        },
      });
      return CONSUMED;
    }

    /** Another node's MLDv1 Report: in MLDv1 mode ours for that group is suppressed (RFC 2710 §4). */
    function reportV1(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      if (pkt.end - pkt.start < MLD_V1_LEN) return "truncated";
      const bad = badMessage(pkt); // a report may silence ours: only from the link
      if (bad !== null) return bad;
      c.reportsV1In.value++;
      host.heardOlderReport(iface, mldGroupKey(pkt.buf, pkt.start));
      return CONSUMED;
    }

    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      if (pkt.end - pkt.start < 8) return "truncated";
      switch (pkt.buf[pkt.start]) {
        case ICMPV6_MLD_QUERY:
          return query(pkt, rx.iface);
        case ICMPV6_MLD_REPORT:
          return reportV1(pkt, rx.iface);
        case ICMPV6_MLD_DONE:
          c.doneIn.value++; // for routers
          return CONSUMED;
        default:
          c.reportsV2In.value++; // for routers: hosts do not suppress MLDv2 reports (§6)
          return CONSUMED;
      }
    }

    // ---- events ---------------------------------------------------------------------

    function onEvent(ev: StackEvent): void {
      switch (ev.type) {
        case "interface-added":
          syncAddresses(ev.iface as NetInterface);
          break;
        case "interface-removed":
          host.interfaceRemoved(ev.iface as NetInterface);
          break;
        case "link-changed":
          host.linkChanged(ev.iface as NetInterface);
          break;
        case "address-added":
        case "address-removed":
        case "address-changed":
          if ((ev as { family: number }).family !== 6) return;
          syncAddresses(ev.iface as NetInterface);
          break;
        default:
          return;
      }
      host.schedule();
    }

    return {
      receive,
      services: { "mld.groups": host.service },
      ready() {
        for (const iface of ctx.interfaces.list()) syncAddresses(iface);
        host.schedule();
      },
      onEvent,
      teardown: host.teardown,
    };
  },
};
