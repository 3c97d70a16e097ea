/**
 * One IP version's half of the proxy, the same for IGMP and MLD: per
 * downstream interface the querier state (RFC 3376 §6.6, RFC 3810 §7.6)
 * and the membership database (`router_groups.ts`), and the union of the
 * downstream memberships held upstream through the family's group service
 * (RFC 4605 §4.1). The protocol side (`igmp_side.ts`, `mld_side.ts`)
 * parses messages into calls here and writes the queries.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Counter } from "../../counters.ts";
import type { MulticastGroupsService } from "../../_services_multicast.ts";
import { earliest, type KeyFilter, mergeFilters, NEVER } from "../../ip/multicast_groups.ts";
import { formatIpKey, type IpKey } from "../../wire/ip_address.ts";
import { RouterMembership, type RouterTimers } from "./router_groups.ts";

/** How soon a General Query is tried again when the interface had no address, µs. */
const NO_ADDRESS_RETRY = 1_000_000;

/** The protocol parameters (RFC 3376 §8, RFC 3810 §9), µs. */
export interface ProxyParameters {
  readonly robustness: number;
  readonly queryInterval: number;
  readonly queryResponseInterval: number;
  readonly lastMemberQueryInterval: number;
  readonly maxGroups: number;
  readonly maxSources: number;
}

/** What a family's protocol side does for the common part. */
export interface FamilyIo {
  /**
   * Sends a query out of `ifindex` (General when `group` is null) with
   * this Max Resp Time (µs): "sent", or why not.
   */
  sendQuery(
    ifindex: number,
    group: IpKey | null,
    maxResp: number,
    suppress: boolean,
    sources: readonly IpKey[],
  ): "sent" | "down" | "no_address";
  /** Our querier address on `ifindex` (IPv4: the first; IPv6: the link-local), if any. */
  address(ifindex: number): IpKey | undefined;
  /** Whether `a` < `b` (the election's order, §6.6.2 / §7.6.2). */
  lower(a: IpKey, b: IpKey): boolean;
}

/** The counters of one family. */
export interface FamilyCounters {
  readonly records: Counter;
  readonly badRecord: Counter;
  readonly queries: Counter;
  readonly lost: Counter;
  readonly resumed: Counter;
  readonly general: Counter;
  readonly group: Counter;
  readonly source: Counter;
  readonly noAddress: Counter;
  readonly down: Counter;
  readonly groupsFull: Counter;
  readonly sourcesFull: Counter;
  readonly upChanges: Counter;
  readonly upRefused: Counter;
}

/** The querier side of one downstream interface. */
interface Downstream {
  readonly ifindex: number;
  readonly db: RouterMembership;
  /** Whether we are the querier here (no lower address heard). */
  querier: boolean;
  /** Until when another querier is present, or NEVER. */
  otherQuerierUntil: Instant;
  /** Startup queries still to send (§8.7). */
  startupLeft: number;
  /** When the next General Query goes, or NEVER. */
  generalAt: Instant;
}

/**
 * One family's querier, databases and upstream membership.
 *
 * @example
 * ```ts
 * import { ProxyFamily } from "./proxy_family.ts";
 * import assert from "node:assert/strict";
 * const n = () => ({ value: 0 });
 * const c = Object.fromEntries(["records", "badRecord", "queries", "lost", "resumed", "general", "group",
 *   "source", "noAddress", "down", "groupsFull", "sourcesFull", "upChanges", "upRefused"].map((k) => [k, n()]));
 * const sent: string[] = [];
 * const io = {
 *   sendQuery: (i: number, g: unknown) => (sent.push(`${i} ${g}`), "sent" as const),
 *   address: () => 5,
 *   lower: (a: unknown, b: unknown) => (a as number) < (b as number),
 * };
 * const p = { robustness: 2, queryInterval: 125e6, queryResponseInterval: 10e6, lastMemberQueryInterval: 1e6, maxGroups: 8, maxSources: 8 };
 * const f = new ProxyFamily(io, undefined, p, c as never);
 * f.adopt(3, 0);
 * f.fire(0);
 * assert.deepEqual(sent, ["3 null"]); // the first startup General Query
 * assert.equal(f.nextDeadline(), 31_250_000); // the next, a quarter interval later
 * ```
 */
export class ProxyFamily {
  /** Downstream interface index → its membership database (for forwarding). */
  readonly databases = new Map<number, RouterMembership>();
  readonly #downstream = new Map<number, Downstream>();
  readonly #io: FamilyIo;
  readonly #groups: MulticastGroupsService | undefined;
  readonly #holder: number;
  readonly #p: ProxyParameters;
  readonly #c: FamilyCounters;
  readonly #timers: RouterTimers;
  readonly #otherQuerierInterval: number;
  readonly #dirty = new Set<IpKey>();
  #upstream = -1;

  /** A family with no interfaces yet; `groups` absent: nothing is held upstream. */
  constructor(
    io: FamilyIo,
    groups: MulticastGroupsService | undefined,
    p: ProxyParameters,
    c: FamilyCounters,
  ) {
    this.#io = io;
    this.#groups = groups;
    this.#holder = groups?.newHolder() ?? 0;
    this.#p = p;
    this.#c = c;
    // RFC 3376 §8 / RFC 3810 §9: the derived values.
    this.#timers = {
      gmi: p.robustness * p.queryInterval + p.queryResponseInterval,
      lmqt: p.lastMemberQueryInterval * p.robustness,
      lmqi: p.lastMemberQueryInterval,
      lmqc: p.robustness,
    };
    this.#otherQuerierInterval = p.robustness * p.queryInterval +
      Math.floor(p.queryResponseInterval / 2);
  }

  /** Whether `ifindex` is one of our downstream interfaces. */
  isDownstream(ifindex: number): boolean {
    return this.#downstream.has(ifindex);
  }

  /** The upstream interface's index, or -1. */
  get upstream(): number {
    return this.#upstream;
  }

  /** Whether we are the querier on downstream interface `ifindex` (RFC 4605 §4.2: we forward there). */
  isQuerier(ifindex: number): boolean {
    return this.#downstream.get(ifindex)?.querier ?? false;
  }

  /** Sets the upstream interface (-1: none) and holds every group there. */
  setUpstream(ifindex: number): void {
    this.#upstream = ifindex;
    for (const db of this.databases.values()) for (const k of db.groups.keys()) this.#dirty.add(k);
    this.syncUpstream();
  }

  /** Starts querying on downstream interface `ifindex` (startup: §8.6-8.7). */
  adopt(ifindex: number, now: Instant): void {
    if (this.#downstream.has(ifindex)) return;
    const c = this.#c;
    const db = new RouterMembership({
      maxGroups: this.#p.maxGroups,
      maxSources: this.#p.maxSources,
      refused: (why) => (why === "groups_full" ? c.groupsFull : c.sourcesFull).value++,
    });
    this.#downstream.set(ifindex, {
      ifindex,
      db,
      querier: true,
      otherQuerierUntil: NEVER,
      startupLeft: this.#p.robustness,
      generalAt: now,
    });
    this.databases.set(ifindex, db);
  }

  /** Forgets downstream interface `ifindex` (removed); its groups are recomputed upstream. */
  drop(ifindex: number): void {
    if (ifindex === this.#upstream) this.#upstream = -1;
    const d = this.#downstream.get(ifindex);
    if (d === undefined) return;
    for (const key of d.db.groups.keys()) this.#dirty.add(key);
    this.#downstream.delete(ifindex);
    this.databases.delete(ifindex);
    this.syncUpstream();
  }

  /** The link came back up: start again as at startup when we are the querier. */
  restart(ifindex: number, now: Instant): void {
    const d = this.#downstream.get(ifindex);
    if (d === undefined || !d.querier) return;
    d.startupLeft = this.#p.robustness;
    d.generalAt = now;
  }

  /** A host's record (already translated for v1/v2 hosts) heard on `ifindex`. */
  hostRecord(
    ifindex: number,
    group: IpKey,
    type: number,
    sources: readonly IpKey[],
    version: 1 | 2 | 3,
    now: Instant,
  ): void {
    const d = this.#downstream.get(ifindex);
    if (d === undefined) return;
    if (type < 1 || type > 6) {
      this.#c.badRecord.value++;
      return;
    }
    this.#c.records.value++;
    if (d.db.record(group, type, sources, version, now, this.#timers, d.querier)) {
      this.#dirty.add(group);
    }
  }

  /**
   * A query from `src` heard on `ifindex`: the election by the lowest address
   * (§6.6.2), and as a non-querier the timer updates of §6.6.1 (`group`
   * null: a General Query; `suppress`: the S flag).
   */
  heardQuery(
    ifindex: number,
    src: IpKey,
    group: IpKey | null,
    sources: readonly IpKey[],
    suppress: boolean,
    now: Instant,
  ): void {
    const d = this.#downstream.get(ifindex);
    if (d === undefined) return;
    this.#c.queries.value++;
    const ours = this.#io.address(ifindex);
    if (ours !== undefined && !this.#io.lower(src, ours)) return; // we stay (or are) the querier
    if (d.querier) {
      d.querier = false;
      d.generalAt = NEVER;
      d.db.cancelQueries();
      this.#c.lost.value++;
    }
    d.otherQuerierUntil = now + this.#otherQuerierInterval;
    if (group === null || suppress) return;
    d.db.heardQuery(group, sources, now, this.#timers);
  }

  /** Runs what is due at `now`: queries, the querier's return, the timers. */
  fire(now: Instant): void {
    const p = this.#p;
    const c = this.#c;
    for (const d of this.#downstream.values()) {
      if (d.otherQuerierUntil !== NEVER && d.otherQuerierUntil <= now) {
        // §6.6.2: the other querier went quiet; we query again.
        d.otherQuerierUntil = NEVER;
        d.querier = true;
        d.generalAt = now;
        c.resumed.value++;
      }
      if (d.querier && d.generalAt !== NEVER && d.generalAt <= now) {
        const r = this.#io.sendQuery(d.ifindex, null, p.queryResponseInterval, false, []);
        this.#count(r, c.general);
        if (r === "no_address") {
          // No address yet (IPv6's link-local still tentative): try again soon,
          // the startup queries still to come.
          d.generalAt = now + NO_ADDRESS_RETRY;
        } else {
          if (d.startupLeft > 0) d.startupLeft--;
          d.generalAt = now +
            (d.startupLeft > 0 ? Math.floor(p.queryInterval / 4) : p.queryInterval);
        }
      }
      if (d.querier) {
        for (const q of d.db.takeQueries(now, this.#timers)) {
          const r = this.#io.sendQuery(
            d.ifindex,
            q.group,
            p.lastMemberQueryInterval,
            q.suppress,
            q.sources,
          );
          this.#count(r, q.sources.length === 0 ? c.group : c.source);
        }
      }
      for (const key of d.db.expire(now)) this.#dirty.add(key);
    }
    this.syncUpstream();
  }

  #count(r: "sent" | "down" | "no_address", sent: Counter): void {
    (r === "sent" ? sent : r === "down" ? this.#c.down : this.#c.noAddress).value++;
  }

  /** The next instant something is due, or NEVER. */
  nextDeadline(): Instant {
    let at: Instant = NEVER;
    for (const d of this.#downstream.values()) {
      at = earliest(at, d.generalAt);
      at = earliest(at, d.otherQuerierUntil);
      at = earliest(at, d.db.nextDeadline());
    }
    return at;
  }

  /** RFC 4605 §4.1: each changed group's union (RFC 3376 §3.2) set upstream. */
  syncUpstream(): void {
    if (this.#dirty.size === 0) return;
    const keys = [...this.#dirty];
    this.#dirty.clear();
    const groups = this.#groups;
    if (this.#upstream < 0 || groups === undefined) return;
    for (const key of keys) {
      const filters: KeyFilter[] = [];
      for (const db of this.databases.values()) {
        const f = db.filterOf(key);
        if (f !== undefined) filters.push(f);
      }
      const m = mergeFilters(filters);
      try {
        const changed = groups.setFilter(this.#upstream, formatIpKey(key), this.#holder, {
          mode: m.mode,
          sources: [...m.sources].map(formatIpKey),
        });
        if (changed) this.#c.upChanges.value++;
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        this.#c.upRefused.value++; // the group table is full: not asked for upstream
      }
    }
  }

  /** Drops the upstream holder and every downstream interface (teardown). */
  close(): void {
    this.#groups?.dropHolder(this.#holder);
    this.#downstream.clear();
    this.databases.clear();
  }
}
