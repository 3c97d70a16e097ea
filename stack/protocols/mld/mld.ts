/**
 * The MLD plugin, host side: MLDv2 (RFC 3810) with MLDv1 compatibility
 * (RFC 2710, RFC 3810 §8) for the groups the stack listens to.
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
import type { MldGroupsService, MulticastGroupEntry } from "../../services.ts";
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
  type MldRecord,
  MldRecordType,
  writeMldHopByHop,
  writeMldV1,
  writeMldV2Report,
} from "../../wire/mld.ts";
import {
  earliest,
  type Group,
  type InterfaceState,
  isListening,
  NEVER,
  newGroup,
  nextDue,
} from "./_state.ts";

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

/**
 * The MLD plugin (host side), one of the default plugins (after `ipv6`,
 * `icmpv6` and `ndp`); it provides `mld.groups`.
 *
 * @example
 * ```ts
 * import { createStack, VirtualNetwork } from "../../../mod.ts";
 * import type { MldGroupsService } from "../../services.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const stack = net.addNode(createStack({ clock: net.clock, seed: 1 }));
 * const iface = stack.addInterface({ driver: net.link({ linkType: 101 }).a, addresses: ["fd00::1/64"] });
 * const mld = stack.service<MldGroupsService>("mld.groups")!;
 * assert.deepEqual(mld.list().map((g) => g.group), ["ff02::1", "ff02::1:ff00:1"]);
 * assert.equal(mld.join(iface.index, "ff02::fb"), true);
 * stack.close();
 * net.close();
 * ```
 */
export const mldPlugin: ProtocolPlugin = {
  manifest: {
    name: "mld",
    version: "0.1.0",
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
      "groups.full",
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
      full: ctx.counter("groups.full"),
    };
    const states = new Map<number, InterfaceState>();
    const timer = ctx.timer(fire);

    function stateOf(iface: NetInterface): InterfaceState {
      let s = states.get(iface.index);
      if (s === undefined) {
        s = {
          ifindex: iface.index,
          groups: new Map(),
          changeAt: NEVER,
          generalAt: NEVER,
          v1Until: NEVER,
          robustness,
          queryInterval: DEFAULT_QUERY_INTERVAL,
        };
        states.set(iface.index, s);
        hold(s, ALL_NODES, "stack");
      }
      return s;
    }

    function schedule(): void {
      let at = NEVER;
      for (const s of states.values()) at = earliest(at, nextDue(s));
      if (at === NEVER) timer.cancel();
      else timer.arm(at);
    }

    /** A random instant in (now, now + max] (RFC 3810 §6.1's retransmission interval). */
    function after(max: number): Instant {
      return ctx.now() + ctx.rng.range(1, max);
    }

    // ---- joining and leaving -------------------------------------------------

    /** Adds a reference; false when the table is full. Starts the join's reports. */
    function hold(s: InterfaceState, key: IpKey, who: "stack" | "user"): boolean {
      let g = s.groups.get(key);
      if (g === undefined) {
        if (s.groups.size >= maxGroups) {
          if (c.full.value++ === 0) {
            ctx.log.warn(`group table of interface ${s.ifindex} is full (${maxGroups})`);
          }
          return false;
        }
        g = newGroup(key);
        s.groups.set(key, g);
      }
      const was = isListening(g);
      if (who === "stack") g.stackRefs++;
      else g.userRefs++;
      if (!was) {
        g.leaving = false;
        joined(s, g);
      }
      return true;
    }

    /** Drops a reference; true when the interface stopped listening. */
    function release(s: InterfaceState, g: Group, who: "stack" | "user"): boolean {
      if (who === "stack") g.stackRefs--;
      else g.userRefs--;
      if (g.stackRefs + g.userRefs > 0) return false;
      left(s, g);
      return true;
    }

    /** RFC 3810 §6.1: a State Change Report now, then robustness − 1 more (MLDv1: Reports). */
    function joined(s: InterfaceState, g: Group): void {
      if (!g.reported) return;
      g.changesLeft = s.robustness;
      g.changeType = MldRecordType.CHANGE_TO_EXCLUDE;
      if (s.v1Until !== NEVER) {
        g.reportAt = ctx.now(); // RFC 2710 §4: an unsolicited Report at once, then repeated
      } else {
        g.reportAt = NEVER;
        s.changeAt = ctx.now();
      }
    }

    function left(s: InterfaceState, g: Group): void {
      if (!g.reported) {
        s.groups.delete(g.key);
        return;
      }
      if (s.v1Until !== NEVER) {
        // RFC 2710 §4: Done to all-routers only if we sent the last Report.
        if (!g.lastReporter) {
          s.groups.delete(g.key);
          return;
        }
        g.leaving = true;
        g.changesLeft = 0;
        g.reportAt = ctx.now();
        return;
      }
      g.leaving = true;
      g.reportAt = NEVER;
      g.changesLeft = s.robustness;
      g.changeType = MldRecordType.CHANGE_TO_INCLUDE;
      s.changeAt = ctx.now();
    }

    /** The stack's groups of `iface`: all-nodes, and solicited-node per address not duplicate. */
    function syncAddresses(iface: NetInterface): void {
      const s = stateOf(iface);
      const want = new Map<IpKey, number>();
      for (const a of iface.ipv6) {
        // RFC 4862 §5.4.2: joined while tentative (before DAD's NS); a duplicate one is not ours.
        if (a.state === "duplicate") continue;
        const k = solicitedNodeKey(IpAddress.v6(a.address).key);
        want.set(k, (want.get(k) ?? 0) + 1);
      }
      want.set(ALL_NODES, (want.get(ALL_NODES) ?? 0) + 1);
      for (const g of [...s.groups.values()]) {
        if (g.leaving) continue;
        const n = want.get(g.key) ?? 0;
        while (g.stackRefs > n) release(s, g, "stack");
      }
      for (const [k, n] of want) {
        for (let have = s.groups.get(k)?.stackRefs ?? 0; have < n; have++) {
          if (!hold(s, k, "stack")) break;
        }
      }
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

    /** Version 2 Reports of `records`, as many as the MTU needs. */
    function sendV2(iface: NetInterface, records: MldRecord[]): void {
      const perPacket = Math.max(
        1,
        Math.floor(
          (Math.max(iface.mtu, 1280) - HEADERS - MLD_V2_REPORT_HEADER_LEN) / MLD_V2_RECORD_LEN,
        ),
      );
      for (let i = 0; i < records.length; i += perPacket) {
        const part = records.slice(i, i + perPacket); // copy: a small list, not packet bytes
        const len = MLD_V2_REPORT_HEADER_LEN + MLD_V2_RECORD_LEN * part.length;
        if (send(iface, ALL_MLDV2_ROUTERS, len, (b, at) => writeMldV2Report(b, at, part))) {
          c.reportsV2.value++;
          c.records.value += part.length;
        }
      }
    }

    function sendV1(iface: NetInterface, type: number, g: Group): void {
      const dst = type === ICMPV6_MLD_DONE ? ALL_ROUTERS : g.key;
      if (send(iface, dst, MLD_V1_LEN, (b, at) => writeMldV1(b, at, type, g.key))) {
        (type === ICMPV6_MLD_DONE ? c.done : c.reportsV1).value++;
      }
    }

    // ---- timers ----------------------------------------------------------------

    function fire(now: Instant): void {
      for (const s of [...states.values()]) {
        const iface = ctx.interfaces.get(s.ifindex);
        if (iface === undefined) {
          states.delete(s.ifindex);
          continue;
        }
        if (s.v1Until !== NEVER && s.v1Until <= now) toV2(s);
        if (s.v1Until !== NEVER) fireV1(s, iface, now);
        else fireV2(s, iface, now);
      }
      schedule();
    }

    function fireV2(s: InterfaceState, iface: NetInterface, now: Instant): void {
      if (s.changeAt !== NEVER && s.changeAt <= now) {
        const records: MldRecord[] = [];
        let more = false;
        for (const g of [...s.groups.values()]) {
          if (g.changesLeft <= 0) continue;
          records.push({ type: g.changeType, group: g.key });
          g.changesLeft--;
          if (g.changesLeft > 0) more = true;
          else if (g.leaving) s.groups.delete(g.key);
        }
        s.changeAt = more ? after(uri) : NEVER;
        if (records.length > 0) sendV2(iface, records);
      }
      if (s.generalAt !== NEVER && s.generalAt <= now) {
        s.generalAt = NEVER;
        const records: MldRecord[] = [];
        for (const g of s.groups.values()) {
          if (g.reported && isListening(g)) {
            records.push({ type: MldRecordType.MODE_IS_EXCLUDE, group: g.key });
          }
        }
        if (records.length > 0) sendV2(iface, records);
      }
      const answers: MldRecord[] = [];
      for (const g of s.groups.values()) {
        if (g.reportAt === NEVER || g.reportAt > now) continue;
        g.reportAt = NEVER;
        if (isListening(g)) answers.push({ type: MldRecordType.MODE_IS_EXCLUDE, group: g.key });
      }
      if (answers.length > 0) sendV2(iface, answers);
    }

    function fireV1(s: InterfaceState, iface: NetInterface, now: Instant): void {
      for (const g of [...s.groups.values()]) {
        if (g.reportAt === NEVER || g.reportAt > now) continue;
        if (g.leaving) {
          sendV1(iface, ICMPV6_MLD_DONE, g);
          s.groups.delete(g.key);
          continue;
        }
        sendV1(iface, ICMPV6_MLD_REPORT, g);
        g.lastReporter = true;
        if (g.changesLeft > 0) g.changesLeft--;
        g.reportAt = g.changesLeft > 0 ? after(uri) : NEVER;
      }
    }

    /** RFC 3810 §8.2.1: an MLDv1 querier is heard; pending MLDv2 transmissions are cancelled. */
    function toV1(s: InterfaceState): void {
      s.changeAt = NEVER;
      s.generalAt = NEVER;
      for (const g of [...s.groups.values()]) {
        if (g.leaving) s.groups.delete(g.key);
        g.changesLeft = 0;
        g.reportAt = NEVER;
        g.lastReporter = false;
      }
    }

    /** The Older Version Querier Present timer expired: back to MLDv2, MLDv1 timers dropped. */
    function toV2(s: InterfaceState): void {
      s.v1Until = NEVER;
      for (const g of [...s.groups.values()]) {
        if (g.leaving) s.groups.delete(g.key);
        g.changesLeft = 0;
        g.reportAt = NEVER;
      }
    }

    // ---- receiving -------------------------------------------------------------

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
      if (bad !== null) return bad;
      const group = mldGroupKey(b, off);
      const general = group === UNSPECIFIED;
      if (!general && (group as string).charCodeAt(0) >> 8 !== 0xff) return "bad_group";
      const s = stateOf(iface);
      const now = ctx.now();
      const maxDelay = mldMaxResponseDelay(b, off, version) * 1000;
      if (version === 1) {
        c.queriesV1.value++;
        if (s.v1Until === NEVER) toV1(s);
        // RFC 3810 §9.12: Older Version Querier Present Timeout.
        s.v1Until = now + s.robustness * s.queryInterval + maxDelay;
      } else {
        c.queriesV2.value++;
        const qrv = mldQueryRobustness(b, off);
        if (qrv !== 0) s.robustness = qrv; // §9.1: the querier's value, when it gives one
        const qqi = mldQueryInterval(b, off);
        if (qqi !== 0) s.queryInterval = qqi * 1_000_000;
      }
      const at = now + ctx.rng.range(0, maxDelay);
      if (s.v1Until !== NEVER) {
        // MLDv1 (RFC 2710 §4): a delay timer per group, reset only to an earlier time.
        for (const g of s.groups.values()) {
          if (!g.reported || !isListening(g) || (!general && g.key !== group)) continue;
          if (g.reportAt === NEVER || g.reportAt > at) g.reportAt = at;
        }
      } else if (s.generalAt !== NEVER && s.generalAt <= at) {
        // §6.2 rule 1: a pending answer to a General Query comes sooner and covers this.
      } else if (general) {
        s.generalAt = at; // rule 2
      } else {
        // Rules 3 and 4; a source-specific query is answered as a group one (as Linux
        // does for EXCLUDE {}: our state listens to every source).
        const g = s.groups.get(group);
        if (g === undefined || !g.reported || !isListening(g)) c.notMember.value++;
        else g.reportAt = earliest(g.reportAt, at);
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
      const s = states.get(iface.index);
      if (s === undefined || s.v1Until === NEVER) return CONSUMED; // MLDv2 hosts never suppress
      const g = s.groups.get(mldGroupKey(pkt.buf, pkt.start));
      if (g !== undefined && !g.leaving && g.reportAt !== NEVER) {
        g.reportAt = NEVER;
        g.changesLeft = 0;
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

    // ---- the service ------------------------------------------------------------

    function parseGroup(group: unknown, verb: string): IpKey {
      if (typeof group !== "string") {
        throw new TypeError(`Cannot ${verb} group: ${String(group)} is not a string`);
      }
      const a = IpAddress.parse(group);
      if (a === null || a.family !== 6) {
        throw new TypeError(`Cannot ${verb} group: "${group}" is not an IPv6 address`);
      }
      return a.key;
    }

    function ifaceOf(ifindex: unknown, verb: string): NetInterface {
      checkInteger(ifindex, 0, 0x7fffffff, `Cannot ${verb} group`, "ifindex");
      const iface = ctx.interfaces.get(ifindex as number);
      if (iface === undefined) {
        throw new RangeError(`Cannot ${verb} group: there is no interface ${ifindex}`);
      }
      return iface;
    }

    const service: MldGroupsService = {
      join(ifindex: number, group: string): boolean {
        const key = parseGroup(group, "join");
        const iface = ifaceOf(ifindex, "join");
        const w0 = (key as string).charCodeAt(0);
        if (w0 >> 8 !== 0xff || (w0 & 0xf) === 0) {
          throw new RangeError(`Cannot join group: ${group} is not a multicast address of a scope`);
        }
        const s = stateOf(iface);
        const was = s.groups.get(key);
        const listening = was !== undefined && isListening(was);
        if (!hold(s, key, "user")) {
          throw new RangeError(
            `Cannot join group ${group} on ${iface.name}: its table is full (${maxGroups})`,
          );
        }
        schedule();
        return !listening;
      },
      leave(ifindex: number, group: string): boolean {
        const key = parseGroup(group, "leave");
        const iface = ifaceOf(ifindex, "leave");
        const s = states.get(iface.index);
        const g = s?.groups.get(key);
        if (s === undefined || g === undefined || g.leaving || g.userRefs === 0) return false;
        const gone = release(s, g, "user");
        schedule();
        return gone;
      },
      isMember(ifindex: number, group: IpKey): boolean {
        const g = states.get(ifindex)?.groups.get(group);
        return g !== undefined && isListening(g);
      },
      list(): MulticastGroupEntry[] {
        const rows: MulticastGroupEntry[] = [];
        for (const s of states.values()) {
          const iface = ctx.interfaces.get(s.ifindex);
          if (iface === undefined) continue;
          for (const g of s.groups.values()) {
            if (!isListening(g)) continue;
            rows.push({
              ifindex: s.ifindex,
              ifname: iface.name,
              group: g.text,
              users: g.stackRefs + g.userRefs,
              reported: g.reported,
            });
          }
        }
        return rows;
      },
    };

    function onEvent(ev: StackEvent): void {
      switch (ev.type) {
        case "interface-added":
          stateOf(ev.iface as NetInterface);
          break;
        case "interface-removed":
          states.delete((ev.iface as NetInterface).index);
          break;
        case "link-changed": {
          const iface = ev.iface as NetInterface;
          const s = states.get(iface.index);
          if (s === undefined) break;
          if (!iface.up) {
            s.changeAt = s.generalAt = NEVER;
            for (const g of [...s.groups.values()]) {
              if (g.leaving) s.groups.delete(g.key);
              g.changesLeft = 0;
              g.reportAt = NEVER;
            }
          } else {
            // Back up: announce every group again, as after a join.
            for (const g of s.groups.values()) if (isListening(g)) joined(s, g);
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
        states.clear();
      },
    };
  },
};
