/**
 * The IGMP/MLD proxy plugin (RFC 4605): one upstream interface, one or
 * more downstream ones, for IPv4 (IGMP) and, when `mld.groups` is there,
 * IPv6 (MLD). Each family's querier and databases are a `ProxyFamily`;
 * this file wires them to the options, the interfaces, the timer and the
 * prerouting hook that feeds them and forwards (`forward.ts`).
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
import { earliest, NEVER } from "../../ip/multicast_groups.ts";
import { checkInteger } from "../../validate.ts";
import { isIpv4Multicast } from "../../wire/address.ts";
import { IP_PROTOCOL_IGMP } from "../../wire/numbers.ts";
import { type ForwardCounters, forwardMulticast } from "./forward.ts";
import { igmpIn, igmpIo, type IgmpSideCounters } from "./igmp_side.ts";
import { mldIn, mldIo, type MldSideCounters } from "./mld_side.ts";
import { type FamilyCounters, ProxyFamily, type ProxyParameters } from "./proxy_family.ts";

const SECOND = 1_000_000;
/** IGMP's time unit: a tenth of a second, in µs. */
const TENTH = 100_000;

/** The forwarding counters of one family (IPv6's carry the prefix `mld.`). */
const FORWARD_COUNTERS = [
  "fwd.forwarded",
  "fwd.ttl_exceeded",
  "fwd.link_local",
  "fwd.no_members",
  "fwd.too_big",
  "fwd.interface_down",
] as const;

/** The counters of one family's querier and database (IPv6's carry the prefix `mld.`). */
const FAMILY_COUNTERS = [
  "rx.records",
  "rx.link_local_records",
  "rx.bad_record",
  "rx.malformed",
  "rx.queries",
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
] as const;

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

/** The options, checked (stack/validate.ts policy). */
function parametersOf(ctx: PluginContext, action: string): ProxyParameters {
  const robustness = checkInteger(ctx.options.robustness, 1, 7, action, "robustness");
  const qi = checkInteger(
    ctx.options.queryInterval,
    SECOND,
    3600 * SECOND,
    action,
    "queryInterval",
  );
  return {
    robustness,
    queryInterval: qi,
    queryResponseInterval: checkInteger(
      ctx.options.queryResponseInterval,
      TENTH,
      Math.min(qi, 3174 * SECOND),
      action,
      "queryResponseInterval",
    ),
    lastMemberQueryInterval: checkInteger(
      ctx.options.lastMemberQueryInterval,
      TENTH,
      25 * SECOND,
      action,
      "lastMemberQueryInterval",
    ),
    maxGroups: checkInteger(ctx.options.maxGroups, 1, 65535, action, "maxGroups"),
    maxSources: checkInteger(ctx.options.maxSources, 0, 128, action, "maxSources"),
  };
}

function familyCounters(ctx: PluginContext, prefix: string): FamilyCounters {
  const k = (n: typeof FAMILY_COUNTERS[number]): Counter => ctx.counter(prefix + n);
  return {
    records: k("rx.records"),
    badRecord: k("rx.bad_record"),
    queries: k("rx.queries"),
    lost: k("querier.lost"),
    resumed: k("querier.resumed"),
    general: k("tx.general_queries"),
    group: k("tx.group_queries"),
    source: k("tx.source_queries"),
    noAddress: k("tx.no_address"),
    down: k("tx.interface_down"),
    groupsFull: k("db.groups_full"),
    sourcesFull: k("db.sources_full"),
    upChanges: k("upstream.changes"),
    upRefused: k("upstream.refused"),
  };
}

/**
 * The IGMP/MLD proxy (RFC 4605): not a default plugin; load it after the
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
    description: "IGMP/MLD proxy (RFC 4605): querier downstream, aggregated membership upstream",
    layer: "middlebox",
    dependencies: ["ipv4", "igmp"],
    binds: [],
    hooks: [{ point: "prerouting" }],
    requires: ["igmp.groups", { service: "mld.groups", optional: true }],
    events: ["interface-added", "interface-removed", "link-changed"],
    counters: [
      ...FORWARD_COUNTERS,
      ...FORWARD_COUNTERS.map((n) => `mld.${n}`),
      "rx.reports_v1",
      "rx.reports_v2",
      "rx.reports_v3",
      "rx.leaves",
      "mld.rx.reports_v1",
      "mld.rx.reports_v2",
      "mld.rx.done",
      ...FAMILY_COUNTERS,
      ...FAMILY_COUNTERS.map((n) => `mld.${n}`),
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
    const p = parametersOf(ctx, action);
    const counter = (n: string): Counter => ctx.counter(n);
    const forwardCounters = (prefix: string): ForwardCounters => ({
      forwarded: counter(`${prefix}fwd.forwarded`),
      ttl: counter(`${prefix}fwd.ttl_exceeded`),
      linkLocal: counter(`${prefix}fwd.link_local`),
      noMembers: counter(`${prefix}fwd.no_members`),
      tooBig: counter(`${prefix}fwd.too_big`),
      down: counter(`${prefix}fwd.interface_down`),
    });
    const fc4 = forwardCounters("");
    const fc6 = forwardCounters("mld.");
    const igmpCounters: IgmpSideCounters = {
      reportsV1: counter("rx.reports_v1"),
      reportsV2: counter("rx.reports_v2"),
      reportsV3: counter("rx.reports_v3"),
      leaves: counter("rx.leaves"),
      linkLocal: counter("rx.link_local_records"),
      badRecord: counter("rx.bad_record"),
      malformed: counter("rx.malformed"),
    };
    const mldCounters: MldSideCounters = {
      reportsV1: counter("mld.rx.reports_v1"),
      reportsV2: counter("mld.rx.reports_v2"),
      done: counter("mld.rx.done"),
      linkLocal: counter("mld.rx.link_local_records"),
      badRecord: counter("mld.rx.bad_record"),
      malformed: counter("mld.rx.malformed"),
    };
    const v4 = new ProxyFamily(
      igmpIo(ctx, p),
      ctx.service<MulticastGroupsService>("igmp.groups"),
      p,
      familyCounters(ctx, ""),
    );
    const mldGroups = ctx.optionalService<MulticastGroupsService>("mld.groups");
    // Without MLD on the contract (or loaded at all), IPv6 is left alone.
    const v6 = mldGroups === undefined || typeof mldGroups.setFilter !== "function"
      ? null
      : new ProxyFamily(mldIo(ctx, p), mldGroups, p, familyCounters(ctx, "mld."));
    const families = v6 === null ? [v4] : [v4, v6];
    /** Interfaces whose `allMulticast` we turned on (and turn off again at teardown). */
    const allMulticastSet = new Set<number>();
    const timer = ctx.timer(fire);

    function adopt(iface: NetInterface): void {
      if (iface.name === upName) { for (const f of families) f.setUpstream(iface.index); }
      if (!downNames.includes(iface.name) || v4.isDownstream(iface.index)) return;
      for (const f of families) f.adopt(iface.index, ctx.now());
      // Reports go to 224.0.0.22 / ff02::16 or the group, and hosts send to any
      // group: hear every multicast frame, as Linux's mrouted sets IFF_ALLMULTI.
      if (!iface.allMulticast) {
        iface.allMulticast = true;
        allMulticastSet.add(iface.index);
      }
    }

    function schedule(): void {
      let at: Instant = NEVER;
      for (const f of families) at = earliest(at, f.nextDeadline());
      if (at === NEVER) timer.cancel();
      else timer.arm(at);
    }

    function fire(now: Instant): void {
      for (const f of families) f.fire(now);
      schedule();
    }

    function hook(_point: HookPoint, pkt: PacketBuffer, h: HookContext): HookVerdict {
      const inIf = h.inIface;
      if (inIf === null) return ACCEPT;
      const b = pkt.buf;
      let f: ProxyFamily;
      if (pkt.family === 4) {
        if (!isIpv4Multicast(pkt.dv.getUint32(pkt.dstAt))) return ACCEPT;
        f = v4;
      } else if (pkt.family === 6 && v6 !== null) {
        if (b[pkt.dstAt] !== 0xff) return ACCEPT;
        f = v6;
      } else return ACCEPT;
      const down = f.isDownstream(inIf.index);
      if (!down && inIf.index !== f.upstream) return ACCEPT;
      // Membership messages are never forwarded; downstream they feed the database.
      if (pkt.family === 4 && pkt.proto === IP_PROTOCOL_IGMP) {
        if (down) {
          igmpIn(pkt, inIf.index, f, ctx.now(), igmpCounters);
          f.syncUpstream();
          schedule();
        }
        return ACCEPT;
      }
      if (pkt.family === 6 && b[pkt.l3 + 6] === 0 && b[pkt.l3 + 7] === 1) {
        // Hop-by-Hop with hop limit 1: MLD, or other link-local signalling.
        if (down && mldIn(pkt, inIf.index, f, ctx.now(), mldCounters)) {
          f.syncUpstream();
          schedule();
        }
        return ACCEPT;
      }
      forwardMulticast(ctx, pkt, inIf, f, f === v4 ? fc4 : fc6);
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
          allMulticastSet.delete(iface.index);
          for (const f of families) f.drop(iface.index);
          break;
        case "link-changed":
          if (!iface.up) break;
          for (const f of families) {
            f.restart(iface.index, ctx.now());
            if (iface.index === f.upstream) f.setUpstream(iface.index);
          }
          break;
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
        for (const f of families) f.close();
        for (const i of allMulticastSet) {
          const iface = ctx.interfaces.get(i);
          if (iface !== undefined) iface.allMulticast = false;
        }
        allMulticastSet.clear();
      },
    };
  },
};
