/**
 * The router side's membership database of one interface, for IGMPv3
 * (RFC 3376 §6) and MLDv2 (RFC 3810 §7) alike: per group a filter mode, a
 * group timer and per-source timers, changed by the hosts' records with
 * the actions of §6.4 (which also say which group- and source-specific
 * queries to send), expired per §6.5, and the older-host compatibility of
 * §7.3.2 (v1/v2 Reports are IS_EX({}), a v2 Leave is TO_IN({}), BLOCK and
 * TO_EX sources are ignored while an older host is present). It sends
 * nothing and reads no clock: the plugin passes `now` and writes queries.
 *
 * In EXCLUDE mode a source whose timer is {@linkcode NEVER} is on the
 * Exclude List (Y), one with a running timer on the Requested List (X).
 *
 * Bounded: `maxGroups` groups and `maxSources` sources per group; what
 * does not fit is refused and counted by the caller.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { MulticastFilterMode } from "../../_services_multicast.ts";
import {
  earliest,
  GroupRecordType as T,
  type KeyFilter,
  NEVER,
} from "../../ip/multicast_groups.ts";
import type { IpKey } from "../../wire/ip_address.ts";

/** The protocol's timer values (RFC 3376 §8), µs. */
export interface RouterTimers {
  /** Group Membership Interval: Robustness × Query Interval + Query Response Interval. */
  readonly gmi: number;
  /** Last Member Query Time: Last Member Query Interval × Count. */
  readonly lmqt: number;
  /** Last Member Query Interval (between retransmitted specific queries). */
  readonly lmqi: number;
  /** Last Member Query Count (specific queries sent per need). */
  readonly lmqc: number;
}

/** One group's state on one interface. */
export interface RouterGroup {
  /** The group. */
  readonly key: IpKey;
  /** The filter mode (§6.2.1). */
  mode: MulticastFilterMode;
  /** EXCLUDE mode's group timer, or NEVER. */
  groupTimer: Instant;
  /** Source → its timer (NEVER: on EXCLUDE's Exclude List). */
  readonly sources: Map<IpKey, Instant>;
  /** Older Host Present timers (§7.3.2), or NEVER. */
  v1HostUntil: Instant;
  /** See `v1HostUntil`. */
  v2HostUntil: Instant;
  /** Group-specific queries still to send (querier only). */
  groupQueriesLeft: number;
  /** Group-and-source-specific queries still to send, per source. */
  readonly sourceQueriesLeft: Map<IpKey, number>;
  /** When the next specific query goes, or NEVER. */
  queryAt: Instant;
}

/** A specific query to send now. */
export interface SpecificQuery {
  /** The group. */
  readonly group: IpKey;
  /** The S flag (§6.6.3: a report refreshed the timers meanwhile). */
  readonly suppress: boolean;
  /** Empty: Group-Specific; else Group-and-Source-Specific. */
  readonly sources: IpKey[];
}

/** Why a record was not taken whole. */
export type RouterRefusal = "groups_full" | "sources_full";

/** Options of {@linkcode RouterMembership}. */
export interface RouterMembershipOptions {
  /** Groups at most. */
  readonly maxGroups: number;
  /** Sources per group at most. */
  readonly maxSources: number;
  /** Told of each refusal (count it). */
  readonly refused: (why: RouterRefusal) => void;
}

/**
 * The membership database of one interface.
 *
 * @example
 * ```ts
 * import { RouterMembership } from "./router_groups.ts";
 * import assert from "node:assert/strict";
 * const t = { gmi: 260e6, lmqt: 2e6, lmqi: 1e6, lmqc: 2 };
 * const db = new RouterMembership({ maxGroups: 8, maxSources: 8, refused: () => {} });
 * db.record(0xef010203, 5, [0x0a000009], 3, 0, t, true); // ALLOW(S)
 * assert.equal(db.forwards(0xef010203, 0x0a000009), true);
 * assert.equal(db.forwards(0xef010203, 0x0a000008), false);
 * db.expire(260e6);
 * assert.equal(db.groups.size, 0);
 * ```
 */
export class RouterMembership {
  /** The groups, by key. */
  readonly groups = new Map<IpKey, RouterGroup>();
  readonly #o: RouterMembershipOptions;

  /** An empty database. */
  constructor(options: RouterMembershipOptions) {
    this.#o = options;
  }

  /**
   * Applies one record (§6.4's tables) heard in a report of `version`
   * (1, 2 or 3). When `querier`, schedules the specific queries the table
   * says to send and lowers the timers they cover (§6.6.3). Returns
   * whether the group's forwarding state may have changed.
   */
  record(
    group: IpKey,
    type: number,
    sources: readonly IpKey[],
    version: 1 | 2 | 3,
    now: Instant,
    t: RouterTimers,
    querier: boolean,
  ): boolean {
    let g = this.groups.get(group);
    if (g === undefined) {
      // A record that asks for nothing creates no state.
      if (
        (type === T.MODE_IS_INCLUDE || type === T.ALLOW_NEW_SOURCES ||
          type === T.CHANGE_TO_INCLUDE) && sources.length === 0
      ) return false;
      if (type === T.BLOCK_OLD_SOURCES) return false;
      if (this.groups.size >= this.#o.maxGroups) {
        this.#o.refused("groups_full");
        return false;
      }
      g = newGroup(group);
      this.groups.set(group, g);
    }
    // §7.3.2: an older host makes the group compatible with it for GMI.
    if (version === 1) g.v1HostUntil = now + t.gmi;
    if (version === 2) g.v2HostUntil = now + t.gmi;
    const older = g.v1HostUntil !== NEVER ? 1 : g.v2HostUntil !== NEVER ? 2 : 3;
    if (older !== 3) {
      if (type === T.BLOCK_OLD_SOURCES) return false;
      if (type === T.CHANGE_TO_EXCLUDE) sources = [];
      if (older === 1 && type === T.CHANGE_TO_INCLUDE && sources.length === 0) return false;
    }
    const q = this.#apply(g, type, sources, now, t);
    if (querier) {
      if (q.sources.length > 0) this.#querySources(g, q.sources, now, t);
      if (q.group) this.#queryGroup(g, now, t);
    }
    this.#dropIfEmpty(g);
    return true;
  }

  /** §6.4: the new state; returns the sources to query and whether Q(G) goes too. */
  #apply(
    g: RouterGroup,
    type: number,
    b: readonly IpKey[],
    now: Instant,
    t: RouterTimers,
  ): { sources: IpKey[]; group: boolean } {
    const gmi = now + t.gmi;
    const src = g.sources;
    const bSet = new Set(b);
    if (g.mode === "include") {
      switch (type) {
        case T.MODE_IS_INCLUDE:
        case T.ALLOW_NEW_SOURCES:
          for (const s of b) this.#set(g, s, gmi);
          return NO_QUERY;
        case T.BLOCK_OLD_SOURCES:
          return { sources: b.filter((s) => src.has(s)), group: false }; // Q(G, A*B)
        case T.CHANGE_TO_INCLUDE: {
          const q = [...src.keys()].filter((s) => !bSet.has(s)); // Q(G, A-B)
          for (const s of b) this.#set(g, s, gmi);
          return { sources: q, group: false };
        }
        case T.MODE_IS_EXCLUDE:
        case T.CHANGE_TO_EXCLUDE: {
          // EXCLUDE (A*B, B-A): (B-A)=0, delete (A-B), group timer GMI.
          const q = b.filter((s) => src.has(s));
          for (const s of [...src.keys()]) if (!bSet.has(s)) src.delete(s);
          for (const s of b) if (!src.has(s)) this.#set(g, s, NEVER);
          g.mode = "exclude";
          g.groupTimer = gmi;
          return type === T.CHANGE_TO_EXCLUDE ? { sources: q, group: false } : NO_QUERY; // Q(G, A*B)
        }
        default:
          return NO_QUERY;
      }
    }
    // EXCLUDE (X, Y).
    switch (type) {
      case T.MODE_IS_INCLUDE:
      case T.ALLOW_NEW_SOURCES:
        for (const s of b) this.#set(g, s, gmi); // (A)=GMI: X+A, Y-A
        return NO_QUERY;
      case T.BLOCK_OLD_SOURCES: {
        // EXCLUDE (X+(A-Y), Y): (A-X-Y)=group timer; Q(G, A-Y).
        for (const s of b) if (!src.has(s)) this.#set(g, s, g.groupTimer);
        return { sources: b.filter((s) => src.has(s) && src.get(s) !== NEVER), group: false };
      }
      case T.CHANGE_TO_EXCLUDE:
      case T.MODE_IS_EXCLUDE: {
        // EXCLUDE (A-Y, Y*A): (A-X-Y)=group timer (IS_EX: GMI), delete X-A and Y-A.
        const fresh = type === T.CHANGE_TO_EXCLUDE ? g.groupTimer : gmi;
        for (const s of [...src.keys()]) if (!bSet.has(s)) src.delete(s);
        for (const s of b) if (!src.has(s)) this.#set(g, s, fresh);
        g.groupTimer = gmi;
        if (type !== T.CHANGE_TO_EXCLUDE) return NO_QUERY;
        return { sources: b.filter((s) => src.has(s) && src.get(s) !== NEVER), group: false };
      }
      case T.CHANGE_TO_INCLUDE: {
        // EXCLUDE (X+A, Y-A): (A)=GMI; Q(G, X-A), Q(G).
        const q = [...src].filter(([s, at]) => at !== NEVER && !bSet.has(s)).map(([s]) => s);
        for (const s of b) this.#set(g, s, gmi);
        return { sources: q, group: true };
      }
      default:
        return NO_QUERY;
    }
  }

  #set(g: RouterGroup, s: IpKey, at: Instant): void {
    if (!g.sources.has(s) && g.sources.size >= this.#o.maxSources) {
      this.#o.refused("sources_full");
      return;
    }
    g.sources.set(s, at);
  }

  /** §6.6.3.1: Q(G) now and LMQC − 1 more times; the group timer falls to LMQT. */
  #queryGroup(g: RouterGroup, now: Instant, t: RouterTimers): void {
    if (g.mode === "exclude" && g.groupTimer > now + t.lmqt) g.groupTimer = now + t.lmqt;
    if (g.groupQueriesLeft > 0) return; // already being queried: the retransmissions go on
    g.groupQueriesLeft = t.lmqc;
    g.queryAt = now;
  }

  /** §6.6.3.2: Q(G,A) now and LMQC − 1 more times; A's timers fall to LMQT. */
  #querySources(g: RouterGroup, a: readonly IpKey[], now: Instant, t: RouterTimers): void {
    for (const s of a) {
      const at = g.sources.get(s);
      if (at === undefined || at === NEVER) continue;
      if (at > now + t.lmqt) g.sources.set(s, now + t.lmqt);
      if (g.sourceQueriesLeft.has(s)) continue; // already being queried
      g.sourceQueriesLeft.set(s, t.lmqc);
      g.queryAt = now;
    }
  }

  /**
   * A query heard from another querier without the S flag (§6.6.1): the
   * group timer (no `sources`) or the sources' timers fall to LMQT.
   */
  heardQuery(group: IpKey, sources: readonly IpKey[], now: Instant, t: RouterTimers): void {
    const g = this.groups.get(group);
    if (g === undefined) return;
    const low = now + t.lmqt;
    if (sources.length === 0) {
      if (g.mode === "exclude" && g.groupTimer > low) g.groupTimer = low;
      return;
    }
    for (const s of sources) {
      const at = g.sources.get(s);
      if (at !== undefined && at !== NEVER && at > low) g.sources.set(s, low);
    }
  }

  /** Forgets every pending specific query (no longer the querier). */
  cancelQueries(): void {
    for (const g of this.groups.values()) {
      g.groupQueriesLeft = 0;
      g.sourceQueriesLeft.clear();
      g.queryAt = NEVER;
    }
  }

  /** The specific queries due at `now` (§6.6.3), with their S flags; schedules the next ones. */
  takeQueries(now: Instant, t: RouterTimers): SpecificQuery[] {
    const out: SpecificQuery[] = [];
    for (const g of this.groups.values()) {
      if (g.queryAt === NEVER || g.queryAt > now) continue;
      const low = now + t.lmqt;
      if (g.groupQueriesLeft > 0) {
        g.groupQueriesLeft--;
        out.push({
          group: g.key,
          suppress: g.mode === "exclude" && g.groupTimer > low,
          sources: [],
        });
      }
      if (g.sourceQueriesLeft.size > 0) {
        const high: IpKey[] = [];
        const lowList: IpKey[] = [];
        for (const [s, left] of g.sourceQueriesLeft) {
          const at = g.sources.get(s);
          if (at !== undefined && at !== NEVER) (at > low ? high : lowList).push(s);
          if (left <= 1 || at === undefined || at === NEVER) g.sourceQueriesLeft.delete(s);
          else g.sourceQueriesLeft.set(s, left - 1);
        }
        if (lowList.length > 0) out.push({ group: g.key, suppress: false, sources: lowList });
        if (high.length > 0) out.push({ group: g.key, suppress: true, sources: high });
      }
      g.queryAt = g.groupQueriesLeft > 0 || g.sourceQueriesLeft.size > 0 ? now + t.lmqi : NEVER;
    }
    return out;
  }

  /** §6.5 and §7.3.2: runs the timers due at `now`; returns the groups whose state changed. */
  expire(now: Instant): IpKey[] {
    const changed: IpKey[] = [];
    for (const g of [...this.groups.values()]) {
      let touched = false;
      if (g.v1HostUntil !== NEVER && g.v1HostUntil <= now) g.v1HostUntil = NEVER;
      if (g.v2HostUntil !== NEVER && g.v2HostUntil <= now) g.v2HostUntil = NEVER;
      for (const [s, at] of g.sources) {
        if (at === NEVER || at > now) continue;
        touched = true;
        if (g.mode === "include") g.sources.delete(s);
        else g.sources.set(s, NEVER); // to the Exclude List
      }
      if (g.mode === "exclude" && g.groupTimer !== NEVER && g.groupTimer <= now) {
        // Back to INCLUDE with the sources whose timers run; the Exclude List goes.
        touched = true;
        g.mode = "include";
        g.groupTimer = NEVER;
        for (const [s, at] of g.sources) if (at === NEVER) g.sources.delete(s);
      }
      if (touched) changed.push(g.key);
      this.#dropIfEmpty(g);
    }
    return changed;
  }

  /** The next instant a timer or a query is due, or NEVER. */
  nextDeadline(): Instant {
    let at: Instant = NEVER;
    for (const g of this.groups.values()) {
      at = earliest(at, g.groupTimer);
      at = earliest(at, g.queryAt);
      at = earliest(at, g.v1HostUntil);
      at = earliest(at, g.v2HostUntil);
      for (const s of g.sources.values()) at = earliest(at, s);
    }
    return at;
  }

  /** Whether (`source`, `group`) is forwarded here (§6.3). Hot path: positional. */
  forwards(group: IpKey, source: IpKey): boolean {
    const g = this.groups.get(group);
    if (g === undefined) return false;
    const at = g.sources.get(source);
    return g.mode === "include" ? at !== undefined : at === undefined || at !== NEVER;
  }

  /** The group's forwarding filter: INCLUDE its sources, or EXCLUDE its Exclude List. */
  filterOf(group: IpKey): KeyFilter | undefined {
    const g = this.groups.get(group);
    if (g === undefined) return undefined;
    const sources = new Set<IpKey>();
    for (const [s, at] of g.sources) if (g.mode === "include" || at === NEVER) sources.add(s);
    return { mode: g.mode, sources };
  }

  #dropIfEmpty(g: RouterGroup): void {
    if (g.mode === "include" && g.sources.size === 0) this.groups.delete(g.key);
  }
}

/** Nothing to query. */
const NO_QUERY = { sources: [] as IpKey[], group: false };

function newGroup(key: IpKey): RouterGroup {
  return {
    key,
    mode: "include",
    groupTimer: NEVER,
    sources: new Map(),
    v1HostUntil: NEVER,
    v2HostUntil: NEVER,
    groupQueriesLeft: 0,
    sourceQueriesLeft: new Map(),
    queryAt: NEVER,
  };
}
