/**
 * What MLD keeps per interface (RFC 3810 §4, §9): the groups listened to,
 * with who holds them, and the pending transmissions (State Change Report
 * retransmissions, answers to queries, MLDv1 compatibility). Only data and
 * small pure helpers: the plugin (`mld.ts`) decides and sends.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { formatIpKey } from "../../wire/ip_address.ts";

/** "Not scheduled", for the instants below. */
export const NEVER = -1;

/** One group on one interface. */
export interface Group {
  /** The group address. */
  readonly key: IpKey;
  /** Its text form. */
  readonly text: string;
  /** Whether MLD ever reports it (RFC 3810 §6: not ff02::1, not scope 0 or 1). */
  readonly reported: boolean;
  /** References the stack holds: all-nodes, one per address for a solicited-node group. */
  stackRefs: number;
  /** References `join` calls hold. */
  userRefs: number;
  /** Left, kept only while its CHANGE_TO_INCLUDE record (or MLDv1 Done) is still to go. */
  leaving: boolean;
  /** State Change Report transmissions still to make (RFC 3810 §6.1), or MLDv1 unsolicited reports. */
  changesLeft: number;
  /** The record type of those transmissions (CHANGE_TO_EXCLUDE on join, CHANGE_TO_INCLUDE on leave). */
  changeType: number;
  /** When the answer to a query for this group goes (RFC 3810 §6.2 rule 3; MLDv1's delay timer), or NEVER. */
  reportAt: Instant;
  /** MLDv1: we sent the last report for it, so we send Done on leaving (RFC 2710 §4). */
  lastReporter: boolean;
}

/** One interface's MLD state. */
export interface InterfaceState {
  /** The interface index. */
  readonly ifindex: number;
  /** Its groups, in join order (leaving ones included until their last record). */
  readonly groups: Map<IpKey, Group>;
  /** When the next State Change Report goes (RFC 3810 §6.1), or NEVER. */
  changeAt: Instant;
  /** When the answer to a General Query goes (the Interface Timer, §6.2), or NEVER. */
  generalAt: Instant;
  /** Until when an MLDv1 querier is present (§8.2.1: MLDv1 mode), or NEVER for MLDv2 mode. */
  v1Until: Instant;
  /** The Robustness Variable in force: ours, or the querier's QRV (§9.1). */
  robustness: number;
  /** The Query Interval in force, µs: 125 s, or the querier's QQI (§9.2). */
  queryInterval: number;
}

/** Whether `key` (a multicast address) is ever reported: RFC 3810 §6 excludes ff02::1 and scopes 0 and 1. */
export function isReported(key: IpKey): boolean {
  const w0 = (key as string).charCodeAt(0);
  const scope = w0 & 0xf;
  if (scope <= 1) return false;
  if (w0 === 0xff02) {
    const k = key as string;
    for (let i = 1; i < 7; i++) if (k.charCodeAt(i) !== 0) return true;
    return k.charCodeAt(7) !== 1;
  }
  return true;
}

/** A new group entry, held by nobody yet. */
export function newGroup(key: IpKey): Group {
  return {
    key,
    text: formatIpKey(key),
    reported: isReported(key),
    stackRefs: 0,
    userRefs: 0,
    leaving: false,
    changesLeft: 0,
    changeType: 0,
    reportAt: NEVER,
    lastReporter: false,
  };
}

/** Whether the interface listens to the group. */
export function isListening(g: Group): boolean {
  return !g.leaving && g.stackRefs + g.userRefs > 0;
}

/** The earliest instant something of `s` is due, or NEVER. */
export function nextDue(s: InterfaceState): Instant {
  let at = earliest(earliest(s.changeAt, s.generalAt), s.v1Until);
  for (const g of s.groups.values()) at = earliest(at, g.reportAt);
  return at;
}

/** The earlier of two instants, NEVER being later than any. */
export function earliest(a: Instant, b: Instant): Instant {
  if (a === NEVER) return b;
  if (b === NEVER) return a;
  return a < b ? a : b;
}
