/**
 * The MLD plugin, host side: MLDv2 (RFC 3810) with source filters and
 * MLDv1 compatibility (RFC 2710, RFC 3810 §8) for the groups the stack and
 * its sockets listen to, over the shared group table
 * (`stack/ip/multicast_groups.ts`).
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
import { isUsableIpv6, type NetInterface } from "../../netif.ts";
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
/** The Query Interval until a querier says otherwise (RFC 3810 §9.2), µs. */
const DEFAULT_QUERY_INTERVAL = 125_000_000;

function isLinkLocal(key: IpKey): boolean {
  return ((key as string).charCodeAt(0) & 0xffc0) === 0xfe80;
}

/** MLDv1-compatibility state of one interface (RFC 3810 §8). */
interface Compat {
  /** Until when an MLDv1 querier is present (MLDv1 mode), or NEVER (MLDv2 mode). */
  v1Until: Instant;
  /** The Robustness Variable in force: ours, or the querier's QRV (§9.1). */
  robustness: number;
  /** The Query Interval in force, µs: 125 s, or the querier's QQI (§9.2). */
  queryInterval: number;
  /** MLDv1 Dones still to send (RFC 2710 §4). */
  dones: IpKey[];
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
    const compat = new Map<number, Compat>();
    const table = new MulticastGroupTable({ maxGroups, maxSources, isReported, onListening });
    const timer = ctx.timer(fire);

    function compatOf(ifindex: number): Compat {
      let k = compat.get(ifindex);
      if (k === undefined) {
        k = { v1Until: NEVER, robustness, queryInterval: DEFAULT_QUERY_INTERVAL, dones: [] };
        compat.set(ifindex, k);
      }
      return k;
    }

    function schedule(): void {
      let at = NEVER;
      for (const s of table.interfaces()) {
        at = earliest(at, table.nextDue(s));
        const k = compat.get(s.ifindex);
        if (k === undefined) continue;
        at = earliest(at, k.v1Until);
        if (k.dones.length > 0) at = earliest(at, ctx.now());
      }
      if (at === NEVER) timer.cancel();
      else timer.arm(at);
    }

    /** A random instant in (now, now + max] (RFC 3810 §6.1's retransmission interval). */
    function after(max: number): Instant {
      return ctx.now() + ctx.rng.range(1, max);
    }

    // ---- MLDv1 mode: joins and leaves are Reports and Dones ----------------------

    /** The link's multicast filter bit this table owns (NetInterface.multicastFilter). */
    const FILTER_BIT = 2;

    /** The table says an interface started or stopped listening to a group. */
    function onListening(ifindex: number, key: IpKey, listening: boolean): void {
      // The link accepts the group's MAC while some group mapping to it is held.
      const iface = ctx.interfaces.get(ifindex);
      if (iface !== undefined) {
        if (listening) iface.addLinkMulticast(multicastMac(key));
        else iface.removeLinkMulticast(multicastMac(key));
      }
      const k = compat.get(ifindex);
      if (k === undefined || k.v1Until === NEVER || !isReported(key)) return;
      const g = table.interface(ifindex)?.groups.get(key);
      if (g === undefined) return;
      if (listening) {
        // RFC 2710 §4: an unsolicited Report at once, then repeated.
        g.compatReportsLeft = k.robustness;
        g.reportAt = ctx.now();
        g.lastReporter = false;
      } else if (g.lastReporter) {
        k.dones.push(key); // RFC 2710 §4: Done only if we sent the last Report
      }
    }

    /** After a change: in MLDv1 mode no MLDv2 records go out. */
    function changed(ifindex: number, _group: IpKey): void {
      const k = compat.get(ifindex);
      const s = table.interface(ifindex);
      if (k !== undefined && s !== undefined && k.v1Until !== NEVER) table.clearChanges(s);
      schedule();
    }

    // ---- the stack's own groups ---------------------------------------------------

    /** The stack's groups of `iface`: all-nodes, and solicited-node per address not duplicate. */
    function syncAddresses(iface: NetInterface): void {
      compatOf(iface.index);
      iface.multicastFilter |= FILTER_BIT; // the link now filters this family's multicast MACs
      const want = new Map<IpKey, number>();
      for (const a of iface.ipv6) {
        // RFC 4862 §5.4.2: joined while tentative (before DAD's NS); a duplicate one is not ours.
        if (a.state === "duplicate") continue;
        const k = solicitedNodeKey(IpAddress.v6(a.address).key);
        want.set(k, (want.get(k) ?? 0) + 1);
      }
      want.set(ALL_NODES, (want.get(ALL_NODES) ?? 0) + 1);
      const s = table.ensure(iface.index);
      const r = compatOf(iface.index).robustness;
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
      changed(iface.index, ALL_NODES);
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
        if (k.v1Until !== NEVER && k.v1Until <= now) {
          // The Older Version Querier Present timer expired: back to MLDv2, MLDv1 timers dropped.
          k.v1Until = NEVER;
          k.dones.length = 0;
          table.cancelPending(s);
          c.toV2.value++;
        }
        if (k.v1Until !== NEVER) fireV1(s, k, iface, now);
        else fireV2(s, iface, now);
      }
      schedule();
    }

    function fireV2(s: InterfaceGroups, iface: NetInterface, now: Instant): void {
      if (s.changeAt !== NEVER && s.changeAt <= now) {
        const { records, more } = table.takeChangeRecords(s);
        s.changeAt = more ? after(uri) : NEVER;
        if (records.length > 0) sendV2(iface, records);
      }
      if (s.generalAt !== NEVER && s.generalAt <= now) {
        s.generalAt = NEVER;
        const records = table.currentStateRecords(s);
        if (records.length > 0) sendV2(iface, records);
      }
      const answers = table.takeGroupAnswers(s, now);
      if (answers.length > 0) sendV2(iface, answers);
    }

    function fireV1(s: InterfaceGroups, k: Compat, iface: NetInterface, now: Instant): void {
      for (const key of k.dones) sendV1(iface, ICMPV6_MLD_DONE, key);
      k.dones.length = 0;
      for (const g of s.groups.values()) {
        if (g.reportAt === NEVER || g.reportAt > now) continue;
        g.reportAt = NEVER;
        if (!g.reported || !isListeningFilter(g.state)) continue;
        sendV1(iface, ICMPV6_MLD_REPORT, g.key);
        g.lastReporter = true;
        if (g.compatReportsLeft > 0) g.compatReportsLeft--;
        if (g.compatReportsLeft > 0) g.reportAt = after(uri);
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
      const s = table.ensure(iface.index);
      const k = compatOf(iface.index);
      const now = ctx.now();
      const maxDelay = mldMaxResponseDelay(b, off, version) * 1000;
      if (version === 1) {
        c.queriesV1.value++;
        if (k.v1Until === NEVER) {
          // RFC 3810 §8.2.1: MLDv1 mode; pending MLDv2 transmissions are cancelled.
          c.toV1.value++;
          table.cancelPending(s);
          table.clearChanges(s);
          for (const g of s.groups.values()) g.lastReporter = false;
        }
        // RFC 3810 §9.12: Older Version Querier Present Timeout.
        k.v1Until = now + k.robustness * k.queryInterval + maxDelay;
      } else {
        c.queriesV2.value++;
        const qrv = mldQueryRobustness(b, off);
        if (qrv !== 0) k.robustness = qrv; // §9.1: the querier's value, when it gives one
        const qqi = mldQueryInterval(b, off);
        if (qqi !== 0) k.queryInterval = qqi * 1_000_000;
      }
      if (k.v1Until !== NEVER) {
        // MLDv1 (RFC 2710 §4): a delay timer per group, reset only to an earlier time.
        let found = false;
        for (const g of s.groups.values()) {
          if (!g.reported || !isListeningFilter(g.state) || (!general && g.key !== group)) continue;
          found = true;
          const at = now + ctx.rng.range(0, maxDelay);
          if (g.reportAt === NEVER || g.reportAt > at) g.reportAt = at;
        }
        if (!found && !general) c.notMember.value++;
      } else {
        const at = now + ctx.rng.range(0, maxDelay);
        if (general) {
          table.scheduleAnswer(s, at);
        } else {
          const n = version === 2 ? mldQuerySources(b, off) : 0;
          const sources: IpKey[] = [];
          for (let i = 0; i < n; i++) sources.push(mldQuerySource(b, off, i));
          if (!table.scheduleAnswer(s, at, group, sources)) c.notMember.value++;
        }
      }
      schedule();
      return CONSUMED;
    }

    /** Another node's MLDv1 Report: in MLDv1 mode ours for that group is suppressed (RFC 2710 §4). */
    function reportV1(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      if (pkt.end - pkt.start < MLD_V1_LEN) return "truncated";
      const bad = badMessage(pkt); // a report may silence ours: only from the link
      if (bad !== null) return bad;
      c.reportsV1In.value++;
      const k = compat.get(iface.index);
      if (k === undefined || k.v1Until === NEVER) return CONSUMED; // MLDv2 hosts never suppress
      const g = table.interface(iface.index)?.groups.get(mldGroupKey(pkt.buf, pkt.start));
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

    // ---- the service and events --------------------------------------------------

    const service = multicastGroupsService({
      family: 6,
      table,
      interfaces: ctx.interfaces,
      // A multicast address of a scope (not the reserved scope 0).
      joinable: (key) => {
        const w0 = typeof key === "string" ? key.charCodeAt(0) : 0;
        return w0 >> 8 === 0xff && (w0 & 0xf) !== 0;
      },
      robustness: (ifindex) => compat.get(ifindex)?.robustness ?? robustness,
      now: () => ctx.now(),
      changed,
      refused(why) {
        const counter = why === "groups_full" ? c.full : c.sourcesFull;
        if (counter.value++ === 0) ctx.log.warn(`group table refused a change: ${why}`);
      },
    });

    function onEvent(ev: StackEvent): void {
      switch (ev.type) {
        case "interface-added":
          syncAddresses(ev.iface as NetInterface);
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
            k.dones.length = 0;
          } else if (k.v1Until === NEVER) {
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
        case "address-added":
        case "address-removed":
        case "address-changed":
          if ((ev as { family: number }).family !== 6) return;
          syncAddresses(ev.iface as NetInterface);
          break;
        default:
          return;
      }
      schedule();
    }

    return {
      receive,
      services: { "mld.groups": service },
      ready() {
        for (const iface of ctx.interfaces.list()) syncAddresses(iface);
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
