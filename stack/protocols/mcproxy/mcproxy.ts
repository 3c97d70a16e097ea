/**
 * The IGMP proxy plugin (RFC 4605) for IPv4: the querier and membership
 * database on the downstream interfaces (RFC 3376 §6), their union held on
 * the upstream interface through `igmp.groups`, and multicast forwarding
 * from a prerouting hook (`forward.ts`).
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Counter } from "../../counters.ts";
import type { HookContext } from "../../hooks.ts";
import {
  ACCEPT,
  type HookPoint,
  type HookVerdict,
  type PluginContext,
  type ProtocolHandlers,
  type ProtocolPlugin,
  type StackEvent,
} from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import type { MulticastGroupsService } from "../../_services_multicast.ts";
import {
  earliest,
  GroupRecordType,
  type KeyFilter,
  mergeFilters,
  NEVER,
} from "../../ip/multicast_groups.ts";
import { checkInteger } from "../../validate.ts";
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
import { formatIpKey, type IpKey } from "../../wire/ip_address.ts";
import { IP_PROTOCOL_IGMP } from "../../wire/numbers.ts";
import { type ForwardCounters, forwardIpv4Multicast } from "./forward.ts";
import { RouterMembership, type RouterTimers } from "./router_groups.ts";

const SECOND = 1_000_000;
/** Max Resp Time units: a tenth of a second, in µs. */
const TENTH = 100_000;

/** The querier side of one downstream interface (RFC 3376 §6.6). */
interface Downstream {
  readonly ifindex: number;
  readonly db: RouterMembership;
  /** Whether we are the querier here (no lower address heard, §6.6.2). */
  querier: boolean;
  /** Until when another querier is present, or NEVER. */
  otherQuerierUntil: Instant;
  /** Startup queries still to send (§8.7). */
  startupLeft: number;
  /** When the next General Query goes, or NEVER. */
  generalAt: Instant;
}

/** Splits the `downstream` option: names separated by commas. */
function namesOf(value: unknown, action: string): string[] {
  if (typeof value !== "string") {
    throw new TypeError(`${action}: downstream ${String(value)} is not a string`);
  }
  const names = value.split(",").map((n) => n.trim()).filter((n) => n !== "");
  if (names.length === 0) throw new RangeError(`${action}: no downstream interface is named`);
  if (new Set(names).size !== names.length) {
    throw new RangeError(`${action}: a downstream interface is named twice`);
  }
  return names;
}

/**
 * The IGMP proxy (RFC 4605): not a default plugin; load it after the
 * defaults with options naming one `upstream` interface and one or more
 * `downstream` interfaces (comma-separated names).
 *
 * @example
 * ```ts
 * import { createStack, DEFAULT_PLUGINS, VirtualNetwork } from "../../../mod.ts";
 * import { mcproxyPlugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const router = net.addNode(createStack({
 *   clock: net.clock,
 *   seed: 1,
 *   plugins: [
 *     ...DEFAULT_PLUGINS.map((plugin) => ({ plugin })),
 *     { plugin: mcproxyPlugin, options: { upstream: "up0", downstream: "lan0" } },
 *   ],
 * }));
 * router.addInterface({ name: "up0", driver: net.link().a, addresses: ["10.0.0.1/24"] });
 * router.addInterface({ name: "lan0", driver: net.link().a, addresses: ["10.1.0.1/24"] });
 * net.runFor(0);
 * assert.equal(router.counters.get("mcproxy.tx.general_queries").value, 1); // startup query on lan0
 * router.close();
 * net.close();
 * ```
 */
export const mcproxyPlugin: ProtocolPlugin = {
  manifest: {
    name: "mcproxy",
    version: "0.1.0",
    api: "^1.0.0",
    description: "IGMP proxy (RFC 4605): querier downstream, aggregated membership upstream",
    layer: "middlebox",
    dependencies: ["ipv4", "igmp"],
    binds: [],
    hooks: [{ point: "prerouting" }],
    requires: ["igmp.groups"],
    events: ["interface-added", "interface-removed", "link-changed"],
    counters: [
      "fwd.forwarded",
      "fwd.ttl_exceeded",
      "fwd.link_local",
      "fwd.no_members",
      "fwd.too_big",
      "fwd.interface_down",
      "rx.reports_v1",
      "rx.reports_v2",
      "rx.reports_v3",
      "rx.leaves",
      "rx.records",
      "rx.bad_record",
      "rx.queries",
      "rx.malformed",
      "querier.lost",
      "querier.resumed",
      "tx.general_queries",
      "tx.group_queries",
      "tx.source_queries",
      "tx.no_address",
      "tx.interface_down",
      "db.groups_full",
      "db.sources_full",
      "upstream.changes",
      "upstream.refused",
    ],
    options: {
      upstream: { default: "", description: "the upstream interface's name" },
      downstream: { default: "", description: "downstream interface names, comma-separated" },
      robustness: { default: 2, description: "Robustness Variable (RFC 3376 §8.1)" },
      queryInterval: { default: 125 * SECOND, description: "µs between General Queries (§8.2)" },
      queryResponseInterval: {
        default: 10 * SECOND,
        description: "µs, the Max Resp Time of General Queries (§8.3)",
      },
      lastMemberQueryInterval: {
        default: 1 * SECOND,
        description: "µs, Max Resp Time of and gap between specific queries (§8.8)",
      },
      maxGroups: { default: 256, description: "groups per downstream interface" },
      maxSources: { default: 64, description: "sources per group" },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const action = "Cannot set up mcproxy";
    const upName = ctx.options.upstream;
    if (typeof upName !== "string") {
      throw new TypeError(`${action}: upstream ${String(upName)} is not a string`);
    }
    if (upName === "") throw new RangeError(`${action}: no upstream interface is named`);
    const downNames = namesOf(ctx.options.downstream, action);
    if (downNames.includes(upName)) {
      throw new RangeError(`${action}: "${upName}" is both upstream and downstream`);
    }
    const robustness = checkInteger(ctx.options.robustness, 1, 7, action, "robustness");
    const qi = checkInteger(
      ctx.options.queryInterval,
      SECOND,
      3600 * SECOND,
      action,
      "queryInterval",
    );
    const qri = checkInteger(
      ctx.options.queryResponseInterval,
      TENTH,
      Math.min(qi, 3174 * SECOND),
      action,
      "queryResponseInterval",
    );
    const lmqi = checkInteger(
      ctx.options.lastMemberQueryInterval,
      TENTH,
      25 * SECOND,
      action,
      "lastMemberQueryInterval",
    );
    const maxGroups = checkInteger(ctx.options.maxGroups, 1, 65535, action, "maxGroups");
    const maxSources = checkInteger(ctx.options.maxSources, 0, 128, action, "maxSources");
    // RFC 3376 §8: the derived values.
    const timers: RouterTimers = {
      gmi: robustness * qi + qri,
      lmqt: lmqi * robustness,
      lmqi,
      lmqc: robustness,
    };
    const otherQuerierInterval = robustness * qi + Math.floor(qri / 2);
    const startupInterval = Math.floor(qi / 4);
    const counter = (n: string): Counter => ctx.counter(n);
    const fc: ForwardCounters = {
      forwarded: counter("fwd.forwarded"),
      ttl: counter("fwd.ttl_exceeded"),
      linkLocal: counter("fwd.link_local"),
      noMembers: counter("fwd.no_members"),
      tooBig: counter("fwd.too_big"),
      down: counter("fwd.interface_down"),
    };
    const c = {
      reportsV1: counter("rx.reports_v1"),
      reportsV2: counter("rx.reports_v2"),
      reportsV3: counter("rx.reports_v3"),
      leaves: counter("rx.leaves"),
      records: counter("rx.records"),
      badRecord: counter("rx.bad_record"),
      queries: counter("rx.queries"),
      malformed: counter("rx.malformed"),
      lost: counter("querier.lost"),
      resumed: counter("querier.resumed"),
      general: counter("tx.general_queries"),
      group: counter("tx.group_queries"),
      source: counter("tx.source_queries"),
      noAddress: counter("tx.no_address"),
      down: counter("tx.interface_down"),
      groupsFull: counter("db.groups_full"),
      sourcesFull: counter("db.sources_full"),
      upChanges: counter("upstream.changes"),
      upRefused: counter("upstream.refused"),
    };
    const groups = ctx.service<MulticastGroupsService>("igmp.groups");
    const holder = groups.newHolder();
    const downstream = new Map<number, Downstream>();
    const databases = new Map<number, RouterMembership>();
    let upstream = -1;
    /** Groups whose upstream filter must be computed again. */
    const dirty = new Set<IpKey>();
    /** Interfaces whose `allMulticast` we turned on (and turn off again at teardown). */
    const allMulticastSet = new Set<number>();
    const timer = ctx.timer(fire);
    const topology = { upstream: () => upstream, downstream: () => databases };

    // ---- interfaces ---------------------------------------------------------------

    function adopt(iface: NetInterface): void {
      if (iface.name === upName) upstream = iface.index;
      if (!downNames.includes(iface.name) || downstream.has(iface.index)) return;
      const db = new RouterMembership({
        maxGroups,
        maxSources,
        refused: (why) => (why === "groups_full" ? c.groupsFull : c.sourcesFull).value++,
      });
      downstream.set(iface.index, {
        ifindex: iface.index,
        db,
        querier: true,
        otherQuerierUntil: NEVER,
        startupLeft: robustness, // §8.6-8.7: Startup Query Count queries
        generalAt: ctx.now(),
      });
      databases.set(iface.index, db);
      // Reports go to 224.0.0.22 or the group, and hosts send to any group: hear
      // every multicast frame, as Linux's mrouted sets IFF_ALLMULTI.
      if (!iface.allMulticast) {
        iface.allMulticast = true;
        allMulticastSet.add(iface.index);
      }
    }

    function drop(ifindex: number): void {
      if (ifindex === upstream) upstream = -1;
      const d = downstream.get(ifindex);
      if (d === undefined) return;
      for (const key of d.db.groups.keys()) dirty.add(key);
      downstream.delete(ifindex);
      databases.delete(ifindex);
      allMulticastSet.delete(ifindex);
      syncUpstream();
    }

    // ---- upstream: RFC 4605 §4.1, the union per RFC 3376 §3.2 -----------------------

    function syncUpstream(): void {
      if (dirty.size === 0) return;
      const keys = [...dirty];
      dirty.clear();
      if (upstream < 0) return;
      for (const key of keys) {
        const filters: KeyFilter[] = [];
        for (const db of databases.values()) {
          const f = db.filterOf(key);
          if (f !== undefined) filters.push(f);
        }
        const m = mergeFilters(filters);
        try {
          const changed = groups.setFilter(upstream, formatIpKey(key), holder, {
            mode: m.mode,
            sources: [...m.sources].map(formatIpKey),
          });
          if (changed) c.upChanges.value++;
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
          c.upRefused.value++; // igmp's table is full: the group is not asked for upstream
        }
      }
    }

    // ---- sending queries ----------------------------------------------------------

    /** Sends one v3 query out of `d`'s interface: TTL 1, Router Alert (RFC 3376 §4). */
    function sendQuery(
      d: Downstream,
      group: number,
      maxResp: number,
      suppress: boolean,
      sources: readonly number[],
    ): boolean {
      const iface = ctx.interfaces.get(d.ifindex);
      if (iface === undefined || !iface.up) {
        c.down.value++;
        return false;
      }
      const src = iface.ipv4[0]?.address;
      if (src === undefined) {
        c.noAddress.value++; // a querier needs an address to be elected by (§6.6.2)
        return false;
      }
      const len = igmpV3QueryLength(sources.length);
      const pkt = ctx.pool.alloc(IGMP_IP_HEADER_LEN + len);
      const at = pkt.start;
      const dst = group === 0 ? IGMP_ALL_SYSTEMS : group;
      writeIgmpIpHeader(pkt.buf, at, len, src, dst);
      writeIgmpV3Query(pkt.buf, at + IGMP_IP_HEADER_LEN, {
        group,
        maxRespTime: Math.floor(maxResp / TENTH),
        suppress,
        robustness,
        queryInterval: Math.floor(qi / SECOND),
        sources,
      });
      pkt.l3 = at;
      pkt.family = 4;
      pkt.srcAt = at + 12;
      pkt.dstAt = at + 16;
      pkt.proto = IP_PROTOCOL_IGMP;
      pkt.ttl = 1;
      ctx.linkOutput(d.ifindex, 4, dst, pkt);
      return true;
    }

    // ---- timers -------------------------------------------------------------------

    function schedule(): void {
      let at: Instant = NEVER;
      for (const d of downstream.values()) {
        at = earliest(at, d.generalAt);
        at = earliest(at, d.otherQuerierUntil);
        at = earliest(at, d.db.nextDeadline());
      }
      if (at === NEVER) timer.cancel();
      else timer.arm(at);
    }

    function fire(now: Instant): void {
      for (const d of downstream.values()) {
        if (d.otherQuerierUntil !== NEVER && d.otherQuerierUntil <= now) {
          // §6.6.2: the other querier went quiet; we query again.
          d.otherQuerierUntil = NEVER;
          d.querier = true;
          d.generalAt = now;
          c.resumed.value++;
        }
        if (d.querier && d.generalAt !== NEVER && d.generalAt <= now) {
          if (sendQuery(d, 0, qri, false, [])) c.general.value++;
          if (d.startupLeft > 0) d.startupLeft--;
          d.generalAt = now + (d.startupLeft > 0 ? startupInterval : qi);
        }
        if (d.querier) {
          for (const q of d.db.takeQueries(now, timers)) {
            if (sendQuery(d, q.group as number, lmqi, q.suppress, q.sources as number[])) {
              (q.sources.length === 0 ? c.group : c.source).value++;
            }
          }
        }
        for (const key of d.db.expire(now)) dirty.add(key);
      }
      syncUpstream();
      schedule();
    }

    // ---- receiving IGMP on a downstream interface ---------------------------------

    function igmpIn(pkt: PacketBuffer, d: Downstream, iface: NetInterface): void {
      const b = pkt.buf;
      const dv = pkt.dv;
      const off = pkt.l3 + ((dv.getUint8(pkt.l3) & 0x0f) << 2);
      const kind = checkIgmp(b, off, pkt.end);
      const now = ctx.now();
      switch (kind) {
        case "report_v1":
        case "report_v2": {
          (kind === "report_v1" ? c.reportsV1 : c.reportsV2).value++;
          // §7.3.2: an older Report is IS_EX({}).
          hostRecord(
            d,
            igmpGroup(b, off),
            GroupRecordType.MODE_IS_EXCLUDE,
            [],
            kind === "report_v1" ? 1 : 2,
            now,
          );
          break;
        }
        case "leave_v2":
          c.leaves.value++;
          hostRecord(d, igmpGroup(b, off), GroupRecordType.CHANGE_TO_INCLUDE, [], 2, now);
          break;
        case "report_v3": {
          c.reportsV3.value++;
          const [records, whole] = igmpV3Records(b, off, pkt.end);
          if (!whole) c.malformed.value++;
          for (const r of records) hostRecord(d, r.group, r.type, r.sources, 3, now);
          break;
        }
        case "query_v1":
        case "query_v2":
        case "query_v3":
          heardQuery(pkt, d, iface, off, kind, now);
          break;
        case "unknown":
          break;
        default:
          c.malformed.value++;
      }
      syncUpstream();
      schedule();
    }

    function hostRecord(
      d: Downstream,
      group: number,
      type: number,
      sources: readonly number[],
      version: 1 | 2 | 3,
      now: Instant,
    ): void {
      // Link-local groups are never reported nor forwarded (RFC 4605 §4; RFC 3376 §5).
      if (!isIpv4Multicast(group) || (group >>> 8) === 0xe00000 || type < 1 || type > 6) {
        c.badRecord.value++;
        return;
      }
      c.records.value++;
      if (d.db.record(group, type, sources, version, now, timers, d.querier)) dirty.add(group);
    }

    /** §6.6.2 election by the lowest address, and §6.6.1's timer updates as a non-querier. */
    function heardQuery(
      pkt: PacketBuffer,
      d: Downstream,
      iface: NetInterface,
      off: number,
      kind: "query_v1" | "query_v2" | "query_v3",
      now: Instant,
    ): void {
      c.queries.value++;
      const src = pkt.dv.getUint32(pkt.srcAt);
      const ours = iface.ipv4[0]?.address;
      if (src === 0 || (ours !== undefined && src >= ours)) return; // we stay (or are) the querier
      if (d.querier) {
        d.querier = false;
        d.generalAt = NEVER;
        d.db.cancelQueries();
        c.lost.value++;
      }
      d.otherQuerierUntil = now + otherQuerierInterval;
      if (kind === "query_v1") return;
      const group = igmpGroup(pkt.buf, off);
      if (group === 0) return;
      if (kind === "query_v3" && igmpV3QuerySuppress(pkt.buf, off)) return;
      const sources: number[] = [];
      if (kind === "query_v3") {
        const n = igmpV3QuerySourceCount(pkt.buf, off);
        for (let i = 0; i < n; i++) sources.push(igmpV3QuerySource(pkt.buf, off, i));
      }
      d.db.heardQuery(group, sources, now, timers);
    }

    // ---- the hook -------------------------------------------------------------------

    function hook(_point: HookPoint, pkt: PacketBuffer, h: HookContext): HookVerdict {
      const inIf = h.inIface;
      if (pkt.family !== 4 || inIf === null) return ACCEPT;
      if (!isIpv4Multicast(pkt.dv.getUint32(pkt.dstAt))) return ACCEPT;
      const d = downstream.get(inIf.index);
      if (d === undefined && inIf.index !== upstream) return ACCEPT;
      if (pkt.proto === IP_PROTOCOL_IGMP) {
        // Membership messages are never forwarded; downstream they feed the database.
        if (d !== undefined) igmpIn(pkt, d, inIf);
        return ACCEPT;
      }
      forwardIpv4Multicast(ctx, pkt, inIf, topology, fc);
      return ACCEPT; // the stack itself may be a member too
    }

    function onEvent(ev: StackEvent): void {
      const iface = (ev as { iface?: NetInterface }).iface;
      if (iface === undefined) return;
      switch (ev.type) {
        case "interface-added":
          adopt(iface);
          break;
        case "interface-removed":
          drop(iface.index);
          break;
        case "link-changed": {
          const d = downstream.get(iface.index);
          if (d !== undefined && iface.up && d.querier) {
            d.startupLeft = robustness; // back up: start again as at startup
            d.generalAt = ctx.now();
          }
          if (iface.index === upstream && iface.up) {
            for (const db of databases.values()) for (const k of db.groups.keys()) dirty.add(k);
            syncUpstream();
          }
          break;
        }
        default:
          return;
      }
      schedule();
    }

    return {
      hook,
      ready() {
        for (const iface of ctx.interfaces.list()) adopt(iface);
        schedule();
      },
      onEvent,
      teardown() {
        timer.cancel();
        groups.dropHolder(holder);
        for (const i of allMulticastSet) {
          const iface = ctx.interfaces.get(i);
          if (iface !== undefined) iface.allMulticast = false;
        }
        allMulticastSet.clear();
        downstream.clear();
        databases.clear();
      },
    };
  },
};
