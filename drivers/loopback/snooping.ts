/**
 * IGMP/MLD snooping for the virtual {@linkcode Switch} (RFC 4541): group
 * memberships learned per port from the reports and leaves hosts send, router
 * ports learned from queries, PIM and multicast router discovery, and a
 * querier on the switch when no router is heard.
 *
 * @module
 */
import type { Duration, Instant } from "../../stack/clock.ts";
import { SECOND } from "../../stack/clock.ts";
import { groupBytes, igmpQueryFrame, mldQueryFrame, snoop } from "./_snoop_wire.ts";
import type { QueryFields } from "./_snoop_wire.ts";

/**
 * Options of IGMP/MLD snooping (`SwitchOptions.snooping`). The timers are
 * RFC 3376 §8 / RFC 3810 §9 defaults.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import type { SnoopingOptions } from "./snooping.ts";
 * import assert from "node:assert/strict";
 * const options: SnoopingOptions = { querier: false, robustness: 3 };
 * const sw = new VirtualNetwork().switch({ snooping: options });
 * assert.equal(sw.snooping?.querying, false);
 * ```
 */
export interface SnoopingOptions {
  /** Send general queries when no other querier is heard (default true). */
  readonly querier?: boolean;
  /** Robustness Variable, 1-7 (default 2). */
  readonly robustness?: number;
  /** Query Interval (default 125 s). */
  readonly queryInterval?: Duration;
  /** Query Response Interval, the max response time in queries (default 10 s). */
  readonly queryResponseInterval?: Duration;
  /** Last Member Query Interval, between group-specific queries after a leave (default 1 s). */
  readonly lastMemberQueryInterval?: Duration;
  /** Most groups tracked at once (default 1024); reports beyond are counted and ignored. */
  readonly maxGroups?: number;
}

/**
 * Counters of IGMP/MLD snooping.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import assert from "node:assert/strict";
 * const sw = new VirtualNetwork().switch({ snooping: { querier: false } });
 * assert.equal(sw.snooping?.stats().pruned, 0);
 * ```
 */
export interface SnoopingStats {
  /** Group joins learned from reports (IGMPv1/v2/v3, MLDv1/v2). */
  joins: number;
  /** Leaves seen (IGMPv2 leave, MLD done, v3 records INCLUDE {}). */
  leaves: number;
  /** Queries heard from other queriers. */
  queriesHeard: number;
  /** Queries the switch sent (general and group-specific, IGMP and MLD). */
  queriesSent: number;
  /** Multicast data frames sent only to member and router ports. */
  forwarded: number;
  /** Copies not sent to a port without members (the point of snooping). */
  pruned: number;
  /** Multicast data frames with no member and no router port: dropped. */
  dropped: number;
  /** IGMP/MLD messages that were truncated or failed their checksum (flooded, not learned). */
  malformed: number;
  /** Joins ignored because `maxGroups` groups were tracked. */
  tableFull: number;
}

/**
 * A group and the ports with members, from {@linkcode Snooping.groups}.
 *
 * @example
 * ```ts
 * import type { SnoopedGroup } from "./snooping.ts";
 * import assert from "node:assert/strict";
 * const g: SnoopedGroup = { group: "239.1.2.3", ports: [1, 3] };
 * assert.deepEqual(g.ports, [1, 3]);
 * ```
 */
export interface SnoopedGroup {
  /** The group address: `239.1.2.3` or `ff05::1:3`. */
  readonly group: string;
  /** Indexes of the ports with live members, ascending. */
  readonly ports: readonly number[];
}

/** What snooping needs from its switch. */
export interface SnoopingPorts {
  /** Number of ports. */
  count(): number;
  /** Sends a copy of `frame` out of port `port`. */
  send(port: number, frame: Uint8Array): void;
  /** The virtual time. */
  now(): Instant;
}

interface PendingQuery {
  at: Instant;
  group: string;
  port: number;
  left: number;
}

function positiveInteger(name: string, v: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!(Number.isInteger(v) && v > 0 && v <= max)) {
    throw new RangeError(
      `Cannot create switch: snooping ${name} must be an integer in 1..${max}, got ${v}`,
    );
  }
  return v;
}

/**
 * The snooping state of one switch, made when `SwitchOptions.snooping` is
 * set and reached as `switch.snooping`. It is a network node: its querier
 * runs on the network's virtual clock. While it queries, the network always
 * has a deadline, so run such networks with `runFor` (or `runUntilIdle` with
 * `maxTime`).
 *
 * Forwarding (RFC 4541 §2.1): queries are flooded, and a query from a
 * non-zero source (or PIM, or multicast router discovery) marks its port a
 * router port for the other querier present interval; `setRouterPort`
 * configures one for good (an uplink: two switches that both query from
 * 0.0.0.0 do not take each other for routers). Reports and leaves go only to
 * router ports (so hosts do not suppress each other's reports); data to
 * 224.0.0.0/24 and ff02::/16, and non-IP multicast, is flooded; other
 * multicast data goes to ports with members of its group and to router
 * ports. Memberships live for the Group Membership Interval (robustness ×
 * query interval + query response interval); a leave shortens a port's
 * membership to robustness × last member query interval, and the querier
 * sends group-specific queries out of that port.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { SECOND } from "../../stack/clock.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * const sw = net.switch({ snooping: true });
 * sw.port();
 * net.runFor(1 * SECOND);
 * assert.equal(sw.snooping?.stats().queriesSent, 2); // IGMPv3 and MLDv2 general queries
 * assert.deepEqual(sw.snooping?.groups(), []);
 * ```
 */
export class Snooping {
  readonly #ports: SnoopingPorts;
  readonly #mac: Uint8Array;
  readonly #querier: boolean;
  readonly #robustness: number;
  readonly #queryInterval: Duration;
  readonly #responseInterval: Duration;
  readonly #lastMemberInterval: Duration;
  readonly #maxGroups: number;
  /** group → port → expiry. */
  readonly #members = new Map<string, Map<number, Instant>>();
  /** port → expiry of its router status (Infinity: configured, RFC 4541 §2.1.1 1a). */
  readonly #routers = new Map<number, Instant>();
  readonly #pending: PendingQuery[] = [];
  #otherQuerierUntil: Instant = -1;
  #nextQuery: Instant;
  #startupLeft: number;
  readonly #stats: SnoopingStats = {
    joins: 0,
    leaves: 0,
    queriesHeard: 0,
    queriesSent: 0,
    forwarded: 0,
    pruned: 0,
    dropped: 0,
    malformed: 0,
    tableFull: 0,
  };

  /**
   * @internal Made by the switch.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(ports: SnoopingPorts, mac: Uint8Array, options: SnoopingOptions) {
    this.#ports = ports;
    this.#mac = mac;
    this.#querier = options.querier ?? true;
    this.#robustness = positiveInteger("robustness", options.robustness ?? 2, 7);
    this.#queryInterval = positiveInteger("queryInterval", options.queryInterval ?? 125 * SECOND);
    this.#responseInterval = positiveInteger(
      "queryResponseInterval",
      options.queryResponseInterval ?? 10 * SECOND,
    );
    if (this.#responseInterval >= this.#queryInterval) {
      throw new RangeError(
        "Cannot create switch: snooping queryResponseInterval must be below queryInterval",
      );
    }
    this.#lastMemberInterval = positiveInteger(
      "lastMemberQueryInterval",
      options.lastMemberQueryInterval ?? 1 * SECOND,
    );
    this.#maxGroups = positiveInteger("maxGroups", options.maxGroups ?? 1024);
    this.#nextQuery = ports.now();
    // RFC 3376 §8.6-8.7: Startup Query Count queries, a quarter interval apart.
    this.#startupLeft = this.#robustness;
  }

  /** Whether the switch is the querier now (enabled, and no other querier heard lately). */
  get querying(): boolean {
    return this.#querier && this.#ports.now() >= this.#otherQuerierUntil;
  }

  /** Group Membership Interval (RFC 3376 §8.4). */
  get #membershipInterval(): Duration {
    return this.#robustness * this.#queryInterval + this.#responseInterval;
  }

  /** Other Querier Present Interval (RFC 3376 §8.5), also the life of a router port. */
  get #otherQuerierInterval(): Duration {
    return this.#robustness * this.#queryInterval + Math.floor(this.#responseInterval / 2);
  }

  /** The groups with live members, in the order first learned. */
  groups(): SnoopedGroup[] {
    const now = this.#ports.now();
    const out: SnoopedGroup[] = [];
    for (const [group, ports] of this.#members) {
      const live = [...ports].filter(([, until]) => until > now).map(([p]) => p);
      if (live.length > 0) out.push({ group, ports: live.sort((a, b) => a - b) });
    }
    return out;
  }

  /** Indexes of the ports where a router was heard lately, ascending. */
  routerPorts(): number[] {
    const now = this.#ports.now();
    return [...this.#routers].filter(([, until]) => until > now).map(([p]) => p).sort((a, b) =>
      a - b
    );
  }

  /**
   * Makes `port` a router port for good (`on`), or drops it (RFC 4541
   * §2.1.1: a configured list). Use it for an uplink to another switch or
   * to a router that does not query: reports and every group's data then
   * go there too.
   *
   * @throws {RangeError} If `port` is not a port index of the switch.
   *
   * @example
   * ```ts
   * import { VirtualNetwork } from "./network.ts";
   * import assert from "node:assert/strict";
   * const sw = new VirtualNetwork().switch({ snooping: { querier: false } });
   * sw.port();
   * sw.snooping!.setRouterPort(0);
   * assert.deepEqual(sw.snooping!.routerPorts(), [0]);
   * sw.snooping!.setRouterPort(0, false);
   * assert.deepEqual(sw.snooping!.routerPorts(), []);
   * ```
   */
  setRouterPort(port: number, on = true): void {
    if (!(Number.isInteger(port) && port >= 0 && port < this.#ports.count())) {
      throw new RangeError(
        `Cannot set router port ${port}: the switch has ${this.#ports.count()} ports`,
      );
    }
    if (on) this.#routers.set(port, Infinity);
    else this.#routers.delete(port);
  }

  /** A snapshot of the counters. */
  stats(): SnoopingStats {
    return { ...this.#stats };
  }

  /**
   * @internal Decides where a multicast frame from port `from` goes.
   * Returns `false` to flood it; otherwise fills `out` with the egress ports
   * (possibly none). Reads `frame` only while called.
   */
  route(frame: Uint8Array, from: number, out: number[]): boolean {
    const s = snoop(frame);
    const now = this.#ports.now();
    const st = this.#stats;
    switch (s.kind) {
      case "other":
        return false;
      case "malformed":
        st.malformed++;
        return false;
      case "router":
        this.#learnRouter(from, now);
        return false;
      case "query":
        st.queriesHeard++;
        if (s.fromRouter) {
          this.#learnRouter(from, now);
          this.#otherQuerierUntil = now + this.#otherQuerierInterval;
        }
        return false;
      case "report":
        for (const g of s.joins) this.#join(g, from, now);
        for (const g of s.leaves) this.#leave(g, from, now);
        this.#routerPortsInto(out, from, now);
        return true;
      case "data": {
        if (s.linkLocal) return false;
        const members = this.#members.get(s.group);
        const count = this.#ports.count();
        for (let p = 0; p < count; p++) {
          if (p === from) continue;
          const m = members?.get(p);
          const r = this.#routers.get(p);
          if ((m !== undefined && m > now) || (r !== undefined && r > now)) out.push(p);
          else st.pruned++;
        }
        if (out.length > 0) st.forwarded++;
        else st.dropped++;
        return true;
      }
    }
  }

  #learnRouter(port: number, now: Instant): void {
    if (this.#routers.get(port) !== Infinity) {
      this.#routers.set(port, now + this.#otherQuerierInterval);
    }
  }

  #routerPortsInto(out: number[], from: number, now: Instant): void {
    for (const [p, until] of this.#routers) if (p !== from && until > now) out.push(p);
    out.sort((a, b) => a - b);
  }

  #join(group: string, port: number, now: Instant): void {
    this.#stats.joins++;
    // Link-local groups are flooded anyway: no table entry for them.
    if (group.startsWith("224.0.0.") || group.startsWith("ff02:")) return;
    let ports = this.#members.get(group);
    if (ports === undefined) {
      if (this.#members.size >= this.#maxGroups) this.#expire(now);
      if (this.#members.size >= this.#maxGroups) {
        this.#stats.tableFull++;
        return;
      }
      ports = new Map();
      this.#members.set(group, ports);
    }
    ports.set(port, now + this.#membershipInterval);
    // A report answers any group-specific query pending for this port.
    this.#cancelPending(group, port);
  }

  #leave(group: string, port: number, now: Instant): void {
    this.#stats.leaves++;
    const ports = this.#members.get(group);
    const until = ports?.get(port);
    if (ports === undefined || until === undefined || until <= now) return;
    // RFC 3376 §6.4.2: last member query time, then the port is pruned unless
    // someone else on it answers the group-specific queries.
    const lastMember = now + this.#robustness * this.#lastMemberInterval;
    if (until > lastMember) ports.set(port, lastMember);
    if (this.querying) {
      this.#cancelPending(group, port);
      if (this.#pending.length < this.#maxGroups) {
        this.#pending.push({ at: now, group, port, left: this.#robustness });
      }
    }
  }

  #cancelPending(group: string, port: number): void {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const q = this.#pending[i]!;
      if (q.group === group && q.port === port) this.#pending.splice(i, 1);
    }
  }

  /** Forgets expired memberships and router ports. */
  #expire(now: Instant): void {
    for (const [group, ports] of this.#members) {
      for (const [p, until] of ports) if (until <= now) ports.delete(p);
      if (ports.size === 0) this.#members.delete(group);
    }
    for (const [p, until] of this.#routers) if (until <= now) this.#routers.delete(p);
  }

  /** The next instant the querier has work, if it queries. */
  pollAt(_now: Instant): Instant | undefined {
    if (!this.#querier) return undefined;
    let next = Math.max(this.#nextQuery, this.#otherQuerierUntil);
    for (const q of this.#pending) if (q.at < next) next = q.at;
    return next;
  }

  /** Sends the queries that are due. */
  poll(now: Instant): void {
    if (!this.#querier) return;
    if (now < this.#otherQuerierUntil) {
      // Another querier is active: its queries do the work (RFC 3376 §6.6.2).
      this.#pending.length = 0;
      return;
    }
    this.#expire(now);
    const fields: QueryFields = {
      maxResponseMs: this.#responseInterval / 1000,
      robustness: this.#robustness,
      intervalSeconds: Math.round(this.#queryInterval / SECOND),
    };
    if (now >= this.#nextQuery) {
      this.#sendAll(igmpQueryFrame(this.#mac, undefined, fields));
      this.#sendAll(mldQueryFrame(this.#mac, undefined, fields));
      if (this.#startupLeft > 1) {
        this.#startupLeft--;
        this.#nextQuery = now + Math.floor(this.#queryInterval / 4);
      } else {
        this.#nextQuery = now + this.#queryInterval;
      }
    }
    const specific: QueryFields = {
      ...fields,
      maxResponseMs: this.#lastMemberInterval / 1000,
    };
    for (let i = 0; i < this.#pending.length;) {
      const q = this.#pending[i]!;
      if (q.at > now) {
        i++;
        continue;
      }
      const group = groupBytes(q.group);
      const frame = group.length === 4
        ? igmpQueryFrame(this.#mac, group, specific)
        : mldQueryFrame(this.#mac, group, specific);
      if (q.port < this.#ports.count()) this.#ports.send(q.port, frame);
      this.#stats.queriesSent++;
      if (--q.left > 0) {
        q.at = now + this.#lastMemberInterval;
        i++;
      } else {
        this.#pending.splice(i, 1);
      }
    }
  }

  #sendAll(frame: Uint8Array): void {
    this.#stats.queriesSent++;
    const count = this.#ports.count();
    for (let p = 0; p < count; p++) this.#ports.send(p, frame);
  }
}
