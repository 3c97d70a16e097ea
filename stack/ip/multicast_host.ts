/**
 * The host side that IGMP (RFC 3376, with RFC 2236 and RFC 1112
 * compatibility) and MLD (RFC 3810, with RFC 2710 compatibility) share
 * around the group table: the per-interface compatibility mode, the one
 * timer, the current-version reports, the older versions' per-group
 * reports and leaves, query answers, report suppression and the link
 * events. The plugins keep what differs: parsing, the receive checks, and
 * writing their messages.
 *
 * The versions are named by role, not number: `current` is IGMPv3 or
 * MLDv2, `older` is IGMPv2 or MLDv1 (Reports and Leaves/Dones), `oldest`
 * is IGMPv1 (Reports only; MLD has none).
 *
 * @module
 */
import type { Instant } from "../clock.ts";
import type { PluginContext } from "../manifest.ts";
import type { NetInterface } from "../netif.ts";
import type { MulticastGroupsService } from "../_services_multicast.ts";
import type { IpKey } from "../wire/ip_address.ts";
import {
  earliest,
  type GroupRecord,
  type GroupTableRefusal,
  type InterfaceGroups,
  isListeningFilter,
  MulticastGroupTable,
  multicastMac,
  NEVER,
} from "./multicast_groups.ts";
import { multicastGroupsService } from "./multicast_service.ts";

/** The protocol version a host speaks on an interface (RFC 3376 §7.2.1, RFC 3810 §8). */
export type HostMode = "current" | "older" | "oldest";

/** A named counter (what `PluginContext.counter` returns). */
interface Count {
  value: number;
}

/** Compatibility state of one interface. */
interface Compat {
  /** Until when an `oldest`-version querier is present, or NEVER. */
  oldestUntil: Instant;
  /** Until when an `older`-version querier is present, or NEVER. */
  olderUntil: Instant;
  /** The Robustness Variable in force (ours, or the querier's QRV). */
  robustness: number;
  /** The Query Interval in force, µs (125 s, or the querier's QQI). */
  queryInterval: number;
  /** Older-version Leaves (Dones) still to send. */
  leaves: IpKey[];
}

/** What a family's plugin gives the shared host. */
export interface MulticastHostOptions {
  /** 4 (IGMP) or 6 (MLD). */
  readonly family: 4 | 6;
  /** The plugin's context: clock, random numbers, timer, interfaces. */
  readonly ctx: PluginContext;
  /** The plugin's Robustness Variable. */
  readonly robustness: number;
  /** Unsolicited Report Interval, µs: retransmissions are random in (0, this]. */
  readonly reportInterval: number;
  /** Group table limits. */
  readonly maxGroups: number;
  readonly maxSources: number;
  /** Whether a group is ever reported (all-systems / all-nodes are not). */
  readonly isReported: (key: IpKey) => boolean;
  /** Whether a user may join `key`. */
  readonly joinable: (key: IpKey) => boolean;
  /** This family's bit in `NetInterface.multicastFilter`. */
  readonly filterBit: number;
  /** How long an `oldest`-mode answer may wait, µs, whatever the query said (IGMPv1: 10 s). */
  readonly oldestMaxDelay?: number;
  /** Counters: mode changes (by the mode entered), queries for groups we lack, suppressed reports. */
  readonly counters: {
    readonly modes: Readonly<Partial<Record<HostMode, Count>>>;
    readonly notMember: Count;
    readonly suppressed: Count;
  };
  /** Sends current-version reports of `records` (as many messages as the MTU needs). */
  sendCurrent(iface: NetInterface, records: readonly GroupRecord[]): void;
  /** Sends an older-version Report (in `mode`) or Leave for `group`. */
  sendOlder(iface: NetInterface, kind: "report" | "leave", group: IpKey, mode: HostMode): void;
  /** Called when the table refuses a service change, before the RangeError. */
  refused(why: GroupTableRefusal): void;
}

/** A query as the family's plugin parsed it. */
export interface HeardQuery {
  /** The querier's version. */
  readonly version: HostMode;
  /** The group asked about, or null for a General Query. */
  readonly group: IpKey | null;
  /** Maximum response delay, µs. */
  readonly maxDelay: number;
  /** The querier's Robustness Variable, or 0 if it gave none. */
  readonly robustness: number;
  /** The querier's Query Interval, µs, or 0 if it gave none. */
  readonly queryInterval: number;
  /** The sources of a Group-and-Source-Specific query (read only when needed). */
  readonly sources: () => IpKey[];
}

/** The shared host: its table and service, and what the plugin calls. */
export interface MulticastHost {
  readonly table: MulticastGroupTable;
  readonly service: MulticastGroupsService;
  /** The Robustness Variable in force on `ifindex`. */
  robustnessOf(ifindex: number): number;
  /** The mode `ifindex` is in (`current` before anything is heard). */
  modeOf(ifindex: number): HostMode;
  /** Starts managing `iface`: compatibility state and the link's multicast filter. */
  adopt(iface: NetInterface): InterfaceGroups;
  /** After a change of `ifindex`'s groups: in an older mode no current records go out. */
  changed(ifindex: number): void;
  /** Handles a query heard on `iface`. */
  heardQuery(iface: NetInterface, q: HeardQuery): void;
  /** Another host's older-version Report for `group`: ours is suppressed (RFC 2236 §3, RFC 2710 §4). */
  heardOlderReport(iface: NetInterface, group: IpKey): void;
  /** The interface went away. */
  interfaceRemoved(iface: NetInterface): void;
  /** The interface went down (pending reports go) or came up (announce again). */
  linkChanged(iface: NetInterface): void;
  /** Re-arms the timer for the earliest pending transmission. */
  schedule(): void;
  /** Drops every interface's state and the filter bits. */
  teardown(): void;
}

/**
 * Builds the shared host for one plugin.
 *
 * @param o the family's parts.
 * @returns the host.
 * @example
 * ```ts
 * import { createStack, VirtualNetwork } from "../../mod.ts";
 * import type { MulticastGroupsService } from "../services.ts";
 * import assert from "node:assert/strict";
 * // IGMP and MLD are built on it; their services are what users see.
 * const net = new VirtualNetwork({ seed: 1 });
 * const stack = net.addNode(createStack({ clock: net.clock, seed: 1 }));
 * const iface = stack.addInterface({ driver: net.link().a, addresses: ["10.0.0.1/24"] });
 * const igmp = stack.service<MulticastGroupsService>("igmp.groups")!;
 * assert.equal(igmp.join(iface.index, "239.1.2.3"), true);
 * stack.close();
 * net.close();
 * ```
 */
export function multicastHost(o: MulticastHostOptions): MulticastHost {
  const { ctx, counters: c } = o;
  const compat = new Map<number, Compat>();
  const table = new MulticastGroupTable({
    maxGroups: o.maxGroups,
    maxSources: o.maxSources,
    isReported: o.isReported,
    onListening,
  });
  const timer = ctx.timer(fire);

  function compatOf(ifindex: number): Compat {
    let k = compat.get(ifindex);
    if (k === undefined) {
      k = {
        oldestUntil: NEVER,
        olderUntil: NEVER,
        robustness: o.robustness,
        queryInterval: 125_000_000, // RFC 3376 §8.2, RFC 3810 §9.2
        leaves: [],
      };
      compat.set(ifindex, k);
    }
    return k;
  }

  function modeOf(k: Compat): HostMode {
    return k.oldestUntil !== NEVER ? "oldest" : k.olderUntil !== NEVER ? "older" : "current";
  }

  function schedule(): void {
    let at = NEVER;
    for (const s of table.interfaces()) {
      at = earliest(at, table.nextDue(s));
      const k = compat.get(s.ifindex);
      if (k === undefined) continue;
      at = earliest(earliest(at, k.oldestUntil), k.olderUntil);
      if (k.leaves.length > 0) at = earliest(at, ctx.now());
    }
    if (at === NEVER) timer.cancel();
    else timer.arm(at);
  }

  /** A random instant in (now, now + max] (the retransmission interval). */
  function after(max: number): Instant {
    return ctx.now() + ctx.rng.range(1, max);
  }

  /** The table says an interface started or stopped listening to a group. */
  function onListening(ifindex: number, key: IpKey, listening: boolean): void {
    // The link accepts the group's MAC while some group mapping to it is held.
    const iface = ctx.interfaces.get(ifindex);
    if (iface !== undefined) {
      if (listening) iface.addLinkMulticast(multicastMac(key));
      else iface.removeLinkMulticast(multicastMac(key));
    }
    const k = compat.get(ifindex);
    if (k === undefined || modeOf(k) === "current" || !o.isReported(key)) return;
    const g = table.interface(ifindex)?.groups.get(key);
    if (g === undefined) return;
    if (listening) {
      // RFC 2236 §3, RFC 2710 §4: an unsolicited Report at once, repeated.
      g.compatReportsLeft = k.robustness;
      g.reportAt = ctx.now();
      g.lastReporter = false;
    } else if (modeOf(k) === "older" && g.lastReporter) {
      k.leaves.push(key); // only the last reporter needs to leave
    }
  }

  function changed(ifindex: number): void {
    const k = compat.get(ifindex);
    const s = table.interface(ifindex);
    if (k !== undefined && s !== undefined && modeOf(k) !== "current") table.clearChanges(s);
    schedule();
  }

  /** RFC 3376 §7.2.1, RFC 3810 §8.2.1: an older mode cancels every pending current transmission. */
  function olderQuerier(s: InterfaceGroups, k: Compat, version: HostMode, until: Instant): void {
    const was = modeOf(k);
    if (version === "oldest") k.oldestUntil = until;
    else k.olderUntil = until;
    const now = modeOf(k);
    if (now === was) return;
    const counter = c.modes[now];
    if (counter !== undefined) counter.value++;
    table.cancelPending(s);
    table.clearChanges(s);
    if (now === "oldest") k.leaves.length = 0; // IGMPv1 has no Leave
    for (const g of s.groups.values()) g.lastReporter = false;
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
      if (k.oldestUntil !== NEVER && k.oldestUntil <= now) k.oldestUntil = NEVER;
      if (k.olderUntil !== NEVER && k.olderUntil <= now) k.olderUntil = NEVER;
      const mode = modeOf(k);
      if (mode !== was) {
        // Back to a newer version: the older version's timers go.
        table.cancelPending(s);
        k.leaves.length = 0;
        const counter = c.modes[mode];
        if (counter !== undefined) counter.value++;
      }
      if (mode === "current") fireCurrent(s, iface, now);
      else fireOlder(s, k, iface, now, mode);
    }
    schedule();
  }

  function fireCurrent(s: InterfaceGroups, iface: NetInterface, now: Instant): void {
    if (s.changeAt !== NEVER && s.changeAt <= now) {
      const { records, more } = table.takeChangeRecords(s);
      s.changeAt = more ? after(o.reportInterval) : NEVER;
      if (records.length > 0) o.sendCurrent(iface, records);
    }
    if (s.generalAt !== NEVER && s.generalAt <= now) {
      s.generalAt = NEVER;
      const records = table.currentStateRecords(s);
      if (records.length > 0) o.sendCurrent(iface, records);
    }
    const answers = table.takeGroupAnswers(s, now);
    if (answers.length > 0) o.sendCurrent(iface, answers);
  }

  function fireOlder(
    s: InterfaceGroups,
    k: Compat,
    iface: NetInterface,
    now: Instant,
    mode: HostMode,
  ): void {
    for (const key of k.leaves) o.sendOlder(iface, "leave", key, mode);
    k.leaves.length = 0;
    for (const g of s.groups.values()) {
      if (g.reportAt === NEVER || g.reportAt > now) continue;
      g.reportAt = NEVER;
      if (!g.reported || !isListeningFilter(g.state)) continue;
      o.sendOlder(iface, "report", g.key, mode);
      g.lastReporter = true;
      if (g.compatReportsLeft > 0) g.compatReportsLeft--;
      if (g.compatReportsLeft > 0) g.reportAt = after(o.reportInterval);
    }
  }

  // ---- queries and reports -------------------------------------------------------

  /** Older-version answers (RFC 2236 §3, RFC 2710 §4): a timer per group, only ever made earlier. */
  function answerOlder(s: InterfaceGroups, group: IpKey | null, maxDelay: number): void {
    const now = ctx.now();
    let found = false;
    for (const g of s.groups.values()) {
      if (!g.reported || !isListeningFilter(g.state) || (group !== null && g.key !== group)) {
        continue;
      }
      found = true;
      const at = now + ctx.rng.range(0, maxDelay);
      if (g.reportAt === NEVER || g.reportAt > at) g.reportAt = at;
    }
    if (!found && group !== null) c.notMember.value++;
  }

  function heardQuery(iface: NetInterface, q: HeardQuery): void {
    const s = table.ensure(iface.index);
    const k = compatOf(iface.index);
    const now = ctx.now();
    let maxDelay = q.maxDelay;
    if (q.version === "current") {
      if (q.robustness !== 0) k.robustness = q.robustness; // the querier's value, when it gives one
      if (q.queryInterval !== 0) k.queryInterval = q.queryInterval;
    } else {
      // Older Version Querier Present Timeout (RFC 3376 §8.12, RFC 3810 §9.12).
      olderQuerier(s, k, q.version, now + k.robustness * k.queryInterval + maxDelay);
    }
    const mode = modeOf(k);
    if (mode !== "current") {
      // An older mode answers every query the older way (a current one too, as Linux does).
      const oldest = mode === "oldest";
      if (oldest && o.oldestMaxDelay !== undefined) maxDelay = o.oldestMaxDelay;
      answerOlder(s, oldest ? null : q.group, maxDelay);
    } else {
      const at = now + ctx.rng.range(0, maxDelay);
      if (q.group === null) table.scheduleAnswer(s, at);
      else if (!table.scheduleAnswer(s, at, q.group, q.sources())) c.notMember.value++;
    }
    schedule();
  }

  function heardOlderReport(iface: NetInterface, group: IpKey): void {
    const k = compat.get(iface.index);
    if (k === undefined || modeOf(k) === "current") return; // current hosts never suppress
    const g = table.interface(iface.index)?.groups.get(group);
    if (g !== undefined && g.reportAt !== NEVER) {
      g.reportAt = NEVER;
      g.compatReportsLeft = 0;
      g.lastReporter = false;
      c.suppressed.value++;
      schedule();
    }
  }

  // ---- interfaces ---------------------------------------------------------------

  function adopt(iface: NetInterface): InterfaceGroups {
    compatOf(iface.index);
    iface.multicastFilter |= o.filterBit; // the link now filters this family's multicast MACs
    return table.ensure(iface.index);
  }

  function interfaceRemoved(iface: NetInterface): void {
    table.remove(iface.index);
    compat.delete(iface.index);
  }

  function linkChanged(iface: NetInterface): void {
    const s = table.interface(iface.index);
    const k = compat.get(iface.index);
    if (s === undefined || k === undefined) return;
    if (!iface.up) {
      table.cancelPending(s);
      table.clearChanges(s);
      k.leaves.length = 0;
    } else if (modeOf(k) === "current") {
      table.reannounce(s, k.robustness, ctx.now()); // back up: announce again, as after a join
    } else {
      for (const g of s.groups.values()) {
        if (!g.reported || !isListeningFilter(g.state)) continue;
        g.compatReportsLeft = k.robustness;
        g.reportAt = ctx.now();
      }
    }
  }

  const service = multicastGroupsService({
    family: o.family,
    table,
    interfaces: ctx.interfaces,
    joinable: o.joinable,
    robustness: robustnessOf,
    now: () => ctx.now(),
    changed: (ifindex) => changed(ifindex),
    refused: o.refused,
  });

  function robustnessOf(ifindex: number): number {
    return compat.get(ifindex)?.robustness ?? o.robustness;
  }

  return {
    table,
    service,
    robustnessOf,
    modeOf: (ifindex) => {
      const k = compat.get(ifindex);
      return k === undefined ? "current" : modeOf(k);
    },
    adopt,
    changed,
    heardQuery,
    heardOlderReport,
    interfaceRemoved,
    linkChanged,
    schedule,
    teardown() {
      timer.cancel();
      for (const s of [...table.interfaces()]) table.remove(s.ifindex);
      for (const iface of ctx.interfaces.list()) iface.multicastFilter &= ~o.filterBit;
      compat.clear();
    },
  };
}
