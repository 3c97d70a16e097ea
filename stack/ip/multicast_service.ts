/**
 * The {@linkcode MulticastGroupsService} over a {@linkcode MulticastGroupTable},
 * for IGMP (`igmp.groups`) and MLD (`mld.groups`) alike: argument checks
 * (stack/validate.ts policy) before any state changes, holder ids, and the
 * rows of `list()`. The protocol plugin supplies the family's rules and is
 * told which interface changed, to schedule its reports.
 *
 * @module
 */
import type { Instant } from "../clock.ts";
import { type InterfaceTable, MAX_INTERFACE_INDEX } from "../netif.ts";
import type {
  MulticastFilter,
  MulticastGroupRow,
  MulticastGroupsService,
} from "../_services_multicast.ts";
import { checkInteger } from "../validate.ts";
import { formatIpKey, IpAddress, type IpKey } from "../wire/ip_address.ts";
import {
  ANY_SOURCE,
  type GroupTableRefusal,
  isListeningFilter,
  type KeyFilter,
  type MulticastGroupTable,
} from "./multicast_groups.ts";

/** What the service needs from its plugin. */
export interface MulticastServiceHost {
  /** 4 (IGMP) or 6 (MLD). */
  readonly family: 4 | 6;
  /** The plugin's group table. */
  readonly table: MulticastGroupTable;
  /** The stack's interfaces. */
  readonly interfaces: Pick<InterfaceTable, "get">;
  /** Whether a user may join `key` (a multicast group of the family, not a reserved scope). */
  readonly joinable: (key: IpKey) => boolean;
  /** The Robustness Variable in force on `ifindex`. */
  readonly robustness: (ifindex: number) => number;
  /** The stack's clock. */
  readonly now: () => Instant;
  /** Called after `ifindex`'s state for `group` changed (schedule reports). */
  readonly changed: (ifindex: number, group: IpKey) => void;
  /** Called on a refusal, before the RangeError (count it). */
  readonly refused: (why: GroupTableRefusal) => void;
}

/**
 * Builds the service. Holder ids start at 1 and are never reused.
 *
 * @param host the plugin's side.
 * @returns the service object to provide.
 * @example
 * ```ts
 * import { MulticastGroupTable } from "./multicast_groups.ts";
 * import { multicastGroupsService } from "./multicast_service.ts";
 * import assert from "node:assert/strict";
 * const table = new MulticastGroupTable({ maxGroups: 8, maxSources: 8, isReported: () => true });
 * const svc = multicastGroupsService({
 *   family: 4, table, interfaces: { get: (i: number) => i === 1 ? { index: 1, name: "eth0" } as never : undefined },
 *   joinable: () => true, robustness: () => 2, now: () => 0, changed: () => {}, refused: () => {},
 * });
 * assert.equal(svc.join(1, "239.1.2.3"), true);
 * assert.throws(() => svc.join(2, "239.1.2.3"), RangeError);
 * assert.throws(() => svc.join(1, "ff02::1"), TypeError);
 * ```
 */
export function multicastGroupsService(host: MulticastServiceHost): MulticastGroupsService {
  const { table, family } = host;
  let nextHolder = 1;
  /** `join` references per "ifindex key"; together they are one holder, JOIN_HOLDER. */
  const joins = new Map<string, number>();

  function groupKey(group: unknown, action: string): IpKey {
    if (typeof group !== "string") {
      throw new TypeError(`${action}: group ${String(group)} is not a string`);
    }
    const a = IpAddress.parse(group);
    if (a === null || a.family !== family) {
      throw new TypeError(`${action}: "${group}" is not an IPv${family} address`);
    }
    if (!host.joinable(a.key)) {
      throw new RangeError(`${action}: ${group} is not a multicast group one can join`);
    }
    return a.key;
  }

  function ifindexOf(ifindex: unknown, action: string): number {
    checkInteger(ifindex, 0, MAX_INTERFACE_INDEX, action, "ifindex");
    if (host.interfaces.get(ifindex as number) === undefined) {
      throw new RangeError(`${action}: there is no interface ${ifindex}`);
    }
    return ifindex as number;
  }

  function filterOf(filter: unknown, action: string): KeyFilter {
    if (typeof filter !== "object" || filter === null) {
      throw new TypeError(`${action}: the filter is not an object`);
    }
    const f = filter as MulticastFilter;
    if (f.mode !== "include" && f.mode !== "exclude") {
      throw new TypeError(`${action}: filter mode ${String(f.mode)} is not "include" or "exclude"`);
    }
    if (!Array.isArray(f.sources)) throw new TypeError(`${action}: filter sources is not an array`);
    const sources = new Set<IpKey>();
    for (const s of f.sources) {
      const a = typeof s === "string" ? IpAddress.parse(s) : null;
      if (a === null || a.family !== family) {
        throw new TypeError(`${action}: source ${String(s)} is not an IPv${family} address`);
      }
      sources.add(a.key);
    }
    return { mode: f.mode, sources };
  }

  function outcome(
    r: boolean | GroupTableRefusal,
    action: string,
    ifindex: number,
    key: IpKey,
  ): boolean {
    if (typeof r === "string") {
      host.refused(r);
      const what = r === "groups_full" ? "its group table is full" : "too many sources";
      throw new RangeError(`${action} on interface ${ifindex}: ${what}`);
    }
    if (r) host.changed(ifindex, key);
    return r;
  }

  return {
    newHolder(): number {
      return nextHolder++;
    },
    setFilter(ifindex: number, group: string, holder: number, filter: MulticastFilter): boolean {
      const action = `Cannot set the filter of group ${String(group)}`;
      const key = groupKey(group, action);
      const i = ifindexOf(ifindex, action);
      checkInteger(holder, 1, Number.MAX_SAFE_INTEGER, action, "holder");
      const f = filterOf(filter, action);
      return outcome(table.set(i, key, holder, f, host.robustness(i), host.now()), action, i, key);
    },
    dropHolder(holder: number): boolean {
      checkInteger(holder, 1, Number.MAX_SAFE_INTEGER, "Cannot drop a holder", "holder");
      const before = new Map<string, [number, IpKey]>();
      for (const s of table.interfaces()) {
        for (const g of s.groups.values()) {
          if (g.holders.has(holder)) before.set(`${s.ifindex} ${g.key}`, [s.ifindex, g.key]);
        }
      }
      let changed = false;
      for (const [ifindex, key] of before.values()) {
        const g = table.interface(ifindex)?.groups.get(key);
        const f = g?.holders.get(holder);
        if (f === undefined) continue;
        const r = table.set(ifindex, key, holder, NONE, host.robustness(ifindex), host.now());
        if (r === true) {
          changed = true;
          host.changed(ifindex, key);
        }
      }
      return changed;
    },
    join(ifindex: number, group: string): boolean {
      const action = `Cannot join group ${String(group)}`;
      const key = groupKey(group, action);
      const i = ifindexOf(ifindex, action);
      const id = `${i} ${key}`;
      const n = joins.get(id) ?? 0;
      const was = table.isMember(i, key);
      if (n === 0) {
        const r = table.set(i, key, JOIN_HOLDER, ANY_SOURCE, host.robustness(i), host.now());
        outcome(r, action, i, key);
      }
      joins.set(id, n + 1);
      return !was;
    },
    leave(ifindex: number, group: string): boolean {
      const action = `Cannot leave group ${String(group)}`;
      const key = groupKey(group, action);
      const i = ifindexOf(ifindex, action);
      const id = `${i} ${key}`;
      const n = joins.get(id) ?? 0;
      if (n === 0) return false;
      if (n > 1) {
        joins.set(id, n - 1);
        return false;
      }
      joins.delete(id);
      const r = table.set(i, key, JOIN_HOLDER, NONE, host.robustness(i), host.now());
      if (r === true) host.changed(i, key);
      return !table.isMember(i, key);
    },
    isMember(ifindex: number, group: IpKey): boolean {
      return table.isMember(ifindex, group);
    },
    accepts(ifindex: number, group: IpKey, source: IpKey): boolean {
      return table.accepts(ifindex, group, source);
    },
    list(): MulticastGroupRow[] {
      const rows: MulticastGroupRow[] = [];
      const ifaces = [...table.interfaces()].sort((a, b) => a.ifindex - b.ifindex);
      for (const s of ifaces) {
        const iface = host.interfaces.get(s.ifindex);
        if (iface === undefined) continue;
        for (const g of s.groups.values()) {
          if (!isListeningFilter(g.state)) continue;
          rows.push({
            family,
            ifindex: s.ifindex,
            ifname: iface.name,
            group: g.text,
            mode: g.state.mode,
            sources: [...g.state.sources].map(formatIpKey).sort(),
            users: g.holders.size - (g.holders.has(JOIN_HOLDER) ? 1 : 0) +
              (joins.get(`${s.ifindex} ${g.key}`) ?? 0) + g.stackRefs,
            reported: g.reported,
          });
        }
      }
      return rows;
    },
  };
}

const NONE: KeyFilter = { mode: "include", sources: new Set() };
/** The holder id of `join` (users' ids start at 1). */
const JOIN_HOLDER = 0;
