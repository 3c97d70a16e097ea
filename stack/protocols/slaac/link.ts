/**
 * What the `slaac` plugin keeps per interface (addresses it formed, routers
 * and prefixes it learned, solicitation and advertisement timers) and the
 * environment its parts share.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Counter } from "../../counters.ts";
import type { PluginContext } from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { Ipv6RoutesService, NdpService } from "../../services.ts";
import type { Timer } from "../../timers.ts";
import { IpAddress, type IpKey } from "../../wire/ip_address.ts";
import type { AdvertisedPrefix, SlaacConfig } from "./config.ts";
import type { InterfaceIds } from "./identifiers.ts";

/** An address this plugin formed (link-local or from an autonomous prefix). */
export interface OwnedAddress {
  /** The address. */
  key: IpKey;
  /** Its 16 bytes. */
  bytes: Uint8Array;
  /** CIDR text, `/64`. */
  cidr: string;
  /** The /64 it is in. */
  readonly prefix: IpKey;
  /** Who made it. */
  readonly origin: "link-local" | "autoconf";
  /** DAD_Counter (RFC 7217 §6): attempts after DAD failures. */
  dadCounter: number;
  /** When it becomes invalid (removed); Infinity: never. */
  validUntil: Instant;
  /** When it becomes deprecated; Infinity: never. */
  preferredUntil: Instant;
  /**
   * Formed from an RA while the link-local address was still tentative:
   * not on the interface yet, its DAD waits for the link-local's (RFC 4862
   * §5.4, §5.5).
   */
  held: boolean;
}

/** A prefix learned from Prefix Information options. */
export interface LearnedPrefix {
  /** The prefix, bits past `length` zero. */
  readonly prefix: IpKey;
  /** Its length. */
  readonly length: number;
  /** Until when it is on-link (an `ra` route); 0: not on-link; Infinity: forever. */
  onLinkUntil: Instant;
  /** The address formed from it (autonomous flag), if any. */
  address: OwnedAddress | null;
}

/** A default router learned from Router Advertisements. */
export interface LearnedRouter {
  /** Its link-local address. */
  readonly address: IpKey;
  /** When its lifetime ends. */
  expires: Instant;
}

/** The plugin's state for one interface with a link layer. */
export interface Link {
  /** The interface. */
  readonly iface: NetInterface;
  /** Prefixes advertised on it (router mode when not empty). */
  advertised: AdvertisedPrefix[];
  /** Its link-local address, once formed. */
  linkLocal: OwnedAddress | null;
  /** Default routers, by address. */
  readonly routers: Map<IpKey, LearnedRouter>;
  /** Prefixes, by {@linkcode prefixId}. */
  readonly prefixes: Map<string, LearnedPrefix>;
  /** Router Solicitations sent since the interface came up. */
  solicitations: number;
  /** Whether an RA with a router lifetime arrived (stop soliciting, RFC 4861 §6.3.7). */
  heardRouter: boolean;
  /**
   * Whether a link-local address passed DAD since the link came up: until
   * then no RS leaves and SLAAC addresses are held (RFC 4862 §5.4, §5.5.1).
   */
  linkLocalReady: boolean;
  /** The link-local address is a duplicate with no retry left: no SLAAC here (RFC 4862 §5.4.5). */
  autoconfStopped: boolean;
  /**
   * Brings the link up (link-local address, then RS or RA) at the next
   * poll, not inside the event that announced it: every plugin has seen
   * the interface by then (a DAD plugin booted after this one too).
   */
  readonly upTimer: Timer;
  /** Sends the next Router Solicitation. */
  readonly solicitTimer: Timer;
  /** Sends the next Router Advertisement (router mode). */
  readonly advertiseTimer: Timer;
  /** Unsolicited advertisements still sent at the short initial interval. */
  initialAdvertisements: number;
  /** When the last multicast RA left (MIN_DELAY_BETWEEN_RAS). */
  lastAdvertisement: Instant;
  /** Reachable Time (ms) the last RA gave, 0: none. */
  reachableTime: number;
  /** Retrans Timer (ms) the last RA gave, 0: none. */
  retransTimer: number;
}

/** The counters of the plugin's parts (not the receive drops, which the dispatcher counts). */
export interface SlaacCounters {
  readonly advertisementsIn: Counter;
  readonly solicitationsIn: Counter;
  readonly solicitationsOut: Counter;
  readonly advertisementsOut: Counter;
  readonly noLinkLocal: Counter;
  readonly tooManyRouters: Counter;
  readonly tooManyPrefixes: Counter;
  readonly prefixLinkLocal: Counter;
  readonly prefixBadLifetimes: Counter;
  readonly prefixBadLength: Counter;
  readonly badPrefixOption: Counter;
  readonly badMtuOption: Counter;
  readonly timersUnused: Counter;
  readonly badReachableTime: Counter;
  readonly routeTableFull: Counter;
  readonly addressesFormed: Counter;
  readonly addressesDeprecated: Counter;
  readonly addressesExpired: Counter;
  readonly dadFailed: Counter;
  readonly dadRetries: Counter;
  readonly noInterfaceId: Counter;
  readonly addressesHeld: Counter;
  readonly autoconfStopped: Counter;
}

/** Every counter name of the plugin, for the manifest. */
export const SLAAC_COUNTERS: readonly string[] = [
  "rx.router_advertisements",
  "rx.router_solicitations",
  "rx.ra_ignored",
  "rx.rs_ignored",
  "rx.no_link_layer",
  "rx.too_many_routers",
  "rx.too_many_prefixes",
  "rx.prefix_link_local",
  "rx.prefix_bad_lifetimes",
  "rx.prefix_bad_length",
  "rx.bad_prefix_option",
  "rx.bad_mtu_option",
  "rx.timers_unused",
  "rx.bad_reachable_time",
  "rx.route_table_full",
  "tx.router_solicitations",
  "tx.router_advertisements",
  "tx.no_link_local",
  "addr.formed",
  "addr.deprecated",
  "addr.expired",
  "addr.dad_failed",
  "addr.dad_retries",
  "addr.no_interface_id",
  "addr.held",
  "addr.autoconf_stopped",
];

/** Makes the counters. */
export function slaacCounters(ctx: PluginContext): SlaacCounters {
  return {
    advertisementsIn: ctx.counter("rx.router_advertisements"),
    solicitationsIn: ctx.counter("rx.router_solicitations"),
    solicitationsOut: ctx.counter("tx.router_solicitations"),
    advertisementsOut: ctx.counter("tx.router_advertisements"),
    noLinkLocal: ctx.counter("tx.no_link_local"),
    tooManyRouters: ctx.counter("rx.too_many_routers"),
    tooManyPrefixes: ctx.counter("rx.too_many_prefixes"),
    prefixLinkLocal: ctx.counter("rx.prefix_link_local"),
    prefixBadLifetimes: ctx.counter("rx.prefix_bad_lifetimes"),
    prefixBadLength: ctx.counter("rx.prefix_bad_length"),
    badPrefixOption: ctx.counter("rx.bad_prefix_option"),
    badMtuOption: ctx.counter("rx.bad_mtu_option"),
    timersUnused: ctx.counter("rx.timers_unused"),
    badReachableTime: ctx.counter("rx.bad_reachable_time"),
    routeTableFull: ctx.counter("rx.route_table_full"),
    addressesFormed: ctx.counter("addr.formed"),
    addressesDeprecated: ctx.counter("addr.deprecated"),
    addressesExpired: ctx.counter("addr.expired"),
    dadFailed: ctx.counter("addr.dad_failed"),
    dadRetries: ctx.counter("addr.dad_retries"),
    noInterfaceId: ctx.counter("addr.no_interface_id"),
    addressesHeld: ctx.counter("addr.held"),
    autoconfStopped: ctx.counter("addr.autoconf_stopped"),
  };
}

/** What the plugin's parts share. */
export interface SlaacEnv {
  readonly ctx: PluginContext;
  readonly config: SlaacConfig;
  readonly ids: InterfaceIds;
  readonly routes: Ipv6RoutesService;
  readonly c: SlaacCounters;
  /** The NDP plugin's `neighbor.ipv6` (RA timers, senders' link addresses), when loaded. */
  neighbors: NdpService | undefined;
  /** Re-arms the lifetime timer after lifetimes changed. */
  rearmLifetimes(): void;
}

/** The key of a prefix in {@linkcode Link.prefixes}. */
export function prefixId(prefix: IpKey, length: number): string {
  return `${prefix as string}/${length}`;
}

/** A new owned-address record for `key`. */
export function ownedAddress(
  key: IpKey,
  prefix: IpKey,
  origin: OwnedAddress["origin"],
  lifetimes: { readonly validUntil: Instant; readonly preferredUntil: Instant },
): OwnedAddress {
  const a = IpAddress.fromKey(key);
  return {
    key,
    bytes: a.bytes(),
    cidr: `${a}/64`,
    prefix,
    origin,
    dadCounter: 0,
    validUntil: lifetimes.validUntil,
    preferredUntil: lifetimes.preferredUntil,
    held: false,
  };
}

/** Points an owned address at a new key (a DAD retry). */
export function rekey(a: OwnedAddress, key: IpKey): void {
  const addr = IpAddress.fromKey(key);
  a.key = key;
  a.bytes = addr.bytes();
  a.cidr = `${addr}/64`;
}
