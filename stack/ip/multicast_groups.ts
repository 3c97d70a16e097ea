/**
 * The per-interface multicast group table, for IGMPv3 (RFC 3376) and MLDv2
 * (RFC 3810) alike: who holds which filter on which group, the merged
 * interface state (RFC 3376 §3.2), the State Change records between two
 * states (§5.1's table) and their retransmission bookkeeping with the
 * Robustness Variable, and the pending answers to queries (§5.2). It knows
 * no message format and no clock of its own: the protocol plugin decides
 * when to send and writes the bytes.
 *
 * Bounded: groups per interface (`maxGroups`, leaving ones included until
 * their last record goes) and sources per filter and per merged state
 * (`maxSources`); a refusal is a result the plugin counts and turns into a
 * RangeError.
 *
 * @module
 */
import type { Instant } from "../clock.ts";
import type { MulticastFilterMode } from "../_services_multicast.ts";
import { formatIpKey, type IpKey } from "../wire/ip_address.ts";

/** "Not scheduled", for the instants below. */
export const NEVER = -1;

/**
 * Group Record types, the same numbers in IGMPv3 (RFC 3376 §4.2.12) and
 * MLDv2 (RFC 3810 §5.2.12).
 *
 * @example
 * ```ts
 * import { GroupRecordType } from "./multicast_groups.ts";
 * import assert from "node:assert/strict";
 * assert.equal(GroupRecordType.CHANGE_TO_EXCLUDE, 4);
 * ```
 */
export const GroupRecordType = {
  /** Current state: INCLUDE with the listed sources. */
  MODE_IS_INCLUDE: 1,
  /** Current state: EXCLUDE with the listed sources. */
  MODE_IS_EXCLUDE: 2,
  /** Filter mode changed to INCLUDE (TO_IN). */
  CHANGE_TO_INCLUDE: 3,
  /** Filter mode changed to EXCLUDE (TO_EX). */
  CHANGE_TO_EXCLUDE: 4,
  /** Sources now heard (ALLOW). */
  ALLOW_NEW_SOURCES: 5,
  /** Sources no longer heard (BLOCK). */
  BLOCK_OLD_SOURCES: 6,
} as const;

/** A filter over source keys: one holder's, or the interface's merged one. */
export interface KeyFilter {
  /** INCLUDE: only `sources`; EXCLUDE: all but `sources`. */
  readonly mode: MulticastFilterMode;
  /** Source keys of the group's family. */
  readonly sources: ReadonlySet<IpKey>;
}

/** One record of a report: its type and sources (the group is the caller's). */
export interface SourceRecord {
  /** A {@linkcode GroupRecordType}. */
  readonly type: number;
  /** Its sources, in insertion order. */
  readonly sources: readonly IpKey[];
}

/** One record of a report, with its group. */
export interface GroupRecord extends SourceRecord {
  /** The group. */
  readonly group: IpKey;
}

/** INCLUDE {}: no membership. */
export const NO_MEMBERSHIP: KeyFilter = { mode: "include", sources: new Set() };
/** EXCLUDE {}: an any-source join. */
export const ANY_SOURCE: KeyFilter = { mode: "exclude", sources: new Set() };

/**
 * Merges holders' filters into the interface state (RFC 3376 §3.2): any
 * EXCLUDE gives EXCLUDE with the intersection of the exclude lists minus
 * the union of the include lists; otherwise INCLUDE with the union.
 *
 * @param filters the holders' filters (none: INCLUDE {}).
 * @returns the merged filter.
 * @example
 * ```ts
 * import { mergeFilters } from "./multicast_groups.ts";
 * import assert from "node:assert/strict";
 * const m = mergeFilters([
 *   { mode: "exclude", sources: new Set([1, 2, 3]) },
 *   { mode: "exclude", sources: new Set([2, 3, 4]) },
 *   { mode: "include", sources: new Set([3, 9]) },
 * ]);
 * assert.equal(m.mode, "exclude");
 * assert.deepEqual([...m.sources], [2]);
 * ```
 */
export function mergeFilters(filters: Iterable<KeyFilter>): KeyFilter {
  let excluded: Set<IpKey> | null = null;
  const included = new Set<IpKey>();
  for (const f of filters) {
    if (f.mode === "include") {
      for (const s of f.sources) included.add(s);
    } else if (excluded === null) {
      excluded = new Set(f.sources);
    } else {
      for (const s of excluded) if (!f.sources.has(s)) excluded.delete(s);
    }
  }
  if (excluded === null) return { mode: "include", sources: included };
  for (const s of included) excluded.delete(s);
  return { mode: "exclude", sources: excluded };
}

/**
 * The State Change records from `before` to `after` (RFC 3376 §5.1):
 * INCLUDE(A)→INCLUDE(B): ALLOW(B−A), BLOCK(A−B); EXCLUDE(A)→EXCLUDE(B):
 * ALLOW(A−B), BLOCK(B−A); INCLUDE→EXCLUDE(B): TO_EX(B);
 * EXCLUDE→INCLUDE(B): TO_IN(B). Empty ALLOW/BLOCK records are left out.
 *
 * @param before the old interface state.
 * @param after the new one.
 * @returns the records, none when nothing changed.
 * @example
 * ```ts
 * import { GroupRecordType, stateChangeRecords } from "./multicast_groups.ts";
 * import assert from "node:assert/strict";
 * const r = stateChangeRecords(
 *   { mode: "include", sources: new Set([1, 2]) },
 *   { mode: "include", sources: new Set([2, 3]) },
 * );
 * assert.deepEqual(r, [
 *   { type: GroupRecordType.ALLOW_NEW_SOURCES, sources: [3] },
 *   { type: GroupRecordType.BLOCK_OLD_SOURCES, sources: [1] },
 * ]);
 * ```
 */
export function stateChangeRecords(before: KeyFilter, after: KeyFilter): SourceRecord[] {
  if (before.mode !== after.mode) {
    return [{
      type: after.mode === "exclude"
        ? GroupRecordType.CHANGE_TO_EXCLUDE
        : GroupRecordType.CHANGE_TO_INCLUDE,
      sources: [...after.sources],
    }];
  }
  const added = minus(after.sources, before.sources);
  const removed = minus(before.sources, after.sources);
  // INCLUDE: added sources are allowed; EXCLUDE: added sources are blocked.
  const allow = before.mode === "include" ? added : removed;
  const block = before.mode === "include" ? removed : added;
  const out: SourceRecord[] = [];
  if (allow.length > 0) out.push({ type: GroupRecordType.ALLOW_NEW_SOURCES, sources: allow });
  if (block.length > 0) out.push({ type: GroupRecordType.BLOCK_OLD_SOURCES, sources: block });
  return out;
}

function minus(a: ReadonlySet<IpKey>, b: ReadonlySet<IpKey>): IpKey[] {
  const out: IpKey[] = [];
  for (const x of a) if (!b.has(x)) out.push(x);
  return out;
}

/** Whether `f` lets `source` in. */
export function filterAccepts(f: KeyFilter, source: IpKey): boolean {
  return f.mode === "exclude" ? !f.sources.has(source) : f.sources.has(source);
}

/** Whether `f` is a membership at all (not INCLUDE {}). */
export function isListeningFilter(f: KeyFilter): boolean {
  return f.mode === "exclude" || f.sources.size > 0;
}

/** One group on one interface. */
export interface GroupEntry {
  /** The group. */
  readonly key: IpKey;
  /** Its text form. */
  readonly text: string;
  /** Whether reports ever mention it (not 224.0.0.1, ff02::1, node-local scope). */
  readonly reported: boolean;
  /** Holders' filters (sockets); never INCLUDE {}. */
  readonly holders: Map<number, KeyFilter>;
  /** The stack's own any-source joins, reference-counted. */
  stackRefs: number;
  /** The merged interface state (§3.2). */
  state: KeyFilter;
  /** Filter-mode-change records still to send (§5.1). */
  modeChangesLeft: number;
  /** Per source, State Change Reports still to carry it (§5.1). */
  readonly sourceChangesLeft: Map<IpKey, number>;
  /** When the answer to a group(-and-source) query goes (§5.2), or NEVER. */
  reportAt: Instant;
  /** The sources that answer asks about; null for the whole group. */
  querySources: Set<IpKey> | null;
  /** Older versions: unsolicited reports still to send (RFC 2236 §3). */
  compatReportsLeft: number;
  /** Older versions: we sent the last report, so we send the leave (RFC 2236 §3). */
  lastReporter: boolean;
}

/** One interface's groups and its pending State Change Report. */
export interface InterfaceGroups {
  /** The interface index. */
  readonly ifindex: number;
  /** Groups in join order, leaving ones kept until their last record goes. */
  readonly groups: Map<IpKey, GroupEntry>;
  /** When the next State Change Report goes, or NEVER. */
  changeAt: Instant;
  /** When the answer to a General Query goes (the Interface Timer), or NEVER. */
  generalAt: Instant;
}

/** Why the table refused a change. */
export type GroupTableRefusal = "groups_full" | "sources_full";

/** Limits and classification for a {@linkcode MulticastGroupTable}. */
export interface MulticastGroupTableOptions {
  /** Groups per interface, leaving ones included. */
  readonly maxGroups: number;
  /** Sources per holder filter and per merged state. */
  readonly maxSources: number;
  /** Whether a group is ever reported. */
  readonly isReported: (key: IpKey) => boolean;
  /** Called when an interface starts (`true`) or stops listening to a group (the link filter). */
  readonly onListening?: (ifindex: number, key: IpKey, listening: boolean) => void;
}

/**
 * Groups per interface with their holders, merged state and pending
 * records. The plugin calls {@linkcode MulticastGroupTable.set} (or
 * `holdStack`/`releaseStack`) with the Robustness Variable in force; a
 * change arms the interface's State Change Report (`changeAt` = now), and
 * {@linkcode MulticastGroupTable.takeChangeRecords} builds each
 * transmission.
 *
 * @example
 * ```ts
 * import { GroupRecordType, MulticastGroupTable } from "./multicast_groups.ts";
 * import assert from "node:assert/strict";
 * const t = new MulticastGroupTable({ maxGroups: 8, maxSources: 8, isReported: () => true });
 * assert.equal(t.set(1, 0xef010203, 7, { mode: "exclude", sources: new Set() }, 2, 0), true);
 * assert.equal(t.isMember(1, 0xef010203), true);
 * const first = t.takeChangeRecords(t.interface(1)!);
 * assert.deepEqual(first.records, [{ group: 0xef010203, type: GroupRecordType.CHANGE_TO_EXCLUDE, sources: [] }]);
 * assert.equal(first.more, true); // robustness 2: once more
 * ```
 */
export class MulticastGroupTable {
  readonly #o: MulticastGroupTableOptions;
  readonly #ifaces = new Map<number, InterfaceGroups>();

  constructor(options: MulticastGroupTableOptions) {
    this.#o = options;
  }

  /** The state of `ifindex`, or undefined before anything was joined there. */
  interface(ifindex: number): InterfaceGroups | undefined {
    return this.#ifaces.get(ifindex);
  }

  /** Every interface's state. */
  interfaces(): IterableIterator<InterfaceGroups> {
    return this.#ifaces.values();
  }

  /** The state of `ifindex`, created empty. */
  ensure(ifindex: number): InterfaceGroups {
    let s = this.#ifaces.get(ifindex);
    if (s === undefined) {
      s = { ifindex, groups: new Map(), changeAt: NEVER, generalAt: NEVER };
      this.#ifaces.set(ifindex, s);
    }
    return s;
  }

  /** Forgets an interface (removed). */
  remove(ifindex: number): void {
    const s = this.#ifaces.get(ifindex);
    if (s === undefined) return;
    this.#ifaces.delete(ifindex);
    for (const g of s.groups.values()) {
      if (isListeningFilter(g.state)) this.#o.onListening?.(ifindex, g.key, false);
    }
  }

  /** Whether `ifindex` listens to `group` at all. Hot path. */
  isMember(ifindex: number, group: IpKey): boolean {
    const g = this.#ifaces.get(ifindex)?.groups.get(group);
    return g !== undefined && isListeningFilter(g.state);
  }

  /** Whether `ifindex`'s merged filter for `group` lets `source` in. Hot path. */
  accepts(ifindex: number, group: IpKey, source: IpKey): boolean {
    const g = this.#ifaces.get(ifindex)?.groups.get(group);
    return g !== undefined && filterAccepts(g.state, source);
  }

  /**
   * Sets (or with INCLUDE {} removes) `holder`'s filter. Returns whether the
   * merged state changed, or why the table refused (nothing changed then).
   */
  set(
    ifindex: number,
    group: IpKey,
    holder: number,
    filter: KeyFilter,
    robustness: number,
    now: Instant,
  ): boolean | GroupTableRefusal {
    if (filter.sources.size > this.#o.maxSources) return "sources_full";
    const s = this.ensure(ifindex);
    let g = s.groups.get(group);
    const remove = !isListeningFilter(filter);
    if (g === undefined) {
      if (remove) return false;
      if (s.groups.size >= this.#o.maxGroups) return "groups_full";
      g = this.#newEntry(group);
    }
    const old = g.holders.get(holder);
    if (remove) g.holders.delete(holder);
    else g.holders.set(holder, filter);
    const merged = this.#merge(g);
    if (merged.sources.size > this.#o.maxSources) {
      if (old === undefined) g.holders.delete(holder);
      else g.holders.set(holder, old);
      return "sources_full";
    }
    if (!s.groups.has(group)) s.groups.set(group, g);
    return this.#apply(s, g, merged, robustness, now);
  }

  /** Adds a stack-held any-source join. Returns whether the state changed, or a refusal. */
  holdStack(
    ifindex: number,
    group: IpKey,
    robustness: number,
    now: Instant,
  ): boolean | GroupTableRefusal {
    const s = this.ensure(ifindex);
    let g = s.groups.get(group);
    if (g === undefined) {
      if (s.groups.size >= this.#o.maxGroups) return "groups_full";
      g = this.#newEntry(group);
      s.groups.set(group, g);
    }
    g.stackRefs++;
    return this.#apply(s, g, this.#merge(g), robustness, now);
  }

  /** Drops one stack-held join; whether the state changed (false if none was held). */
  releaseStack(ifindex: number, group: IpKey, robustness: number, now: Instant): boolean {
    const s = this.#ifaces.get(ifindex);
    const g = s?.groups.get(group);
    if (s === undefined || g === undefined || g.stackRefs === 0) return false;
    g.stackRefs--;
    return this.#apply(s, g, this.#merge(g), robustness, now);
  }

  /** Drops every filter of `holder`; whether any state changed. */
  dropHolder(holder: number, robustness: number, now: Instant): boolean {
    let changed = false;
    for (const s of this.#ifaces.values()) {
      for (const g of [...s.groups.values()]) {
        if (!g.holders.delete(holder)) continue;
        if (this.#apply(s, g, this.#merge(g), robustness, now)) changed = true;
      }
    }
    return changed;
  }

  #newEntry(key: IpKey): GroupEntry {
    return {
      key,
      text: formatIpKey(key),
      reported: this.#o.isReported(key),
      holders: new Map(),
      stackRefs: 0,
      state: NO_MEMBERSHIP,
      modeChangesLeft: 0,
      sourceChangesLeft: new Map(),
      reportAt: NEVER,
      querySources: null,
      compatReportsLeft: 0,
      lastReporter: false,
    };
  }

  #merge(g: GroupEntry): KeyFilter {
    const all: KeyFilter[] = [...g.holders.values()];
    if (g.stackRefs > 0) all.push(ANY_SOURCE);
    return mergeFilters(all);
  }

  /** Installs a new merged state and schedules its records (§5.1). */
  #apply(
    s: InterfaceGroups,
    g: GroupEntry,
    next: KeyFilter,
    robustness: number,
    now: Instant,
  ): boolean {
    const records = stateChangeRecords(g.state, next);
    if (records.length === 0) {
      if (!isListeningFilter(next)) this.#forgetIfIdle(s, g);
      return false;
    }
    const was = isListeningFilter(g.state);
    g.state = next;
    const is = isListeningFilter(next);
    if (was !== is) this.#o.onListening?.(s.ifindex, g.key, is);
    if (g.reported) {
      for (const r of records) {
        if (
          r.type === GroupRecordType.CHANGE_TO_EXCLUDE ||
          r.type === GroupRecordType.CHANGE_TO_INCLUDE
        ) {
          g.modeChangesLeft = robustness;
        }
        for (const src of r.sources) g.sourceChangesLeft.set(src, robustness);
      }
      // §5.1: each change sends a (merged) State Change Report at once.
      s.changeAt = now;
    }
    if (!is) {
      g.reportAt = NEVER;
      g.querySources = null;
      this.#forgetIfIdle(s, g);
    }
    return true;
  }

  /** Removes a group nobody holds once nothing about it is still to be sent. */
  #forgetIfIdle(s: InterfaceGroups, g: GroupEntry): void {
    if (isListeningFilter(g.state) || g.holders.size > 0 || g.stackRefs > 0) return;
    if (g.modeChangesLeft > 0 || g.sourceChangesLeft.size > 0) return;
    s.groups.delete(g.key);
  }

  /**
   * One State Change Report's records for `s` (§5.1), counting one
   * transmission: a filter-mode-change record (TO_IN/TO_EX with the current
   * sources) while those are due, else ALLOW/BLOCK records of the sources
   * still due, by whether the current state hears them. `more` says whether
   * another transmission is due.
   */
  takeChangeRecords(s: InterfaceGroups): { records: GroupRecord[]; more: boolean } {
    const records: GroupRecord[] = [];
    let more = false;
    for (const g of [...s.groups.values()]) {
      if (g.modeChangesLeft === 0 && g.sourceChangesLeft.size === 0) continue;
      if (g.modeChangesLeft > 0) {
        records.push({
          group: g.key,
          type: g.state.mode === "exclude"
            ? GroupRecordType.CHANGE_TO_EXCLUDE
            : GroupRecordType.CHANGE_TO_INCLUDE,
          sources: [...g.state.sources],
        });
        g.modeChangesLeft--;
      } else {
        const allow: IpKey[] = [];
        const block: IpKey[] = [];
        for (const src of g.sourceChangesLeft.keys()) {
          (filterAccepts(g.state, src) ? allow : block).push(src);
        }
        if (allow.length > 0) {
          records.push({ group: g.key, type: GroupRecordType.ALLOW_NEW_SOURCES, sources: allow });
        }
        if (block.length > 0) {
          records.push({ group: g.key, type: GroupRecordType.BLOCK_OLD_SOURCES, sources: block });
        }
      }
      for (const [src, n] of g.sourceChangesLeft) {
        if (n <= 1) g.sourceChangesLeft.delete(src);
        else g.sourceChangesLeft.set(src, n - 1);
      }
      if (g.modeChangesLeft > 0 || g.sourceChangesLeft.size > 0) more = true;
      else this.#forgetIfIdle(s, g);
    }
    return { records, more };
  }

  /**
   * Drops the State Change records still due on `s`, keeping query answers
   * and older-version timers: an older-version mode sends none (RFC 3376
   * §7.2.1, RFC 3810 §8.2.1). Groups nobody holds any more go.
   */
  clearChanges(s: InterfaceGroups): void {
    s.changeAt = NEVER;
    for (const g of [...s.groups.values()]) {
      g.modeChangesLeft = 0;
      g.sourceChangesLeft.clear();
      this.#forgetIfIdle(s, g);
    }
  }

  /** Cancels every pending transmission of `s` (link down, older-version querier heard). */
  cancelPending(s: InterfaceGroups): void {
    s.changeAt = NEVER;
    s.generalAt = NEVER;
    for (const g of [...s.groups.values()]) {
      g.modeChangesLeft = 0;
      g.sourceChangesLeft.clear();
      g.reportAt = NEVER;
      g.querySources = null;
      g.compatReportsLeft = 0;
      this.#forgetIfIdle(s, g);
    }
  }

  /**
   * Re-announces every reported group of `s` as if just joined (link up):
   * a filter-mode-change record each, `robustness` times.
   */
  reannounce(s: InterfaceGroups, robustness: number, now: Instant): void {
    for (const g of s.groups.values()) {
      if (!g.reported || !isListeningFilter(g.state)) continue;
      g.modeChangesLeft = robustness;
      s.changeAt = now;
    }
  }

  /**
   * Schedules the answer to a query (RFC 3376 §5.2 rules 1–4): `group`
   * undefined for a General Query, `sources` empty for a group-specific one.
   * Returns false when `group` is not a reported membership here.
   */
  scheduleAnswer(
    s: InterfaceGroups,
    at: Instant,
    group?: IpKey,
    sources?: readonly IpKey[],
  ): boolean {
    // Rule 1: a pending General Query answer due sooner covers this one.
    if (s.generalAt !== NEVER && s.generalAt <= at) return true;
    if (group === undefined) {
      s.generalAt = at; // rule 2
      return true;
    }
    const g = s.groups.get(group);
    if (g === undefined || !g.reported || !isListeningFilter(g.state)) return false;
    if (g.reportAt === NEVER) {
      // Rule 3.
      g.reportAt = at;
      // Past maxSources (a reassembled query can list thousands): answer for the whole group.
      g.querySources = sources !== undefined && sources.length > 0 &&
          sources.length <= this.#o.maxSources
        ? new Set(sources)
        : null;
      return true;
    }
    // Rule 4.
    if (sources === undefined || sources.length === 0 || g.querySources === null) {
      g.querySources = null;
    } else if (g.querySources.size + sources.length <= this.#o.maxSources) {
      for (const src of sources) g.querySources.add(src);
    } else {
      g.querySources = null; // too many to track: answer for the whole group
    }
    if (at < g.reportAt) g.reportAt = at;
    return true;
  }

  /** The Current-State records answering a General Query: every reported membership. */
  currentStateRecords(s: InterfaceGroups): GroupRecord[] {
    const out: GroupRecord[] = [];
    for (const g of s.groups.values()) {
      if (!g.reported || !isListeningFilter(g.state)) continue;
      out.push(currentRecord(g));
    }
    return out;
  }

  /**
   * The records of group answers due by `now` (§5.2's timer expiry, cases 2
   * and 3), clearing them: IS_IN/IS_EX of the current state, or for a
   * source list B: INCLUDE(A) → IS_IN(A∩B), EXCLUDE(A) → IS_IN(B−A); an
   * empty answer is not sent.
   */
  takeGroupAnswers(s: InterfaceGroups, now: Instant): GroupRecord[] {
    const out: GroupRecord[] = [];
    for (const g of s.groups.values()) {
      if (g.reportAt === NEVER || g.reportAt > now) continue;
      const asked = g.querySources;
      g.reportAt = NEVER;
      g.querySources = null;
      if (!isListeningFilter(g.state)) continue;
      if (asked === null) {
        out.push(currentRecord(g));
        continue;
      }
      const heard: IpKey[] = [];
      for (const src of asked) if (filterAccepts(g.state, src)) heard.push(src);
      if (heard.length > 0) {
        out.push({ group: g.key, type: GroupRecordType.MODE_IS_INCLUDE, sources: heard });
      }
    }
    return out;
  }

  /** The earliest instant something of `s` is due, or NEVER (older-version timers are the plugin's). */
  nextDue(s: InterfaceGroups): Instant {
    let at = earliest(s.changeAt, s.generalAt);
    for (const g of s.groups.values()) at = earliest(at, g.reportAt);
    return at;
  }
}

function currentRecord(g: GroupEntry): GroupRecord {
  return {
    group: g.key,
    type: g.state.mode === "exclude"
      ? GroupRecordType.MODE_IS_EXCLUDE
      : GroupRecordType.MODE_IS_INCLUDE,
    sources: [...g.state.sources],
  };
}

/**
 * Packs records into reports of at most `room` bytes of records (RFC 3376
 * §4.2.16, RFC 3810 §5.2.15): as many reports as needed; a record too big
 * for one report is split into records with parts of its sources, each in
 * its own report, unless it is MODE_IS_EXCLUDE or CHANGE_TO_EXCLUDE, which
 * keeps as many sources as fit and drops the rest.
 *
 * @param records the records, in order.
 * @param room bytes a report has for records.
 * @param recordLen a record without sources (IGMPv3 8, MLDv2 20).
 * @param sourceLen a source (4 or 16).
 * @returns the records of each report.
 * @example
 * ```ts
 * import { packRecords } from "./multicast_groups.ts";
 * import assert from "node:assert/strict";
 * const big = { type: 5, group: 1, sources: [1, 2, 3, 4, 5] };
 * const reports = packRecords([{ type: 4, group: 2, sources: [] }, big], 24, 8, 4);
 * assert.deepEqual(reports.map((r) => r.map((x) => x.sources.length)), [[0], [4], [1]]);
 * ```
 */
export function packRecords(
  records: readonly GroupRecord[],
  room: number,
  recordLen: number,
  sourceLen: number,
): GroupRecord[][] {
  const perRecord = Math.max(1, Math.floor((room - recordLen) / sourceLen));
  const out: GroupRecord[][] = [];
  let part: GroupRecord[] = [];
  let used = 0;
  const push = (r: GroupRecord) => {
    const size = recordLen + sourceLen * r.sources.length;
    if (part.length > 0 && used + size > room) {
      out.push(part);
      part = [];
      used = 0;
    }
    part.push(r);
    used += size;
  };
  for (const r of records) {
    if (r.sources.length <= perRecord) {
      push(r);
    } else if (
      r.type === GroupRecordType.MODE_IS_EXCLUDE || r.type === GroupRecordType.CHANGE_TO_EXCLUDE
    ) {
      push({ ...r, sources: r.sources.slice(0, perRecord) }); // copy: a small key list
    } else {
      for (let i = 0; i < r.sources.length; i += perRecord) {
        push({ ...r, sources: r.sources.slice(i, i + perRecord) }); // copy: a small key list
      }
    }
  }
  if (part.length > 0) out.push(part);
  return out;
}

/**
 * The link-layer multicast MAC of a group, as a 48-bit number: IPv4
 * 01:00:5e + the low 23 bits (RFC 1112 §6.4), IPv6 33:33 + the low 32 bits
 * (RFC 2464 §7).
 *
 * @example
 * ```ts
 * import { multicastMac } from "./multicast_groups.ts";
 * import { IpAddress } from "../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(multicastMac(0xef810203).toString(16), "1005e010203"); // 239.129.2.3
 * assert.equal(multicastMac(IpAddress.parse("ff02::1:ff00:1")!.key).toString(16), "3333ff000001");
 * ```
 */
export function multicastMac(key: IpKey): number {
  if (typeof key === "number") return 0x01005e000000 + (key & 0x7fffff);
  return 0x333300000000 + (((key.charCodeAt(6) << 16) | key.charCodeAt(7)) >>> 0);
}

/** The earlier of two instants, NEVER being later than any. */
export function earliest(a: Instant, b: Instant): Instant {
  if (a === NEVER) return b;
  if (b === NEVER) return a;
  return a < b ? a : b;
}
